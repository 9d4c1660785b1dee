//! The admin tool's pages.

use askama::Template;
use tunnus_i18n::Tr;

use super::Nav;

#[derive(Template)]
#[template(path = "admin_index.html")]
pub struct AdminIndexPage {
    pub tr: Tr,
    pub nav: Nav,
    /// (id, name)
    pub organizations: Vec<(String, String)>,
    pub platform: bool,
    pub csrf: String,
    /// A message after a platform action (e.g. a refused organization name).
    pub notice: Option<String>,
}

impl AdminIndexPage {
    pub fn nav(&self) -> Nav {
        self.nav.clone()
    }
}

#[derive(Template)]
#[template(path = "admin_org.html")]
pub struct AdminOrgPage {
    pub tr: Tr,
    pub nav: Nav,
    pub csrf: String,
    pub org_id: String,
    pub org_name: String,
    /// (email, kind, role)
    pub members: Vec<(String, String, String)>,
    /// (id, name)
    pub groups: Vec<(String, String)>,
    pub search: String,
    pub page: i64,
    pub has_more: bool,
    /// Pending invitations: (id, email, kind).
    pub pending: Vec<(String, String, String)>,
    /// The organization's licenses, described.
    pub licenses: Vec<String>,
    /// Platform administrators grant and end licenses here: the catalogue's names.
    pub catalogue: Option<Vec<String>>,
    pub notice: Option<String>,
}

impl AdminOrgPage {
    pub fn nav(&self) -> Nav {
        self.nav.clone()
    }
}

#[derive(Template)]
#[template(path = "admin_report.html")]
pub struct AdminReportPage {
    pub tr: Tr,
    pub nav: Nav,
    pub org_id: String,
    pub report: crate::services::invitations::BulkReport,
}

impl AdminReportPage {
    pub fn nav(&self) -> Nav {
        self.nav.clone()
    }
}

#[derive(Template)]
#[template(path = "admin_audit.html")]
pub struct AdminAuditPage {
    pub tr: Tr,
    pub nav: Nav,
    /// at, kind, actor, subject, ip, request id, detail
    pub events: Vec<Vec<String>>,
}

impl AdminAuditPage {
    pub fn nav(&self) -> Nav {
        self.nav.clone()
    }
}

#[derive(Template)]
#[template(path = "admin_clients.html")]
pub struct AdminClientsPage {
    pub tr: Tr,
    pub nav: Nav,
    /// id, name, kind, redirect URIs, grants, required entitlement
    pub clients: Vec<Vec<String>>,
}

impl AdminClientsPage {
    pub fn nav(&self) -> Nav {
        self.nav.clone()
    }
}
