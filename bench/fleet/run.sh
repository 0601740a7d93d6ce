#!/usr/bin/env bash
# bench/fleet: one small migration deployed to a fleet of N databases (default 100) on one
# cluster, `[rollout] parallel = 8` against `parallel = 1` in the same run, backups off. Each
# timing is the whole `dbdeploy deploy ENV` of the fleet: every target planned (a dry run per
# target), then the rollout in waves (a canary, then the rest). Fresh databases for each run.
#
#   bench/fleet/run.sh [N [RUNS]]   (defaults 100 and 1; with RUNS > 1 the medians are shown)
source "$(dirname "$0")/../lib/common.sh"
n=${1:-100}
runs=${2:-1}

pg_start bench >/dev/null
export PGHOST=$DD_PG_TMP/pg-bench/sock PGPORT=5432 PGUSER=postgres PGDATABASE=postgres
work=$DD_PG_TMP/work
proj=$work/proj
mkdir -p "$proj/migrations" "$proj/pipeline"
git -C "$proj" init -q -b main
cat >"$proj/migrations/0001_accounts.sql" <<'SQL'
CREATE TABLE accounts (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, created_at timestamptz NOT NULL DEFAULT now());
CREATE INDEX accounts_created_idx ON accounts (created_at);
SQL
for i in $(seq -w 1 "$n"); do echo "t$i postgresql:///fleet_$i?host=$PGHOST&port=5432&user=postgres"; done >"$proj/targets.txt"
conf() { # PARALLEL
  printf '[database]\n\turl = postgresql:///postgres?host=%s&port=5432&user=postgres\n[backup]\n\tenabled = false\n' "$PGHOST"
  printf '[targets]\n\tfile = targets.txt\n[rollout]\n\twaves = 1, 100%%\n\tparallel = %s\n' "$1"
}
conf 1 >"$proj/pipeline/seq.conf"
conf 8 >"$proj/pipeline/par.conf"
git -C "$proj" add -A
git -C "$proj" -c user.name=bench -c user.email=bench@example.com commit -q -m "fleet bench"

fresh() {
  for i in $(seq -w 1 "$n"); do echo "DROP DATABASE IF EXISTS fleet_$i; CREATE DATABASE fleet_$i;"; done |
    PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -d postgres >/dev/null
}

seq_ms=() par_ms=()
for r in $(seq 1 "$runs"); do
  for env in seq par; do
    fresh
    t0=$(now_ms)
    "$DBDEPLOY_BIN" -q -C "$proj" deploy "$env" >"$work/$env.out" 2>&1 || { cat "$work/$env.out" >&2; exit 1; }
    ms=$(( $(now_ms) - t0 ))
    grep -q "rollout of $env done: $n targets" "$work/$env.out" || { cat "$work/$env.out" >&2; exit 1; }
    applied=$(for i in $(seq -w 1 "$n"); do psql -X -At -d "fleet_$i" -c "select count(*) from dbdeploy.migrations"; done | paste -sd+ | bc)
    [[ "$applied" == "$n" ]] || { echo "expected $n applied, found $applied" >&2; exit 1; }
    if [[ $env == seq ]]; then seq_ms+=("$ms"); else par_ms+=("$ms"); fi
    echo "run $r: parallel = $([[ $env == seq ]] && echo 1 || echo 8): ${ms} ms"
  done
done
s=$(printf '%s\n' "${seq_ms[@]}" | median)
p=$(printf '%s\n' "${par_ms[@]}" | median)
echo
echo "machine: $(machine)"
echo "fleet of $n databases, one migration, backups off (median of $runs): parallel = 1 ${s} ms, parallel = 8 ${p} ms, ratio $(awk -v a="$p" -v b="$s" 'BEGIN {printf "%.3f", a / b}')x (goal <= 0.35x)"
