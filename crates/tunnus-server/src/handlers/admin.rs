//! The admin tool (server-rendered, no JavaScript): organizations an admin
//! manages, their members, and the bulk invite dialog. Every action is
//! authorized on the server: an organization admin can act only on their own
//! organizations; platform administrators on all.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use tunnus_core::invitation::InvitationKind;
use tunnus_store::orgs;

use super::{login_redirect, nav, origin, signed_in, tr};
use crate::error::AppError;
use crate::http::csrf::Csrf;
use crate::pages::{AdminIndexPage, AdminOrgPage, AdminReportPage, html};
use crate::services::invitations;
use crate::state::AppState;

const PAGE_SIZE: i64 = 50;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin", web::get().to(index))
        .route("/admin/org", web::get().to(organization))
        .route("/admin/invite", web::post().to(invite))
        .route("/admin/member", web::post().to(member))
        .route("/admin/audit", web::get().to(audit))
        .route("/admin/invitation/resend", web::post().to(resend_invitation))
        .route("/admin/group", web::post().to(create_group))
        .route("/admin/invitation/revoke", web::post().to(revoke_invitation));
}

async fn admin_user(req: &HttpRequest, state: &AppState) -> Result<Option<tunnus_core::User>, AppError> {
    Ok(signed_in(req, state).await?.map(|(_, u)| u))
}

/// The signed-in administrator of `org`, for an action on it; anyone else is refused.
async fn admin_of(req: &HttpRequest, state: &AppState, org: &str) -> Result<tunnus_core::User, AppError> {
    let Some(user) = admin_user(req, state).await? else { return Err(AppError::Forbidden) };
    if !invitations::may_administer(state, &user, org).await? {
        return Err(AppError::Forbidden);
    }
    Ok(user)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NoticeQuery {
    notice: String,
}

async fn index(
    req: HttpRequest,
    state: web::Data<AppState>,
    csrf: Csrf,
    query: web::Query<NoticeQuery>,
) -> Result<HttpResponse, AppError> {
    let Some(user) = admin_user(&req, &state).await? else {
        return Ok(login_redirect("/admin"));
    };
    let uid = user.id.to_string();
    let (platform, mine) =
        state.db.read(move |c| Ok((orgs::is_platform_admin(c, &uid)?, orgs::administered_by(c, &uid)?))).await?;
    let organizations = if platform { state.db.read(orgs::list_orgs).await? } else { mine };
    if organizations.is_empty() && !platform {
        return Err(AppError::Forbidden);
    }
    let tr = tr(&req);
    let notice = super::admin_platform::notice_key(&query.notice).map(|k| tr.t(k));
    html(&AdminIndexPage {
        tr,
        nav: nav(Some(&user), &csrf),
        organizations,
        platform,
        csrf: csrf.token().to_owned(),
        notice,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct OrgQuery {
    id: String,
    q: String,
    page: i64,
    notice: String,
}

async fn organization(
    req: HttpRequest,
    state: web::Data<AppState>,
    csrf: Csrf,
    query: web::Query<OrgQuery>,
) -> Result<HttpResponse, AppError> {
    let Some(user) = admin_user(&req, &state).await? else {
        return Ok(login_redirect("/admin"));
    };
    if !invitations::may_administer(&state, &user, &query.id).await? {
        return Err(AppError::Forbidden);
    }
    let (id, search, page) =
        (query.id.clone(), query.q.chars().take(100).collect::<String>(), query.page.clamp(0, 100_000));
    let s = search.clone();
    let now = state.clock.now();
    let uid = user.id.to_string();
    let (org, members, groups, pending, licenses, catalogue) = state
        .db
        .read(move |c| {
            let catalogue = if orgs::is_platform_admin(c, &uid)? {
                Some(orgs::entitlement_catalogue(c)?.into_iter().map(|(name, _, _)| name).collect())
            } else {
                None
            };
            Ok((
                orgs::find_org(c, &id)?,
                orgs::members(c, &id, &s, page * PAGE_SIZE, PAGE_SIZE + 1)?,
                orgs::groups_of(c, &id)?,
                tunnus_store::invitations::pending_for_org(c, &id, now)?,
                orgs::licenses_of(c, &id)?,
                catalogue,
            ))
        })
        .await?;
    let Some((org_id, org_name)) = org else { return Err(AppError::NotFound) };
    let has_more = members.len() as i64 > PAGE_SIZE;
    let tr = tr(&req);
    let notice = super::admin_platform::notice_key(&query.notice).map(|k| tr.t(k));
    html(&AdminOrgPage {
        tr,
        notice,
        catalogue,
        nav: nav(Some(&user), &csrf),
        csrf: csrf.token().to_owned(),
        org_id,
        org_name,
        members: members.into_iter().take(PAGE_SIZE as usize).collect(),
        groups,
        search,
        page,
        has_more,
        pending: pending.into_iter().map(|i| (i.id, i.email, i.kind.as_str().to_owned())).collect(),
        licenses: licenses
            .into_iter()
            .map(|(e, external, until)| {
                let mut text = e;
                if external {
                    text.push_str(" (+external)");
                }
                if let Some(u) = until {
                    // Shown as the last day it is valid (the stored end is exclusive).
                    text.push_str(&format!(" → {}", (u - time::Duration::seconds(1)).date()));
                }
                text
            })
            .collect(),
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct InviteForm {
    csrf: String,
    org: String,
    kind: String,
    group: String,
    emails: String,
}

async fn invite(
    req: HttpRequest,
    state: web::Data<AppState>,
    csrf: Csrf,
    form: web::Form<InviteForm>,
) -> Result<HttpResponse, AppError> {
    csrf.verify(&form.csrf)?;
    let Some(user) = admin_user(&req, &state).await? else {
        return Ok(login_redirect("/admin"));
    };
    let form = form.into_inner();
    let kind = InvitationKind::parse(&form.kind).ok_or(AppError::BadRequest)?;
    let group = (kind == InvitationKind::Group).then_some(form.group.clone());
    if kind == InvitationKind::Group && form.group.is_empty() {
        return Err(AppError::BadRequest);
    }
    let tr = tr(&req);
    let report =
        invitations::invite_many(&state, &user, &form.org, kind, group, &form.emails, tr, origin(&req, &state)).await?;
    html(&AdminReportPage { tr, nav: nav(Some(&user), &csrf), org_id: form.org, report })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct MemberForm {
    csrf: String,
    org: String,
    email: String,
    action: String,
}

/// Back to an organization's admin page, with an optional notice code
/// (see `admin_platform::notice_key`).
pub(super) fn org_page(org: &str, notice: Option<&str>) -> HttpResponse {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("id", org);
    if let Some(n) = notice {
        q.append_pair("notice", n);
    }
    super::see_other(format!("/admin/org?{}", q.finish()))
}

fn back_to(org: &str) -> HttpResponse {
    org_page(org, None)
}

/// Remove a member or change their role.
async fn member(
    req: HttpRequest,
    state: web::Data<AppState>,
    csrf: Csrf,
    form: web::Form<MemberForm>,
) -> Result<HttpResponse, AppError> {
    csrf.verify(&form.csrf)?;
    let user = admin_of(&req, &state, &form.org).await?;
    let result = match form.action.as_str() {
        "remove" => crate::services::orgs::remove_member(&state.db, &form.org, &form.email).await,
        "make-admin" => {
            crate::services::orgs::set_role(&state.db, &form.org, &form.email, tunnus_core::access::Role::Admin).await
        }
        "make-member" => {
            crate::services::orgs::set_role(&state.db, &form.org, &form.email, tunnus_core::access::Role::Member).await
        }
        _ => return Err(AppError::BadRequest),
    };
    match result {
        Ok(()) => {
            let (actor, now, origin, detail) = (
                user.id.to_string(),
                state.clock.now(),
                origin(&req, &state),
                serde_json::json!({"organization": form.org, "member": form.email, "action": form.action}),
            );
            state
                .db
                .write(move |c| {
                    crate::services::audit::record(c, "organization.member_changed", Some(&actor), &origin, detail, now)
                })
                .await?;
            Ok(back_to(&form.org))
        }
        Err(crate::services::orgs::OrgError::Store(e)) => Err(e.into()),
        Err(_) => Err(AppError::NotFound),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RevokeForm {
    csrf: String,
    org: String,
    id: String,
}

async fn revoke_invitation(
    req: HttpRequest,
    state: web::Data<AppState>,
    csrf: Csrf,
    form: web::Form<RevokeForm>,
) -> Result<HttpResponse, AppError> {
    csrf.verify(&form.csrf)?;
    let user = admin_of(&req, &state, &form.org).await?;
    let (id, org, now) = (form.id.clone(), form.org.clone(), state.clock.now());
    let (actor, origin) = (user.id.to_string(), origin(&req, &state));
    let revoked = state
        .db
        .write(move |c| {
            // Only an invitation of this very organization.
            let Some(inv) = tunnus_store::invitations::find(c, &id)? else { return Ok(false) };
            if inv.organization_id != org {
                return Ok(false);
            }
            let done =
                tunnus_store::invitations::decide(c, &id, tunnus_core::invitation::InvitationStatus::Revoked, now)?;
            crate::services::audit::record(
                c,
                "invitation.revoked",
                Some(&actor),
                &origin,
                serde_json::json!({"invitation": id}),
                now,
            )?;
            Ok(done)
        })
        .await?;
    if !revoked {
        return Err(AppError::NotFound);
    }
    Ok(back_to(&form.org))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct AuditQuery {
    org: String,
}

/// The audit trail: an organization's (events about its members or naming
/// it) for its admins; everything for platform administrators.
async fn audit(
    req: HttpRequest,
    state: web::Data<AppState>,
    csrf: Csrf,
    q: web::Query<AuditQuery>,
) -> Result<HttpResponse, AppError> {
    let Some(user) = admin_user(&req, &state).await? else {
        return Ok(login_redirect("/admin"));
    };
    let uid = user.id.to_string();
    let platform = state.db.read(move |c| orgs::is_platform_admin(c, &uid)).await?;
    let org = q.org.clone();
    let scoped = if org.is_empty() {
        if !platform {
            return Err(AppError::Forbidden);
        }
        None
    } else {
        if !invitations::may_administer(&state, &user, &org).await? {
            return Err(AppError::Forbidden);
        }
        Some(org.clone())
    };
    let rows = state
        .db
        .read(move |c| match &scoped {
            None => tunnus_store::audit::recent(c, None, None, 200),
            Some(org) => {
                let people = orgs::member_ids(c, org)?;
                tunnus_store::audit::recent(c, Some(&people), Some(org), 200)
            }
        })
        .await?;
    let events = rows
        .into_iter()
        .map(|r| {
            vec![
                r.at.to_string(),
                r.kind,
                r.actor.unwrap_or_default(),
                r.subject.unwrap_or_default(),
                r.ip.unwrap_or_default(),
                r.request_id.unwrap_or_default(),
                r.detail,
            ]
        })
        .collect();
    html(&crate::pages::AdminAuditPage { tr: tr(&req), nav: nav(Some(&user), &csrf), events })
}

async fn resend_invitation(
    req: HttpRequest,
    state: web::Data<AppState>,
    csrf: Csrf,
    form: web::Form<RevokeForm>,
) -> Result<HttpResponse, AppError> {
    csrf.verify(&form.csrf)?;
    let user = admin_of(&req, &state, &form.org).await?;
    if !invitations::resend(&state, Some(user.id.to_string()), &form.org, &form.id, tr(&req), origin(&req, &state))
        .await?
    {
        return Err(AppError::NotFound);
    }
    Ok(back_to(&form.org))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct GroupForm {
    csrf: String,
    org: String,
    name: String,
}

async fn create_group(
    req: HttpRequest,
    state: web::Data<AppState>,
    csrf: Csrf,
    form: web::Form<GroupForm>,
) -> Result<HttpResponse, AppError> {
    csrf.verify(&form.csrf)?;
    admin_of(&req, &state, &form.org).await?;
    match crate::services::orgs::create_group(&state.db, &form.org, &form.name, state.clock.now()).await {
        Ok(_) => Ok(back_to(&form.org)),
        Err(crate::services::orgs::OrgError::Store(e)) => Err(e.into()),
        Err(_) => Err(AppError::BadRequest),
    }
}
