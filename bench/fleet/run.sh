#!/usr/bin/env bash
# bench/fleet: one small migration deployed to a fleet of N databases (default 100) on one
# cluster, `[rollout] parallel = 8` against `parallel = 1` in the same run, backups off. Each
# timing is the whole `dbdeploy deploy ENV` of the fleet: every target planned (a dry run per
# target), then the rollout in waves (a canary, then the rest). Fresh databases for each run.
#
# The floor: client and server share the machine's cores, so parallel cannot beat the CPU the
# sequential run needs spread over every core. The CPU time of this bench's own processes (the
# dbdeploy tree and the bench cluster: the postmaster's own and its reaped backends') during the
# sequential run, divided by the cores, as a share of the sequential wall time, is that floor;
# the machine-wide busy time (/proc/stat, other users included) and the load average go beside it.
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

hz=$(getconf CLK_TCK)
cores=$(nproc)
pm_pid=$(head -1 "$DD_PG_TMP/pg-bench/data/postmaster.pid")
# CPU ticks of the postmaster and its reaped children (the backends): utime stime cutime cstime
server_ticks() { awk '{print $14 + $15 + $16 + $17}' "/proc/$pm_pid/stat"; }
# CPU ticks of this shell's reaped children (dbdeploy and its children), from bash's `times`
client_ticks() { times | tail -1 | awk -v hz="$hz" '{ split($1, u, /[ms]/); split($2, s, /[ms]/); printf "%d", (u[1] * 60 + u[2] + s[1] * 60 + s[2]) * hz }'; }
busy_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }

seq_ms=() par_ms=() floor=() own_cpu=() busy_cpu=()
for r in $(seq 1 "$runs"); do
  for env in seq par; do
    fresh
    s0=$(server_ticks) c0=$(client_ticks) b0=$(busy_ticks)
    t0=$(now_ms)
    "$DBDEPLOY_BIN" -q -C "$proj" deploy "$env" >"$work/$env.out" 2>&1 || { cat "$work/$env.out" >&2; exit 1; }
    ms=$(( $(now_ms) - t0 ))
    s1=$(server_ticks) c1=$(client_ticks) b1=$(busy_ticks)
    own=$(( (s1 - s0 + c1 - c0) * 1000 / hz )) busy=$(( (b1 - b0) * 1000 / hz ))
    grep -q "rollout of $env done: $n targets" "$work/$env.out" || { cat "$work/$env.out" >&2; exit 1; }
    applied=$(for i in $(seq -w 1 "$n"); do psql -X -At -d "fleet_$i" -c "select count(*) from dbdeploy.migrations"; done | paste -sd+ | bc)
    [[ "$applied" == "$n" ]] || { echo "expected $n applied, found $applied" >&2; exit 1; }
    if [[ $env == seq ]]; then
      seq_ms+=("$ms") own_cpu+=("$own") busy_cpu+=("$busy")
      floor+=("$(awk -v c="$own" -v w="$ms" -v n="$cores" 'BEGIN {printf "%.3f", c / n / w}')")
    else par_ms+=("$ms"); fi
    echo "run $r: parallel = $([[ $env == seq ]] && echo 1 || echo 8): ${ms} ms wall, ${own} ms CPU (dbdeploy + server), machine busy ${busy} ms CPU, load $(cut -d' ' -f1-3 /proc/loadavg)"
  done
done
s=$(printf '%s\n' "${seq_ms[@]}" | median)
p=$(printf '%s\n' "${par_ms[@]}" | median)
echo
echo "machine: $(machine)"
echo "fleet of $n databases, one migration, backups off (median of $runs): parallel = 1 ${s} ms, parallel = 8 ${p} ms, ratio $(awk -v a="$p" -v b="$s" 'BEGIN {printf "%.3f", a / b}')x (goal <= 0.35x)"
echo "floor on $cores cores: $(printf '%s\n' "${floor[@]}" | median)x (the sequential run's own CPU, $(printf '%s\n' "${own_cpu[@]}" | median) ms, spread over $cores cores, per ms of its wall time; machine busy meanwhile $(printf '%s\n' "${busy_cpu[@]}" | median) ms CPU)"
