//! Refresh tokens stored for many requests at once: on PostgreSQL, the
//! token writes waiting at the same time go to the database as one
//! statement.
//!
//! Every code exchange stores a refresh token and every refresh rotates
//! one. Alone, each is a statement and a commit of its own, and what
//! PostgreSQL spends per statement and per commit — executor start-up,
//! locks, the foreign-key checks' set-up, the flush of its write-ahead log —
//! outweighs the row: in the code exchange on PostgreSQL + Redis, the
//! database took ~240 µs of CPU per exchange, more than Tunnus's own work
//! (docs/performance.md, 2026-12-06 afternoon). Eight rows in one
//! statement cost about what two cost alone.
//!
//! What each caller sees does not change:
//! - it hears back only after the statement committed;
//! - a rotation stores its new token only if it marked the old token
//!   rotated while that was current, so of rotations of one token exactly
//!   one wins, in one batch or across batches and replicas;
//! - when PostgreSQL refuses a batch's statement (say, one write's person
//!   was deleted meanwhile), it stored none of it, and each write is tried
//!   again alone, so only the failing write fails; when the connection
//!   fails, whether the statement ran is unknown and every write of the
//!   batch fails, as a lone write would (a rotation tried again after it
//!   ran would look like a reuse).
//!
//! Nothing waits for a batch to fill: the writer's one thread takes what
//! queued up while the statement before ran, so a lone write goes at once
//! (and in the plain statements, which cost less than the batch's). One
//! statement in flight, not several: each batch then gathers every write
//! that queued while the one before it ran, including its wait for the
//! write-ahead log's flush, so a slower disk makes batches larger rather
//! than statements more numerous. Against two, four and eight threads, one
//! gave the most code exchanges and refreshes per second (docs/
//! performance.md, 2026-12-06 afternoon); each replica has its own writer.
//! The price: a statement that waits on a row lock (a family being revoked
//! at that moment) holds up the writes behind it while it waits, at most
//! for the statement timeout.
//!
//! SQLite has its own group commit ([`crate::Db::write`]); there the writer
//! only passes each write on.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, mpsc};

use diesel::PgConnection;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment};
use diesel::sql_types::{Array, Bool, Nullable, Text, Timestamp};
use diesel::{QueryResult, RunQueryDsl};
use time::PrimitiveDateTime;
use tokio::sync::oneshot;

use super::{FamilyRow, FamilySqlType, RefreshRecord, TokenWrite, WriteKind};
use crate::db::{Backend, Db, DbConnection, take_batch};
use crate::error::{StoreError, StoreErrorKind, StoreResult};
use crate::time_conv::to_db;

/// The writer's sessions find old tokens through the primary key, never by
/// reading the whole table. A prepared statement keeps the plan made at its
/// sixth run, and on a new database that is while the table is near empty
/// and not yet analysed: the plan then read every token per batch (a
/// sequential scan joined to the batch) until autovacuum analysed the table
/// — at a few thousand tokens, PostgreSQL spent ~2 ms per write. With
/// sequential scans priced out, the plan is an index probe per rotation
/// whatever the table's statistics say; the writer runs nothing else. A
/// batch's handful of old tokens are then read by a plain index scan, not
/// through a bitmap of the pages first, which costs more for so few rows.
const WRITER_SESSION: &str = "SET enable_seqscan = off; SET enable_bitmapscan = off";

/// At most this many writes share a statement.
const MAX_BATCH: usize = 128;

type Job = (TokenWrite, oneshot::Sender<StoreResult<Option<RefreshRecord>>>);

/// Stores refresh tokens. Cheap to clone; on PostgreSQL its thread ends
/// when the last clone is dropped.
#[derive(Clone)]
pub struct RefreshTokenWriter {
    db: Db,
    /// PostgreSQL only: the queue of the thread that writes the batches.
    batches: Option<Batches>,
}

#[derive(Clone)]
struct Batches {
    jobs: mpsc::Sender<Job>,
    statements: Arc<AtomicU64>,
    writes: Arc<AtomicU64>,
}

impl std::fmt::Debug for RefreshTokenWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefreshTokenWriter").field("batched", &self.batches.is_some()).finish_non_exhaustive()
    }
}

impl RefreshTokenWriter {
    /// A writer over `db`; on PostgreSQL it starts the thread that writes
    /// the batches.
    pub fn start(db: &Db) -> StoreResult<Self> {
        let batches = match db.backend() {
            Backend::Sqlite => None,
            Backend::Postgres => {
                let (jobs, queue) = mpsc::channel::<Job>();
                let db = db.side_pool(1, WRITER_SESSION);
                let (statements, writes) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
                let (counted_statements, counted_writes) = (statements.clone(), writes.clone());
                std::thread::Builder::new()
                    .name("tunnus-token-writer".to_owned())
                    .spawn(move || {
                        while let Some(batch) = take_batch(&queue, MAX_BATCH) {
                            counted_statements.fetch_add(1, Ordering::Relaxed);
                            counted_writes.fetch_add(batch.len() as u64, Ordering::Relaxed);
                            // A panic fails its batch's callers (their answers
                            // are dropped unsent), not the thread.
                            let _ = catch_unwind(AssertUnwindSafe(|| store_batch(&db, batch)));
                        }
                    })
                    .map_err(|e| StoreError::unavailable(format!("cannot start the refresh-token writer: {e}")))?;
                Some(Batches { jobs, statements, writes })
            }
        };
        Ok(Self { db: db.clone(), batches })
    }

    /// Stores `write` and waits until it is committed; returns the stored
    /// token's record, or `None` for a rotation that stored nothing (see
    /// [`TokenWrite::store_alone`]).
    pub async fn store(&self, write: TokenWrite) -> StoreResult<Option<RefreshRecord>> {
        let Some(batches) = &self.batches else {
            return self.db.write_statement(move |c| write.store_alone(c)).await;
        };
        let (answer, result) = oneshot::channel();
        batches
            .jobs
            .send((write, answer))
            .map_err(|_| StoreError::unavailable("the refresh-token writer has stopped"))?;
        result.await.map_err(|_| StoreError::unavailable("the refresh-token write did not complete"))?
    }

    /// PostgreSQL: how many statements the writer has run and how many
    /// writes they held, for metrics; `None` on SQLite.
    pub fn counts(&self) -> Option<(u64, u64)> {
        self.batches.as_ref().map(|b| (b.statements.load(Ordering::Relaxed), b.writes.load(Ordering::Relaxed)))
    }
}

/// Stores `batch` (in one statement if it holds more than one write) and
/// answers each caller.
fn store_batch(db: &Db, mut batch: Vec<Job>) {
    if batch.len() == 1 {
        // Alone, the plain statements cost less than the batch's.
        let (write, answer) = batch.remove(0);
        let _ = answer.send(db.statement_blocking(|c| write.store_alone(c)));
        return;
    }
    let (writes, answers): (Vec<TokenWrite>, Vec<_>) = batch.into_iter().unzip();
    let together = db.statement_blocking(|c| match c {
        DbConnection::Postgresql(pg) => store_together(pg, &writes.iter().collect::<Vec<_>>()),
        DbConnection::Sqlite(_) => Err(StoreError::corrupt("the refresh-token writer runs on PostgreSQL only")),
    });
    match together {
        Ok(mut rotated) => {
            for (write, answer) in writes.into_iter().zip(answers) {
                let stored = match write.kind {
                    WriteKind::First(record) => Some(record),
                    WriteKind::Rotation(rotation) => rotated
                        .iter()
                        .position(|(new, _)| new == write.new.as_str())
                        .map(|at| rotation.next_record(rotated.swap_remove(at).1)),
                };
                let _ = answer.send(Ok(stored));
            }
        }
        Err(e) if e.kind() == StoreErrorKind::Unavailable => {
            for answer in answers {
                let _ = answer.send(Err(e.clone()));
            }
        }
        Err(e) => {
            tracing::debug!(error = %e, writes = writes.len(), "a batch of refresh-token writes was refused; trying each alone");
            for (write, answer) in writes.iter().zip(answers) {
                let _ = answer.send(db.statement_blocking(|c| write.store_alone(c)));
            }
        }
    }
}

/// Stores `writes` in one statement; returns, for each rotation that
/// stored its token, the new token's hash and the family. Every first is
/// stored, or the statement fails. A rotation stores nothing unless the
/// token it replaces was current and the client's ([`TokenWrite::store_alone`]).
fn store_together(conn: &mut PgConnection, writes: &[&TokenWrite]) -> StoreResult<Vec<(String, FamilyRow)>> {
    Ok(Columns::of(writes).load::<(String, FamilyRow)>(conn)?)
}

/// The writes as one array per column, for `UNNEST`: the statement's text
/// is the same for any number of writes, so each connection prepares it
/// once. A first fills the family's columns; a rotation fills `old`,
/// `client_id`, `created_at` (its moment) and the two ends its next token
/// may have, `expires_at` (session-bound) and `offline_expires_at`.
struct Columns<'a> {
    new: Vec<&'a str>,
    old: Vec<Option<&'a str>>,
    family_id: Vec<Option<&'a str>>,
    client_id: Vec<&'a str>,
    user_id: Vec<Option<&'a str>>,
    scopes: Vec<Option<&'a str>>,
    sid: Vec<Option<&'a str>>,
    offline: Vec<Option<bool>>,
    auth_time: Vec<Option<PrimitiveDateTime>>,
    amr: Vec<Option<&'a str>>,
    created_at: Vec<PrimitiveDateTime>,
    expires_at: Vec<PrimitiveDateTime>,
    offline_expires_at: Vec<Option<PrimitiveDateTime>>,
    family_expires_at: Vec<Option<PrimitiveDateTime>>,
}

impl<'a> Columns<'a> {
    fn of(writes: &[&'a TokenWrite]) -> Self {
        let mut c = Columns {
            new: Vec::with_capacity(writes.len()),
            old: Vec::with_capacity(writes.len()),
            family_id: Vec::with_capacity(writes.len()),
            client_id: Vec::with_capacity(writes.len()),
            user_id: Vec::with_capacity(writes.len()),
            scopes: Vec::with_capacity(writes.len()),
            sid: Vec::with_capacity(writes.len()),
            offline: Vec::with_capacity(writes.len()),
            auth_time: Vec::with_capacity(writes.len()),
            amr: Vec::with_capacity(writes.len()),
            created_at: Vec::with_capacity(writes.len()),
            expires_at: Vec::with_capacity(writes.len()),
            offline_expires_at: Vec::with_capacity(writes.len()),
            family_expires_at: Vec::with_capacity(writes.len()),
        };
        for w in writes {
            c.new.push(w.new.as_str());
            match &w.kind {
                WriteKind::First(r) => {
                    c.old.push(None);
                    c.family_id.push(Some(&r.family_id));
                    c.client_id.push(&r.client_id);
                    c.user_id.push(Some(&r.user_id));
                    c.scopes.push(Some(&r.scopes));
                    c.sid.push(r.sid.as_deref());
                    c.offline.push(Some(r.offline));
                    c.auth_time.push(Some(to_db(r.auth_time)));
                    c.amr.push(Some(&r.amr));
                    c.created_at.push(to_db(r.created_at));
                    c.expires_at.push(to_db(r.expires_at));
                    c.offline_expires_at.push(None);
                    c.family_expires_at.push(Some(to_db(r.family_expires_at)));
                }
                WriteKind::Rotation(r) => {
                    c.old.push(Some(r.old.as_str()));
                    c.family_id.push(None);
                    c.client_id.push(&r.client_id);
                    c.user_id.push(None);
                    c.scopes.push(None);
                    c.sid.push(None);
                    c.offline.push(None);
                    c.auth_time.push(None);
                    c.amr.push(None);
                    c.created_at.push(to_db(r.at));
                    c.expires_at.push(to_db(r.session_until));
                    c.offline_expires_at.push(Some(to_db(r.offline_until)));
                    c.family_expires_at.push(None);
                }
            }
        }
        c
    }
}

impl Query for Columns<'_> {
    type SqlType = (Text, FamilySqlType);
}

kept_prepared!(Columns on PgConnection);

impl QueryFragment<Pg> for Columns<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        // New families go in in `families`. `found` reads, for each
        // rotation, its old token if still current and that token's family
        // if not revoked, not ended and the presenting client's; `rotated`
        // marks those tokens rotated unless another statement did first,
        // and `stored` inserts the first tokens of the new families and the
        // tokens of the rotations that won. Two rotations of one token in
        // one batch update its row once, so one of them wins.
        //
        // Every read is an index probe per write, whatever the planner
        // believes of the tables' sizes. The plan is made once per
        // connection and kept, and on tables not yet analysed the planner
        // takes `revoked_at IS NULL` to hold for 0.5% of the families: a
        // plain join then read every family once per write of the batch
        // (with 128 families and 38 writes, 11 ms per statement instead of
        // well under one; docs/performance.md, 2026-12-06 closing). So the
        // old tokens are looked up as `= ANY` of the batch's hashes, and
        // each family by its key in a subquery that `OFFSET 0` keeps from
        // being merged into the join, hence run once per token. `rotated`
        // then goes straight to the row `found` read (`ctid`) instead of
        // probing the index again; if another statement updated that row
        // meanwhile, PostgreSQL checks its newest version, whose
        // `rotated_at` is set, and leaves it.
        out.push_sql("WITH batch AS (SELECT * FROM UNNEST(");
        out.push_bind_param::<Array<Text>, _>(&self.new)?;
        for text in [&self.old, &self.family_id] {
            out.push_sql(", ");
            out.push_bind_param::<Array<Nullable<Text>>, _>(text)?;
        }
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.client_id)?;
        for text in [&self.user_id, &self.scopes, &self.sid] {
            out.push_sql(", ");
            out.push_bind_param::<Array<Nullable<Text>>, _>(text)?;
        }
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<Bool>>, _>(&self.offline)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<Timestamp>>, _>(&self.auth_time)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<Text>>, _>(&self.amr)?;
        for time in [&self.created_at, &self.expires_at] {
            out.push_sql(", ");
            out.push_bind_param::<Array<Timestamp>, _>(time)?;
        }
        for time in [&self.offline_expires_at, &self.family_expires_at] {
            out.push_sql(", ");
            out.push_bind_param::<Array<Nullable<Timestamp>>, _>(time)?;
        }
        out.push_sql(
            ") AS b(new_hash, old_hash, family_id, client_id, user_id, scopes, sid, offline, auth_time, amr, \
             created_at, expires_at, offline_expires_at, family_expires_at)), \
             families AS (INSERT INTO refresh_families (family_id, client_id, user_id, scopes, sid, offline, \
             auth_time, amr, created_at, expires_at) \
             SELECT family_id, client_id, user_id, scopes, sid, offline, auth_time, amr, created_at, \
             family_expires_at FROM batch WHERE old_hash IS NULL), \
             found AS MATERIALIZED (SELECT t.ctid AS row_at, b.new_hash, b.created_at, \
             LEAST(CASE WHEN f.offline THEN b.offline_expires_at ELSE b.expires_at END, f.expires_at) \
             AS next_expires_at, ",
        );
        out.push_sql(super::FAMILY_COLUMNS);
        out.push_sql(
            " FROM batch b JOIN refresh_tokens t ON t.token_hash = b.old_hash \
             CROSS JOIN LATERAL (SELECT * FROM refresh_families f WHERE f.family_id = t.family_id OFFSET 0) f \
             WHERE t.token_hash = ANY(",
        );
        out.push_bind_param::<Array<Nullable<Text>>, _>(&self.old)?;
        out.push_sql(
            ") AND t.rotated_at IS NULL AND t.expires_at > b.created_at AND f.revoked_at IS NULL \
             AND f.client_id = b.client_id AND f.expires_at > b.created_at), \
             rotated AS (UPDATE refresh_tokens t SET rotated_at = x.created_at FROM found x \
             WHERE t.ctid = x.row_at AND t.rotated_at IS NULL \
             RETURNING x.new_hash, x.created_at, x.next_expires_at, ",
        );
        out.push_sql(&super::FAMILY_COLUMNS.replace("f.", "x."));
        out.push_sql(
            "), stored AS (INSERT INTO refresh_tokens (token_hash, family_id, created_at, expires_at) \
             SELECT new_hash, family_id, created_at, expires_at FROM batch WHERE old_hash IS NULL \
             UNION ALL SELECT new_hash, family_id, created_at, next_expires_at FROM rotated) \
             SELECT new_hash, ",
        );
        out.push_sql(&super::FAMILY_COLUMNS.replace("f.", ""));
        out.push_sql(" FROM rotated");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use tunnus_core::SecretToken;

    use super::*;
    use crate::refresh_tokens;
    use crate::testing::{TestDatabase, person_and_client, refresh_record};

    fn hash() -> tunnus_core::TokenHash {
        SecretToken::generate(&mut rand::rng()).hash()
    }

    /// A rotation of `old` by `campus`, now, for an hour.
    fn rotation(old: &tunnus_core::TokenHash) -> super::super::Rotation {
        let now = time::OffsetDateTime::now_utc();
        super::super::Rotation {
            old: old.clone(),
            client_id: "campus".into(),
            at: now,
            session_until: now + time::Duration::hours(1),
            offline_until: now + time::Duration::days(1),
        }
    }

    /// A database with a person, the client `campus` and one current
    /// token; returns the database, the person's id and the token's hash.
    fn with_current_token(t: &TestDatabase) -> (Db, String, tunnus_core::TokenHash) {
        let db = t.migrated();
        let person = person_and_client(&db, "batch@example.com", "campus").id.to_string();
        let (current, record) = (hash(), refresh_record(&person, "campus", "current"));
        let stored = current.clone();
        db.write_blocking(move |c| refresh_tokens::insert(c, &stored, &record)).unwrap();
        (db, person, current)
    }

    #[test]
    fn one_statement_stores_new_families_and_one_of_two_rotations_of_a_token() {
        let Some(t) = TestDatabase::postgres() else { return };
        let (db, person, current) = with_current_token(&t);
        let writes = [
            TokenWrite::first(hash(), refresh_record(&person, "campus", "a")),
            TokenWrite::rotation(rotation(&current), hash()),
            TokenWrite::rotation(rotation(&current), hash()),
            TokenWrite::rotation(rotation(&hash()), hash()),
            TokenWrite::first(hash(), refresh_record(&person, "campus", "b")),
        ];
        let stored = db
            .statement_blocking(|c| match c {
                DbConnection::Postgresql(pg) => store_together(pg, &writes.iter().collect::<Vec<_>>()),
                DbConnection::Sqlite(_) => unreachable!("a PostgreSQL database"),
            })
            .unwrap();
        let rotated: Vec<&str> = stored.iter().map(|(new, _)| new.as_str()).collect();
        assert_eq!(rotated.len(), 1, "one of two rotations of one token wins, none of an unknown one: {rotated:?}");
        let winner = writes.iter().find(|w| w.new.as_str() == rotated[0]).unwrap();
        assert!(matches!(winner.kind, WriteKind::Rotation(_)));
        let family = &stored[0].1;
        assert_eq!((family.family_id.as_str(), family.sid.as_deref()), ("current", Some("sid-1")), "read back");
        let find = |h: &tunnus_core::TokenHash| db.read_blocking(|c| refresh_tokens::find(c, h)).unwrap();
        for first in [&writes[0], &writes[4]] {
            assert!(find(&first.new).is_some(), "new families are stored");
        }
        assert!(find(&current).unwrap().rotated_at.is_some(), "the rotated token is marked");
        let newest = find(&winner.new).unwrap();
        assert_eq!((newest.family_id.as_str(), newest.sid.as_deref()), ("current", Some("sid-1")));
        assert!(newest.rotated_at.is_none() && newest.revoked_at.is_none());
        assert!(find(&writes[3].new).is_none(), "a rotation of an unknown token stores nothing");
    }

    #[test]
    fn a_refused_batch_is_tried_write_by_write_and_only_the_bad_write_fails() {
        let Some(t) = TestDatabase::postgres() else { return };
        let (db, person, current) = with_current_token(&t);
        let writes = vec![
            TokenWrite::first(hash(), refresh_record(&person, "campus", "a")),
            // A person who does not exist (deleted meanwhile): the foreign key refuses it.
            TokenWrite::first(hash(), refresh_record("no-such-person", "campus", "b")),
            TokenWrite::rotation(rotation(&current), hash()),
            TokenWrite::rotation(rotation(&current), hash()),
        ];
        let (jobs, mut results): (Vec<Job>, Vec<_>) = writes
            .into_iter()
            .map(|w| {
                let (answer, result) = oneshot::channel();
                ((w, answer), result)
            })
            .unzip();
        store_batch(&db, jobs);
        let outcomes: Vec<StoreResult<Option<RefreshRecord>>> =
            results.iter_mut().map(|r| r.try_recv().unwrap()).collect();
        assert!(matches!(outcomes[0], Ok(Some(_))), "{outcomes:?}");
        let refused = outcomes[1].as_ref().unwrap_err();
        assert_ne!(refused.kind(), StoreErrorKind::Unavailable, "{refused}");
        assert!(
            matches!((&outcomes[2], &outcomes[3]), (Ok(Some(_)), Ok(None))),
            "the first rotation wins: {outcomes:?}"
        );
    }

    #[derive(diesel::QueryableByName)]
    struct PlanLine {
        #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
        line: String,
    }

    /// The plan a prepared statement keeps (the generic plan) on new,
    /// never analysed tables, in the writer's sessions: an index probe per
    /// rotation for its old token and for its family, not a read of either
    /// whole table. With a hundred or so families and a plain join, the
    /// planner read every family for each write (see `Columns::walk_ast`).
    #[test]
    fn the_kept_plan_probes_old_tokens_and_their_families_by_key_on_new_tables() {
        let Some(t) = TestDatabase::postgres() else { return };
        let (db, person, current) = with_current_token(&t);
        db.write_blocking(move |c| {
            for n in 0..128 {
                refresh_tokens::insert(c, &hash(), &refresh_record(&person, "campus", &format!("family-{n}")))?;
            }
            // A few minutes of rotations on one replica.
            diesel::sql_query(
                "INSERT INTO refresh_tokens (token_hash, family_id, created_at, expires_at, rotated_at) \
                 SELECT md5(i::text), 'family-0', LOCALTIMESTAMP, LOCALTIMESTAMP, LOCALTIMESTAMP \
                 FROM generate_series(1, 30000) i",
            )
            .execute(c)?;
            Ok(())
        })
        .unwrap();
        let write = TokenWrite::rotation(rotation(&current), hash());
        let sql = diesel::debug_query::<Pg, _>(&Columns::of(&[&write])).to_string();
        let sql = sql.split(" -- binds").next().unwrap().to_owned();
        let session = db.side_pool(1, WRITER_SESSION);
        let plan = session
            .statement_blocking(move |c| {
                use diesel::connection::SimpleConnection;
                c.batch_execute(&format!(
                    "SET plan_cache_mode = force_generic_plan; \
                     PREPARE batch(text[], text[], text[], text[], text[], text[], text[], boolean[], \
                     timestamp[], text[], timestamp[], timestamp[], timestamp[], timestamp[], text[]) \
                     AS {sql}"
                ))?;
                let t = "ARRAY[LOCALTIMESTAMP]";
                Ok(diesel::sql_query(format!(
                    "EXPLAIN EXECUTE batch(ARRAY['n'], ARRAY['o'], ARRAY['f'], ARRAY['campus'], ARRAY['p'], \
                     ARRAY['openid'], ARRAY[NULL::text], ARRAY[false], {t}, ARRAY['[]'], {t}, {t}, {t}, {t}, \
                     ARRAY['o'])"
                ))
                .load::<PlanLine>(c)?)
            })
            .unwrap();
        let plan: Vec<String> = plan.into_iter().map(|l| l.line).collect();
        let plan = plan.join("\n");
        assert!(plan.contains("Index Cond: (family_id = t.family_id)"), "{plan}");
        assert!(plan.contains("Index Cond: (token_hash = ANY"), "{plan}");
        assert!(plan.contains("TID Cond: (ctid = x.row_at)"), "the rotation goes to the row it read: {plan}");
        assert!(!plan.contains("Seq Scan on refresh_") && !plan.contains("Bitmap"), "{plan}");
    }
}
