#!/usr/bin/env bash
# bench/drift: what the drift check adds to a deploy's preflight on a schema of 1,000 tables
# (each with 4 columns, a primary key, an index, a check constraint; plus 100 functions and 100
# views): `dbdeploy plan` with [schema] drift = block against the same with drift = off, and, as
# the baseline measured in the same run, psql running one catalog count query.
# Goal (issue 13): the check adds <= 150 ms. Also `dbdeploy drift` with and without drift: the full
# listing is read and compared only when the fingerprints differ.
#
#   bench/drift/run.sh [RUNS]   (default 15)
source "$(dirname "$0")/../lib/common.sh"
runs=${1:-15}
n=1000

url=$(pg_start bench)
export PGHOST=$DD_PG_TMP/pg-bench/sock PGPORT=5432 PGUSER=postgres PGDATABASE=postgres
burl="postgresql:///bench?host=$PGHOST&port=5432&user=postgres"
createdb bench
work=$DD_PG_TMP/work
mkdir -p "$work/proj/migrations" "$work/proj/pipeline"
git -C "$work/proj" init -q -b main
{
  for i in $(seq 1 $n); do
    printf 'CREATE TABLE t_%d (id bigserial PRIMARY KEY, name text NOT NULL, n int CHECK (n >= 0), created_at timestamptz NOT NULL DEFAULT now());\n' "$i"
    printf 'CREATE INDEX t_%d_name_idx ON t_%d (name);\n' "$i" "$i"
  done
  for i in $(seq 1 100); do
    printf 'CREATE FUNCTION f_%d(x int) RETURNS int LANGUAGE sql AS $$ SELECT x + %d $$;\n' "$i" "$i"
    printf 'CREATE VIEW v_%d AS SELECT id, name FROM t_%d;\n' "$i" "$i"
  done
} >"$work/proj/migrations/0001_schema.sql"
echo "SELECT 1;" >"$work/proj/migrations/0002_noop.sql"
conf() { printf '[database]\n\turl = %s\n[backup]\n\tenabled = false\n[schema]\n\tdrift = %s\n' "$burl" "$1" >"$work/proj/pipeline/$2.conf"; }
conf block on
conf off off
git -C "$work/proj" add -A
git -C "$work/proj" -c user.name=bench -c user.email=bench@example.com commit -q -m schema
"$DBDEPLOY_BIN" -q -C "$work/proj" apply on --to 1 >/dev/null

time_ms() { local t0 t1; t0=$(now_ms); "$@" >/dev/null 2>&1 || true; t1=$(now_ms); echo $((t1 - t0)); }
sample() { for _ in $(seq 1 "$runs"); do time_ms "$@"; done | median; }

on=$(sample "$DBDEPLOY_BIN" -q -C "$work/proj" plan on)
off=$(sample "$DBDEPLOY_BIN" -q -C "$work/proj" plan off)
base=$(sample psql -X -Atq -d bench -c "SELECT count(*) FROM pg_class")
clean=$(sample "$DBDEPLOY_BIN" -q -C "$work/proj" drift on)
psql -X -q -d bench -c "ALTER TABLE t_1 ADD COLUMN hand text" -c "DROP INDEX t_2_name_idx"
drifted=$(sample "$DBDEPLOY_BIN" -q -C "$work/proj" drift on)

echo "bench/drift on $(machine); load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "schema: $n tables (4 columns, pkey, index, check each), 100 functions, 100 views; median of $runs"
printf '%-44s %6s ms\n' "plan with [schema] drift = off" "$off"
printf '%-44s %6s ms\n' "plan with drift = block, no drift" "$on"
printf '%-44s %6s ms   (goal <= 150 ms)\n' "  added by the check" "$((on - off))"
printf '%-44s %6s ms\n' "dbdeploy drift, no drift (fingerprint only)" "$clean"
printf '%-44s %6s ms\n' "dbdeploy drift, 2 objects drifted (full diff)" "$drifted"
printf '%-44s %6s ms\n' "  added by reading and diffing every line" "$((drifted - clean))"
printf '%-44s %6s ms   (check / baseline: %s)\n' "baseline: psql catalog count query" "$base" \
  "$(awk -v a=$((on - off)) -v b="$base" 'BEGIN { printf "%.2fx", (b > 0 ? a / b : 0) }')"
