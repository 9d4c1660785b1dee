#!/usr/bin/env bash
# What PostgreSQL alone can do of a refresh, on this machine (not a test):
# runs, with pgbench and prepared statements, the three statements Tunnus
# sends per refresh — the token with its family and person, the person's access facts
# (the same UNION ALL), the rotation (update in a WITH clause + insert) —
# from 32 clients, and prints transactions per second. No HTTP, no token
# signing, no thread hops: the figure bounds what any server using this
# database for refresh tokens can reach here (see docs/performance.md).
#
#   cargo build --release -p tunnus
#   crates/tunnus-bench/scripts/pg-refresh-bound.sh
#
# Environment: BENCH_BIN (default $CARGO_TARGET_DIR/release/tunnus or
# target/release/tunnus), BENCH_PG (server, default
# postgres://postgres@127.0.0.1:5432; a scratch database tunnus_pgbound is
# created and dropped), SECONDS_RUN [5], CLIENTS [32], TOKENS [100000].
set -euo pipefail

BIN=${BENCH_BIN:-${CARGO_TARGET_DIR:-target}/release/tunnus}
PG=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
SECS=${SECONDS_RUN:-5}
CLIENTS=${CLIENTS:-32}
TOKENS=${TOKENS:-100000}
DB=tunnus_pgbound
WORK=$(mktemp -d)
cleanup() {
    rm -rf "$WORK"
    psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true
}
trap cleanup EXIT

psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
cat > "$WORK/tunnus.toml" <<TOML
data_dir = "$WORK/data"
database_url = "$PG/$DB?sslmode=disable"
TOML
"$BIN" --config "$WORK/tunnus.toml" migrate > /dev/null
"$BIN" --config "$WORK/tunnus.toml" client add --id bench --name Bench --redirect-uri http://127.0.0.1:9/cb \
    --grant authorization_code --grant refresh_token > /dev/null
psql -q "$PG/$DB" <<SQL
INSERT INTO users (id, email, email_verified_at, given_name, family_name, country, status, created_at, updated_at)
VALUES ('u1', 'bound@example.com', now(), 'Aino', 'Virtanen', 'FI', 'active', now(), now());
INSERT INTO refresh_families (family_id, client_id, user_id, scopes, sid, offline, auth_time, amr, created_at,
                              expires_at)
SELECT 'f' || n, 'bench', 'u1', 'openid profile', 's' || n, false, now(), '["pwd"]', now(),
       now() + interval '30 days'
  FROM generate_series(1, $TOKENS) AS n;
INSERT INTO refresh_tokens (token_hash, family_id, created_at, expires_at)
SELECT 't' || n, 'f' || n, now(), now() + interval '1 day' FROM generate_series(1, $TOKENS) AS n;
ANALYZE;
SQL

cat > "$WORK/refresh.sql" <<SQL
\set n random(1, $TOKENS)
SELECT t.created_at, t.expires_at, t.rotated_at, f.family_id, f.client_id, f.user_id, f.scopes, f.sid,
       f.offline, f.auth_time, f.amr, f.expires_at, f.revoked_at, u.id, u.email, u.email_verified_at,
       u.password_hash, u.given_name, u.family_name, u.country, u.preferred_language, u.status, u.created_at,
       u.updated_at
  FROM refresh_tokens t JOIN refresh_families f ON f.family_id = t.family_id JOIN users u ON u.id = f.user_id
 WHERE t.token_hash = 't' || :n;
(((((SELECT 'm', m.organization_id, o.name, m.kind, m.role, NULL::boolean, NULL::timestamp, NULL::timestamp
     FROM memberships m JOIN organizations o ON o.id = m.organization_id WHERE m.user_id = 'u1')
 UNION ALL (SELECT 'g', g.id, g.name, NULL, NULL, NULL, NULL, NULL
     FROM user_group_members gm JOIN user_groups g ON g.id = gm.group_id WHERE gm.user_id = 'u1'))
 UNION ALL (SELECT 'e', e.entitlement, NULL, NULL, NULL, e.include_external, e.valid_from, e.valid_until
     FROM entitlement_grants e WHERE e.user_id = 'u1'))
 UNION ALL (SELECT 'e', e.entitlement, e.organization_id, NULL, NULL, e.include_external, e.valid_from, e.valid_until
     FROM entitlement_grants e JOIN memberships m ON e.organization_id = m.organization_id WHERE m.user_id = 'u1'))
 UNION ALL (SELECT 'e', e.entitlement, NULL, e.group_id, NULL, e.include_external, e.valid_from, e.valid_until
     FROM entitlement_grants e JOIN user_group_members gm ON e.group_id = gm.group_id WHERE gm.user_id = 'u1'))
 UNION ALL (SELECT 'c', name, NULL, NULL, NULL, NULL, NULL, NULL FROM entitlements WHERE content);
WITH rotated AS (UPDATE refresh_tokens SET rotated_at = now()
  WHERE token_hash = 't' || :n AND family_id = 'f' || :n AND rotated_at IS NULL
    AND EXISTS (SELECT 1 FROM refresh_families WHERE family_id = 'f' || :n AND revoked_at IS NULL) RETURNING 1)
INSERT INTO refresh_tokens (token_hash, family_id, created_at, expires_at)
SELECT gen_random_uuid()::text, 'f' || :n, now(), now() + interval '1 day' WHERE EXISTS (SELECT 1 FROM rotated);
SQL

echo "PostgreSQL alone, $CLIENTS clients, $SECS s, the statements of one refresh per transaction:" >&2
pgbench -n -M prepared -c "$CLIENTS" -j 2 -T "$SECS" -f "$WORK/refresh.sql" "$PG/$DB?sslmode=disable" 2>&1 \
    | grep -E '^(tps|latency average|number of transactions actually)'
