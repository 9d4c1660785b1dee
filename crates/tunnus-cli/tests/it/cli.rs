//! The `tunnus` binary end to end on a scratch SQLite data directory:
//! organizations, memberships, groups, licenses and `user show`; and the
//! legacy import on both databases (`cli/legacy.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};

use tunnus_core::country::Country;
use tunnus_core::{Clock, Email, SystemClock, User, UserId, UserStatus};
use tunnus_store::{Db, DbConfig, users};

/// Runs `tunnus ARGS` with its data directory in `dir`.
fn tunnus(dir: &Path, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tunnus"));
    for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("TUNNUS_")) {
        command.env_remove(key);
    }
    command.args(args).current_dir(dir).env("TUNNUS_DATA_DIR", dir).env("TUNNUS_LOG__FILTER", "off").output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs a command that must succeed; returns its output.
fn ok(dir: &Path, args: &[&str]) -> String {
    let o = tunnus(dir, args);
    assert!(o.status.success(), "tunnus {args:?} failed:\n{}{}", stdout(&o), stderr(&o));
    stdout(&o)
}

/// Runs a command that must fail; returns its error message.
fn fails(dir: &Path, args: &[&str]) -> String {
    let o = tunnus(dir, args);
    assert!(!o.status.success(), "tunnus {args:?} should have failed:\n{}", stdout(&o));
    let err = stderr(&o);
    assert!(err.contains("tunnus: "), "tunnus {args:?}: {err}");
    err
}

/// A verified identity, stored directly (sign-up needs the web flow).
fn seed_user(dir: &Path, email: &str) {
    let db = Db::connect(&DbConfig::new(format!("sqlite://{}", dir.join("tunnus.db").display()))).unwrap();
    db.migrate().unwrap();
    let now = SystemClock.now();
    let user = User {
        id: UserId::new_v7(),
        email: Email::parse(email).unwrap(),
        email_verified_at: Some(now),
        password_hash: None,
        given_name: "Aino".into(),
        family_name: "Virtanen".into(),
        country: Country::parse("FI").unwrap(),
        preferred_language: None,
        status: UserStatus::Active,
        created_at: now,
        updated_at: now,
    };
    db.write_blocking(|c| users::insert(c, &user)).unwrap();
}

#[test]
fn organizations_memberships_groups_and_licenses() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    seed_user(dir, "user@example.com");

    ok(dir, &["org", "create", "Acme"]);
    let err = fails(dir, &["org", "create", "Acme"]);
    assert!(err.contains("exists"), "{err}");
    let err = fails(dir, &["org", "create", "   "]);
    assert!(err.contains("1-100 characters"), "{err}");

    ok(dir, &["org", "add-member", "Acme", "USER@EXAMPLE.COM", "--admin"]);
    let err = fails(dir, &["org", "add-member", "Acme", "user@example.com", "--external"]);
    assert!(err.contains("already an internal member of Acme"), "{err}");
    let err = fails(dir, &["org", "add-member", "Acme", "nobody@example.com"]);
    assert!(err.contains("no identity"), "{err}");
    let err = fails(dir, &["org", "add-member", "Nowhere", "user@example.com"]);
    assert!(err.contains("no organization named Nowhere"), "{err}");

    ok(dir, &["org", "create", "Beta"]);
    let err = fails(dir, &["org", "add-member", "Beta", "user@example.com"]);
    assert!(err.contains("already an internal member of another organization"), "{err}");
    ok(dir, &["org", "add-member", "Beta", "user@example.com", "--external"]);
    let list = ok(dir, &["org", "list"]);
    assert!(list.contains("Acme") && list.contains("Beta"), "{list}");

    ok(dir, &["org", "add-group", "Acme", "Designers"]);
    let err = fails(dir, &["org", "add-group", "Acme", "Designers"]);
    assert!(err.contains("already has a group named Designers"), "{err}");
    ok(dir, &["org", "add-to-group", "Acme", "Designers", "user@example.com"]);
    ok(dir, &["org", "set-role", "Beta", "user@example.com", "admin"]);

    ok(dir, &["license", "grant", "campus", "--org", "Acme"]);
    ok(dir, &["license", "grant", "model-sharing", "--group", "Acme/Designers"]);
    let err = fails(dir, &["license", "grant", "nope", "--user", "user@example.com"]);
    assert!(err.contains("no entitlement named nope"), "{err}");
    let two_holders = tunnus(dir, &["license", "grant", "campus", "--org", "Acme", "--user", "user@example.com"]);
    assert!(!two_holders.status.success() && stderr(&two_holders).contains("cannot be used with"));
    let err = fails(
        dir,
        &["license", "grant", "campus", "--user", "user@example.com", "--from", "2030-01-02", "--until", "2030-01-01"],
    );
    assert!(err.contains("must end after it starts"), "{err}");
    // A license that has not started yet does not count now.
    ok(dir, &["license", "define", "future-thing", "--description", "Not yet", "--content"]);
    ok(dir, &["license", "grant", "future-thing", "--user", "user@example.com", "--from", "2999-01-01"]);

    let show = ok(dir, &["user", "show", "user@example.com"]);
    for expected in
        ["status: active", "Acme", "Beta", "Designers", "campus", "model-sharing", "platform administrator: no"]
    {
        assert!(show.contains(expected), "missing {expected:?}:\n{show}");
    }
    assert!(!show.contains("future-thing"), "{show}");

    ok(dir, &["user", "grant-platform-admin", "user@example.com"]);
    let show = ok(dir, &["user", "show", "user@example.com"]);
    assert!(show.contains("platform administrator: yes"), "{show}");

    let revoked = ok(dir, &["license", "revoke", "campus", "--org", "Acme"]);
    assert!(revoked.starts_with('1'), "{revoked}");
    ok(dir, &["org", "remove-member", "Acme", "user@example.com"]);
    let show = ok(dir, &["user", "show", "user@example.com"]);
    assert!(!show.contains("campus") && !show.contains("Designers"), "{show}");
    assert!(show.contains("organization: Beta (external, admin)"), "{show}");
}

#[test]
fn terms_versions_only_grow_and_urls_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    ok(dir, &["migrate"]);
    assert!(ok(dir, &["terms", "show"]).contains("terms\tversion 1"));
    let out = ok(dir, &["terms", "publish", "terms", "--version", "2", "--url", "https://example.com/terms-v2"]);
    assert!(out.contains("version 2"), "{out}");
    assert!(ok(dir, &["terms", "show"]).contains("terms\tversion 2\thttps://example.com/terms-v2"));
    assert!(
        fails(dir, &["terms", "publish", "terms", "--version", "2", "--url", "/legal/terms"]).contains("not newer")
    );
    assert!(
        fails(dir, &["terms", "publish", "terms", "--version", "1", "--url", "/legal/terms"]).contains("not newer")
    );
    for bad in ["http://example.com/t", "//evil.example/t", "javascript:alert(1)", "/a b"] {
        assert!(
            fails(dir, &["terms", "publish", "privacy", "--version", "5", "--url", bad]).contains("--url"),
            "{bad}"
        );
    }
    assert!(
        fails(dir, &["terms", "publish", "privacy", "--version", "5", "--url", "/p", "--effective", "soon"])
            .contains("RFC 3339")
    );
    // Scheduled for later: not in effect yet, but a smaller version can no longer be published.
    ok(
        dir,
        &[
            "terms",
            "publish",
            "privacy",
            "--version",
            "3",
            "--url",
            "/legal/privacy",
            "--effective",
            "2099-01-01T00:00:00Z",
        ],
    );
    assert!(ok(dir, &["terms", "show"]).contains("privacy\tversion 1"));
    assert!(fails(dir, &["terms", "publish", "privacy", "--version", "2", "--url", "/p"]).contains("not newer"));
}
