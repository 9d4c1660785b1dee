//! `tunnus import-legacy` end to end, on SQLite and on PostgreSQL: every
//! skip reason, merges (and the conflict a merge must not cause), a dry run,
//! an idempotent rerun, and a rerun after the import was killed mid-way.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use tunnus_core::access::{MembershipKind, Role};
use tunnus_core::country::Country;
use tunnus_core::{Clock, Email, SystemClock, User, UserId, UserStatus};
use tunnus_store::testing::TestDatabase;
use tunnus_store::{Db, DbConfig, legacy, orgs, outbox, users};

/// A scratch data directory and the database the command uses.
struct Target {
    dir: tempfile::TempDir,
    url: String,
    _db: Option<TestDatabase>,
}

impl Target {
    fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("tunnus.db").display());
        Self { dir, url, _db: None }
    }

    fn postgres() -> Option<Self> {
        let db = TestDatabase::postgres()?;
        Some(Self { dir: tempfile::tempdir().unwrap(), url: db.url.clone(), _db: Some(db) })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tunnus"));
        for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("TUNNUS_")) {
            command.env_remove(key);
        }
        command
            .args(args)
            .current_dir(self.path())
            .env("TUNNUS_DATA_DIR", self.path())
            .env("TUNNUS_DATABASE_URL", &self.url)
            .env("TUNNUS_LOG__FILTER", "off");
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        let out = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(o.status.success(), "tunnus {args:?} failed:\n{out}{}", String::from_utf8_lossy(&o.stderr));
        out
    }

    fn db(&self) -> Db {
        let db = Db::connect(&DbConfig::new(&self.url)).unwrap();
        db.migrate().unwrap();
        db
    }

    fn write(&self, name: &str, content: &str) -> PathBuf {
        let path = self.path().join(name);
        std::fs::write(&path, content).unwrap();
        path
    }
}

fn seed_user(db: &Db, email: &str, given: &str, family: &str, status: UserStatus) -> String {
    let now = SystemClock.now();
    let user = User {
        id: UserId::new_v7(),
        email: Email::parse(email).unwrap(),
        email_verified_at: (status == UserStatus::Active).then_some(now),
        password_hash: None,
        given_name: given.into(),
        family_name: family.into(),
        country: Country::parse("FI").unwrap(),
        preferred_language: None,
        status,
        created_at: now,
        updated_at: now,
    };
    db.write_blocking(|c| users::insert(c, &user)).unwrap();
    user.id.to_string()
}

const HEADER: &str = "legacy_id,email,verified,given_name,family_name,country,organization_name,membership_kind,role,licenses,password_hash,password_scheme";

/// One record per outcome; (CSV line, JSON line).
fn records() -> Vec<(String, String)> {
    let bcrypt = bcrypt::hash("Old-pass1", 4).unwrap();
    let rows: Vec<[&str; 12]> = vec![
        ["L1", "aino.new@example.com", "true", "Aino", "Virtanen", "FI", "Acme", "internal", "admin", "campus", "", ""],
        [
            "L2",
            "MERGE@example.com",
            "true",
            "Merja",
            "Merge",
            "FI",
            "Acme",
            "external",
            "",
            "campus;model-sharing",
            "",
            "",
        ],
        ["L3", "busy@example.com", "true", "Bo", "Busy", "SE", "Acme", "internal", "", "campus", "", ""],
        ["L4", "bad@@example.com", "true", "Ba", "D", "FI", "", "", "", "", "", ""],
        ["L5", "", "true", "No", "Email", "FI", "", "", "", "", "", ""],
        ["L6", "country@example.com", "true", "C", "X", "XX", "", "", "", "", "", ""],
        ["L7", "first7@example.com", "true", "F", "S", "FI", "", "", "", "", "", ""],
        ["L7", "second7@example.com", "true", "S", "S", "FI", "", "", "", "", "", ""],
        ["L8", "same@example.com", "true", "S", "A", "FI", "", "", "", "", "", ""],
        ["L9", "Same@Example.com", "true", "S", "B", "FI", "", "", "", "", "", ""],
        ["L10", "md5@example.com", "true", "M", "D", "FI", "", "", "", "", "5f4dcc3b5aa765d61d8327deb882cf99", "md5"],
        ["L11", "unverified@example.com", "false", "U", "V", "FI", "Acme", "", "", "campus", "", ""],
        ["L12", "noorg@example.com", "true", "N", "O", "FI", "Nowhere", "", "", "", "", ""],
        ["L13", "nolicense@example.com", "true", "N", "L", "FI", "", "", "", "nope", "", ""],
        ["L14", "pending@example.com", "yes", "P", "Ending", "FI", "", "", "", "", "", ""],
        ["L15", "hashed@example.com", "1", "Ha", "Shed", "DE", "", "", "", "", &bcrypt, "bcrypt"],
    ];
    let mut out: Vec<(String, String)> = rows
        .iter()
        .map(|r| {
            let columns: Vec<&str> = HEADER.split(',').collect();
            let json: serde_json::Map<String, serde_json::Value> = columns
                .iter()
                .zip(r.iter())
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| ((*k).to_owned(), serde_json::Value::String((*v).to_owned())))
                .collect();
            (r.join(","), serde_json::Value::Object(json).to_string())
        })
        .collect();
    out.push(("L16,too,few,fields".into(), "{\"legacy_id\": \"L16\", broken".into()));
    out
}

fn report_of(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn every_reason_merge_dry_run_and_rerun(t: &Target, jsonl: bool) {
    let db = t.db();
    let now = SystemClock.now();
    let acme = db.write_blocking(|c| orgs::create_org(c, "Acme", now)).unwrap();
    let other = db.write_blocking(|c| orgs::create_org(c, "Other", now)).unwrap();
    let merge = seed_user(&db, "merge@example.com", "Merja", "Merge", UserStatus::Active);
    let busy = seed_user(&db, "busy@example.com", "Bo", "Busy", UserStatus::Active);
    db.write_blocking(|c| orgs::add_membership(c, &other, &busy, MembershipKind::Internal, Role::Member, now)).unwrap();
    seed_user(&db, "earlier@example.com", "aino", "VIRTANEN", UserStatus::Active);
    let pending = seed_user(&db, "pending@example.com", "P", "Ending", UserStatus::Unverified);

    let (csv, json): (Vec<String>, Vec<String>) = records().into_iter().unzip();
    let file = if jsonl {
        t.write("export.jsonl", &json.join("\n"))
    } else {
        t.write("export.csv", &format!("{HEADER}\n{}\n", csv.join("\n")))
    };
    let file = file.to_str().unwrap();
    let report = t.path().join("report.json");
    let report_arg = report.to_str().unwrap();

    // A dry run reports everything and stores nothing.
    let out = t.ok(&["import-legacy", file, "--dry-run", "--report", report_arg, "--batch-size", "4"]);
    assert!(out.contains("Dry run") && out.contains("created:          2"), "{out}");
    assert_eq!(db.read_blocking(|c| users::count(c)).unwrap(), 4);
    assert!(db.read_blocking(|c| legacy::count_by_outcome(c)).unwrap().is_empty());
    assert_eq!(db.read_blocking(|c| outbox::pending_count(c)).unwrap(), 0);

    let out = t.ok(&["import-legacy", file, "--report", report_arg, "--batch-size", "4"]);
    let r = report_of(&report);
    assert_eq!(r["records"], 17, "{out}");
    assert_eq!((r["created"].as_u64(), r["merged"].as_u64()), (Some(2), Some(3)), "{r}");
    let expected = [
        ("unreadable", 1),
        ("missing_field", 1),
        ("invalid_email", 1),
        ("invalid_field", 1),
        ("duplicate_legacy_id", 2),
        ("duplicate_email", 2),
        ("unsupported_hash_scheme", 1),
        ("unverified", 1),
        ("unknown_organization", 1),
        ("unknown_license", 1),
    ];
    for (reason, n) in expected {
        assert_eq!(r["skipped"][reason], n, "{reason}: {r}");
        assert!(out.contains(reason), "the summary lists {reason}: {out}");
    }
    let skipped_ids: HashSet<&str> =
        r["skips"].as_array().unwrap().iter().filter_map(|s| s["legacy_id"].as_str()).collect();
    for id in ["L4", "L5", "L6", "L7", "L8", "L9", "L10", "L11", "L12", "L13"] {
        assert!(skipped_ids.contains(id), "{id} listed with its reason");
    }
    // New identities (L1, L15) and the unverified identity L14 verified by its merge get a welcome email.
    assert_eq!(r["emails_queued"], 3);
    assert_eq!(db.read_blocking(|c| outbox::pending_count(c)).unwrap(), 3);
    // Batches imported side by side (two on PostgreSQL) still keep the
    // emails at least one slot apart (the default 600 a minute: 100 ms).
    let mut due: Vec<_> =
        db.read_blocking(|c| outbox::recent(c, "email", 10)).unwrap().iter().map(|i| i.next_attempt_at).collect();
    due.sort();
    assert!(due.windows(2).all(|w| w[1] - w[0] >= time::Duration::milliseconds(100)), "{due:?}");
    assert_eq!(r["conflicts"][0]["email"], "busy@example.com");
    assert!(r["conflicts"][0]["detail"].as_str().unwrap().contains("Other"), "{r}");
    assert_eq!(r["kept_separate"][0]["legacy_email"], "aino.new@example.com");
    assert_eq!(r["kept_separate"][0]["identity_email"], "earlier@example.com");
    let summary = std::fs::read_to_string(report.with_extension("txt")).unwrap();
    assert!(summary.contains("merged:           3"), "{summary}");

    // Merged identities gained the membership and licenses; no duplicates were created.
    assert_eq!(db.read_blocking(|c| users::count(c)).unwrap(), 6);
    let facts = db.read_blocking(|c| orgs::access_facts(c, &merge)).unwrap();
    assert_eq!(facts.memberships.len(), 1);
    assert_eq!(
        (facts.memberships[0].org_id.as_str(), facts.memberships[0].kind),
        (acme.as_str(), MembershipKind::External)
    );
    assert_eq!(facts.grants.len(), 2);
    let facts = db.read_blocking(|c| orgs::access_facts(c, &busy)).unwrap();
    assert_eq!(facts.memberships.len(), 1, "still only internal in Other");
    assert_eq!(facts.memberships[0].org_id, other);
    assert!(facts.grants.iter().any(|g| g.entitlement == "campus"), "the rest of the merge went ahead");
    let p = db.read_blocking(|c| users::find_by_id(c, &UserId::from_stored(pending.clone()))).unwrap().unwrap();
    assert_eq!(p.status, UserStatus::Active);
    let show = t.ok(&["user", "show", "aino.new@example.com"]);
    assert!(show.contains("organization: Acme (internal, admin)") && show.contains("campus"), "{show}");
    let hashed = db.read_blocking(|c| users::find_by_email(c, &Email::parse("hashed@example.com").unwrap())).unwrap();
    assert!(hashed.unwrap().password_hash.unwrap().starts_with("$2b$04$"));

    // A second run changes nothing and says so.
    let out = t.ok(&["import-legacy", file, "--report", report_arg]);
    assert!(out.contains("Nothing changed"), "{out}");
    let r = report_of(&report);
    assert_eq!(
        (r["created"].as_u64(), r["merged"].as_u64(), r["already_imported"].as_u64()),
        (Some(0), Some(0), Some(5))
    );
    assert_eq!(r["emails_queued"], 0);
    assert_eq!(db.read_blocking(|c| users::count(c)).unwrap(), 6);
    assert_eq!(db.read_blocking(|c| outbox::pending_count(c)).unwrap(), 3);

    // Once the organization exists, a rerun imports the row that named it.
    t.ok(&["org", "create", "Nowhere"]);
    let out = t.ok(&["import-legacy", file, "--report", report_arg]);
    assert!(out.contains("created:          1") && !out.contains("Nothing changed"), "{out}");
}

#[test]
fn every_reason_merge_dry_run_and_rerun_sqlite_csv() {
    every_reason_merge_dry_run_and_rerun(&Target::sqlite(), false);
}

#[test]
fn every_reason_merge_dry_run_and_rerun_postgres_jsonl() {
    if let Some(t) = Target::postgres() {
        every_reason_merge_dry_run_and_rerun(&t, true);
    }
}

#[test]
fn every_reason_merge_dry_run_and_rerun_sqlite_jsonl() {
    every_reason_merge_dry_run_and_rerun(&Target::sqlite(), true);
}

#[test]
fn every_reason_merge_dry_run_and_rerun_postgres_csv() {
    if let Some(t) = Target::postgres() {
        every_reason_merge_dry_run_and_rerun(&t, false);
    }
}

fn killed_mid_run_then_rerun(t: &Target) {
    const N: usize = 20_000;
    let db = t.db();
    let mut csv = String::from(HEADER);
    for i in 0..N {
        csv.push_str(&format!("\nK{i},person{i}@example.com,true,Given{i},Family{i},FI,,,,campus,,"));
    }
    let file = t.write("big.csv", &csv);
    let file = file.to_str().unwrap();
    let mut child = t
        .command(&["import-legacy", file, "--batch-size", "100"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let done_before_kill = loop {
        let done: i64 = db.read_blocking(|c| legacy::count_by_outcome(c)).unwrap().values().sum();
        if done >= 500 {
            break done;
        }
        assert!(child.try_wait().unwrap().is_none(), "the import ended before it could be killed");
        assert!(started.elapsed() < Duration::from_secs(120), "the import made no progress");
        std::thread::sleep(Duration::from_millis(5));
    };
    child.kill().unwrap();
    child.wait().unwrap();
    let after_kill: i64 = db.read_blocking(|c| legacy::count_by_outcome(c)).unwrap().values().sum();
    assert!(after_kill >= done_before_kill && (after_kill as usize) < N, "killed mid-run: {after_kill} of {N}");
    // Whole batches only: identities, legacy rows and emails agree.
    assert_eq!(after_kill % 100, 0, "a batch is stored whole or not at all");
    assert_eq!(db.read_blocking(|c| users::count(c)).unwrap(), after_kill);
    assert_eq!(db.read_blocking(|c| outbox::pending_count(c)).unwrap(), after_kill);

    let report = t.path().join("rerun.json");
    t.ok(&["import-legacy", file, "--report", report.to_str().unwrap()]);
    let r = report_of(&report);
    assert_eq!(r["already_imported"].as_i64(), Some(after_kill));
    assert_eq!(r["created"].as_i64(), Some(N as i64 - after_kill));
    let outcomes = db.read_blocking(|c| legacy::count_by_outcome(c)).unwrap();
    assert_eq!(outcomes.get("created"), Some(&(N as i64)));
    assert_eq!(db.read_blocking(|c| users::count(c)).unwrap(), N as i64);
    let emails = db.read_blocking(|c| outbox::recent(c, "email", N as i64 + 10)).unwrap();
    assert_eq!(emails.len(), N, "one welcome email each, none twice");
    let recipients: HashSet<&str> = emails.iter().map(|e| e.recipient.as_str()).collect();
    assert_eq!(recipients.len(), N);
}

#[test]
fn killed_mid_run_then_rerun_sqlite() {
    killed_mid_run_then_rerun(&Target::sqlite());
}

#[test]
fn killed_mid_run_then_rerun_postgres() {
    if let Some(t) = Target::postgres() {
        killed_mid_run_then_rerun(&t);
    }
}

#[test]
fn a_bad_file_is_a_clear_error() {
    let t = Target::sqlite();
    let file = t.write("export.csv", "legacy_id,email\nL1,a@example.com\n");
    let o = t.run(&["import-legacy", file.to_str().unwrap()]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("lacks the column(s) verified, given_name, family_name, country"), "{err}");
    let o = t.run(&["import-legacy", "missing.csv"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("missing.csv"));
    let other = t.write("export.txt", "");
    let o = t.run(&["import-legacy", other.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("--format csv or jsonl"));
}
