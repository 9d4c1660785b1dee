#!/usr/bin/env bash
# Benchmark of `tunnus import-legacy` (not a test): generates ROWS legacy
# accounts (default 1,000,000) and imports them on SQLite and on PostgreSQL
# with the release binary, printing rows per second. The figure includes
# everything an operator waits for: both passes over the file, the welcome
# emails (rendered and queued), the report.
#
#   cargo build --release -p tunnus
#   crates/tunnus-bench/scripts/legacy-import.sh            # both backends
#   ROWS=100000 BACKENDS=sqlite crates/tunnus-bench/scripts/legacy-import.sh
#
# Environment: BENCH_BIN (default target/release/tunnus, or
# $CARGO_TARGET_DIR/release/tunnus), BENCH_POSTGRES_URL (default
# postgres://postgres@127.0.0.1:5432/test; a scratch schema is created and
# dropped), BATCH (records per transaction, default 5000).
set -euo pipefail

ROWS=${ROWS:-1000000}
BATCH=${BATCH:-5000}
BACKENDS=${BACKENDS:-"sqlite postgres"}
BIN=${BENCH_BIN:-${CARGO_TARGET_DIR:-target}/release/tunnus}
PG=${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
WORK=$(mktemp -d)
SCHEMA="bench_legacy_$$"
cleanup() {
    rm -rf "$WORK"
    if [[ " $BACKENDS " == *" postgres "* ]]; then
        psql -q "$PG" -c "DROP SCHEMA IF EXISTS $SCHEMA CASCADE" >/dev/null 2>&1 || true
    fi
}
trap cleanup EXIT

[[ -x "$BIN" ]] || { echo "no binary at $BIN: cargo build --release -p tunnus" >&2; exit 1; }

# Mostly verified accounts in one organization with a license; every 10th
# unverified, every 50th with a broken email — so skips are exercised too.
echo "Generating $ROWS records..."
awk -v n="$ROWS" 'BEGIN {
    print "legacy_id,email,verified,given_name,family_name,country,organization_name,membership_kind,role,licenses"
    for (i = 0; i < n; i++) {
        email = (i % 50 == 7) ? "broken" i "@@example.com" : "person" i "@example.com"
        verified = (i % 10 == 3) ? "false" : "true"
        printf "B%d,%s,%s,Given%d,Family%d,FI,Acme,internal,member,campus\n", i, email, verified, i, i
    }
}' > "$WORK/export.csv"

run() {
    local name=$1 url=$2 dir=$3
    mkdir -p "$dir"
    TUNNUS_DATA_DIR=$dir TUNNUS_DATABASE_URL=$url TUNNUS_LOG__FILTER=warn "$BIN" org create Acme >/dev/null
    local start end
    start=$(date +%s.%N)
    TUNNUS_DATA_DIR=$dir TUNNUS_DATABASE_URL=$url TUNNUS_LOG__FILTER=warn \
        "$BIN" import-legacy "$WORK/export.csv" --batch-size "$BATCH" --report "$dir/report.json" >"$dir/summary.txt"
    end=$(date +%s.%N)
    awk -v n="$ROWS" -v s="$start" -v e="$end" -v b="$name" \
        'BEGIN { printf "%-10s %d records in %.1f s: %.0f records/s\n", b, n, e - s, n / (e - s) }'
    sed 's/^/    /' "$dir/summary.txt" | head -12
    # A rerun finds everything imported.
    start=$(date +%s.%N)
    TUNNUS_DATA_DIR=$dir TUNNUS_DATABASE_URL=$url TUNNUS_LOG__FILTER=warn \
        "$BIN" import-legacy "$WORK/export.csv" --batch-size "$BATCH" --report "$dir/rerun.json" >/dev/null
    end=$(date +%s.%N)
    awk -v n="$ROWS" -v s="$start" -v e="$end" -v b="$name" \
        'BEGIN { printf "%-10s rerun (nothing to do) in %.1f s: %.0f records/s\n", b, e - s, n / (e - s) }'
}

for backend in $BACKENDS; do
    case $backend in
        sqlite) run sqlite "sqlite://$WORK/sqlite/tunnus.db" "$WORK/sqlite" ;;
        postgres)
            psql -q "$PG" -c "CREATE SCHEMA $SCHEMA" >/dev/null
            sep='?'; [[ $PG == *\?* ]] && sep='&'
            run postgres "$PG${sep}options=-csearch_path%3D$SCHEMA" "$WORK/postgres"
            ;;
        *) echo "unknown backend $backend" >&2; exit 2 ;;
    esac
done
