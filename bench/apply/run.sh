#!/usr/bin/env bash
# bench/apply: dbdeploy applying 1,000 generated migrations to a fresh database, against psql
# applying the same files in one session with BEGIN/COMMIT around each file, in the same run.
# Also the no-op `apply` and `status` with 1,000 applied, against a bare psql count query of the
# ledger, and `status` with 10,000 applied (a second project, applied once).
#
#   bench/apply/run.sh [RUNS [BIG]]  (default 5 runs of the apply, 30 of the no-op commands;
#                                     BIG migrations for the big status, default 10000, 0 skips)
# DBDEPLOY_BASE_BIN=path/to/older/dbdeploy also times that binary's no-op commands, in the same
# run and on the same databases, for before/after figures.
source "$(dirname "$0")/../lib/common.sh"
runs=${1:-5}
big=${2:-10000}
n=1000

url=$(pg_start bench)
export PGHOST=$DD_PG_TMP/pg-bench/sock PGPORT=5432 PGUSER=postgres PGDATABASE=postgres
burl="postgresql:///bench?host=$PGHOST&port=5432&user=postgres"
work=$DD_PG_TMP/work
mkdir -p "$work/proj/migrations" "$work/proj/pipeline"
git -C "$work/proj" init -q -b main
# generate DIR COUNT WIDTH: COUNT golang-migrate pairs in DIR/migrations
generate() {
  local dir=$1 count=$2 width=$3 i v
  for i in $(seq 1 "$count"); do
    v=$(printf "%0${width}d" "$i")
    cat >"$dir/migrations/${v}_table_$v.up.sql" <<SQL
-- generated migration $v
CREATE TABLE t_$v (
    id bigserial PRIMARY KEY,
    name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX t_${v}_name_idx ON t_$v (name);
INSERT INTO t_$v (name) VALUES ('a'), ('b'), ('c');
SQL
    echo "DROP TABLE t_$v;" >"$dir/migrations/${v}_table_$v.down.sql"
  done
}
generate "$work/proj" $n 4
printf '[database]\n\turl = %s\n[backup]\n\tenabled = false\n' "$burl" >"$work/proj/pipeline/bench.conf"
git -C "$work/proj" add -A
git -C "$work/proj" -c user.name=bench -c user.email=bench@example.com commit -q -m "$n migrations"

# psql baseline: one session, each file wrapped in BEGIN/COMMIT
{
  for f in "$work"/proj/migrations/*.up.sql; do printf 'BEGIN;\n\\i %s\nCOMMIT;\n' "$f"; done
} >"$work/psql-driver.sql"

# floor: the same psql run without waiting for any commit's WAL flush (synchronous_commit off):
# what no tool that runs this SQL can beat, however few commits it makes
psql_ms=() dd_ms=() floor_ms=()
for r in $(seq 1 "$runs"); do
  for tool in psql floor dbdeploy; do
    dropdb --if-exists bench 2>/dev/null || true
    createdb bench
    t0=$(now_ms)
    if [[ $tool == psql ]]; then
      psql -X -q -v ON_ERROR_STOP=1 -d "$burl" -f "$work/psql-driver.sql" >/dev/null
      psql_ms+=($(( $(now_ms) - t0 )))
    elif [[ $tool == floor ]]; then
      PGOPTIONS="-c synchronous_commit=off" psql -X -q -v ON_ERROR_STOP=1 -d "$burl" -f "$work/psql-driver.sql" >/dev/null
      floor_ms+=($(( $(now_ms) - t0 )))
    else
      "$DBDEPLOY_BIN" -q -C "$work/proj" apply bench >/dev/null
      dd_ms+=($(( $(now_ms) - t0 )))
    fi
  done
  echo "run $r: psql ${psql_ms[-1]} ms, psql without commit waits ${floor_ms[-1]} ms, dbdeploy ${dd_ms[-1]} ms" >&2
done
p=$(printf '%s\n' "${psql_ms[@]}" | median)
fl=$(printf '%s\n' "${floor_ms[@]}" | median)
d=$(printf '%s\n' "${dd_ms[@]}" | median)
count=$(psql -X -At -d "$burl" -c "select count(*) from dbdeploy.migrations")
[[ "$count" == "$n" ]] || { echo "dbdeploy applied $count migrations, expected $n" >&2; exit 1; }

# no-op commands with 1,000 applied
noop() { # label, command...
  local label=$1 t0 ms=()
  shift
  for _ in $(seq 1 30); do
    t0=$(date +%s%N)
    "$@" >/dev/null
    ms+=($(( ($(date +%s%N) - t0) / 100000 )))  # tenths of a millisecond
  done
  printf '%s\n' "${ms[@]}" | median | awk '{printf "%.1f", $1 / 10}'
}
apply_noop=$(noop apply "$DBDEPLOY_BIN" -q -C "$work/proj" apply bench)
status_noop=$(noop status "$DBDEPLOY_BIN" -q -C "$work/proj" status bench)
psql_count=$(noop psql psql -X -At -d "$burl" -c "select count(*) from dbdeploy.migrations")
base=${DBDEPLOY_BASE_BIN:-}
if [[ -n "$base" ]]; then
  base_apply=$(noop apply "$base" -q -C "$work/proj" apply bench)
  base_status=$(noop status "$base" -q -C "$work/proj" status bench)
fi

# status with $big applied: the same files, applied once (commits not waited for: setup only)
if ((big > 0)); then
  big_url="postgresql:///bigbench?host=$PGHOST&port=5432&user=postgres"
  mkdir -p "$work/big/migrations" "$work/big/pipeline"
  git -C "$work/big" init -q -b main
  generate "$work/big" "$big" 5
  # one transaction would need a lock per created object, more than max_locks_per_transaction
  printf '[database]\n\turl = %s\n[backup]\n\tenabled = false\n[apply]\n\ttransaction = per-migration\n' \
    "$big_url" >"$work/big/pipeline/bench.conf"
  git -C "$work/big" add -A
  git -C "$work/big" -c user.name=bench -c user.email=bench@example.com commit -q -m "$big migrations"
  createdb bigbench
  psql -X -q -d bigbench -c "alter database bigbench set synchronous_commit = off"
  "$DBDEPLOY_BIN" -q -C "$work/big" apply bench >/dev/null
  big_status=$(noop status "$DBDEPLOY_BIN" -q -C "$work/big" status bench)
  big_count=$(noop psql psql -X -At -d "$big_url" -c "select count(*) from dbdeploy.migrations")
  # what part of it any tool pays on this machine: git's own look at the same 20,000 files
  # (index, lstat of each, untracked scan), and starting the binary
  big_git=$(noop git git -C "$work/big" status --porcelain -- migrations)
  version=$(noop version "$DBDEPLOY_BIN" --version)
  [[ -z "$base" ]] || base_big=$(noop status "$base" -q -C "$work/big" status bench)
fi

echo
echo "machine: $(machine)"
echo "apply $n migrations (median of $runs): psql ${p} ms, dbdeploy ${d} ms, ratio $(awk -v a="$d" -v b="$p" 'BEGIN {printf "%.3f", a / b}')x (goal <= 0.5x: one transaction for the deployment)"
echo "floor: psql without commit waits ${fl} ms, $(awk -v a="$fl" -v b="$p" 'BEGIN {printf "%.3f", a / b}')x psql (no tool running this SQL goes below it); dbdeploy / floor $(awk -v a="$d" -v b="$fl" 'BEGIN {printf "%.3f", a / b}')x"
echo "no-op apply with $n applied: ${apply_noop} ms (goal < 50 ms)"
echo "status with $n applied:      ${status_noop} ms (goal < 50 ms)"
echo "bare psql count query:       ${psql_count} ms"
echo "status / psql count:         $(awk -v a="$status_noop" -v b="$psql_count" 'BEGIN {printf "%.2f", a / b}')x (goal <= 2x)"
if ((big > 0)); then
  echo "status with $big applied:    ${big_status} ms (goal <= 100 ms); psql count ${big_count} ms"
  echo "  beside it: git status of the same migrations/ ${big_git} ms; dbdeploy --version ${version} ms"
fi
if [[ -n "$base" ]]; then
  line="$base: no-op apply ${base_apply} ms, status ${base_status} ms"
  ((big > 0)) && line+=", status with $big applied ${base_big} ms"
  echo "$line"
fi
