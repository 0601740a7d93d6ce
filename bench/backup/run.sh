#!/usr/bin/env bash
# Backup and restore benchmark (issue 4, "Must show" 3).
#
#   bench/backup/run.sh [--scale N] [--reps N] [--level N] [--keep]
#
# Starts a throwaway cluster with PostgreSQL's default durability settings (fsync on), makes two
# `pgbench -i -s N` databases (default N = 50, about 750 MB each):
#   stock      pgbench's own data: blank filler, compresses 35-120x
#   realistic  pgbench_accounts.filler rewritten with md5 text, then VACUUM FULL: about 3.8x
# and measures, for each, in the same run:
#   backup time  / `pg_dump -Fc > file`          goal <= 0.4 (realistic), <= 1.0 (stock)
#   backup time  / `pg_dump -Fp > /dev/null`     goal <= 2.0 (the dump floor, realistic)
#   restore time / `pg_restore -d` from the -Fc file   goal <= 1.1
#   archive size / -Fc file size                 goal <= 1.05
#   dbdeploy's peak RSS (GNU time's maximum resident set size)   goal <= 64 MiB
# For context it also times replacing a database by hand (dropdb, createdb, pg_restore), which
# like dbdeploy's restore pays for dropping the old database (DROP DATABASE forces a checkpoint).
# Each timing is the median of --reps runs (default 3). --level sets [backup] compression-level
# (default: dbdeploy's own default). Results go to stdout.
#
# Needs: a built dbdeploy (DBDEPLOY_BIN, default build/src/dbdeploy), PostgreSQL server and
# client programs, pgbench, GNU time (/usr/bin/time), git. About 5 GB of free space in $TMPDIR.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
scale=50 reps=3 keep=0 level=
while [[ $# -gt 0 ]]; do
  case $1 in
    --scale) scale=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --level) level=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "usage: $0 [--scale N] [--reps N] [--level N] [--keep]" >&2; exit 2 ;;
  esac
done

dbdeploy=${DBDEPLOY_BIN:-$root/build/src/dbdeploy}
[[ -x $dbdeploy ]] || { echo "error: no dbdeploy at '$dbdeploy' (build first, or set DBDEPLOY_BIN)" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "error: GNU time (/usr/bin/time) is needed for peak RSS" >&2; exit 1; }

export DD_PG_TMP
DD_PG_TMP=$(mktemp -d "${TMPDIR:-/tmp}/dbdeploy-bench.XXXXXX")
chmod 755 "$DD_PG_TMP" # as root, the server runs as another user and must reach its files
# shellcheck source=../../tests/support/pg.sh
source "$root/tests/support/pg.sh"
cleanup() {
  pg_stop_all
  if [[ $keep == 1 ]]; then echo "kept $DD_PG_TMP" >&2; else rm -rf "$DD_PG_TMP"; fi
}
trap cleanup EXIT

# Default durability: no fsync=off shortcuts, so the numbers mean what they would on a server.
DD_PG_SETTINGS="" pg_start bench >/dev/null
export PGHOST=$DD_PG_TMP/pg-bench/sock PGPORT=5432 PGUSER=postgres PGDATABASE=postgres
PATH="$(pg_bindir):$PATH"
work=$DD_PG_TMP/work
mkdir -p "$work/proj/pipeline"
cd "$work"

log() { printf '%s\n' "$*" >&2; }

log "preparing two pgbench -s $scale databases (this takes a few minutes)"
for db in stock realistic; do
  createdb "$db"
  pgbench -q -i -s "$scale" "$db" >/dev/null 2>&1
done
psql -X -q -v ON_ERROR_STOP=1 -d realistic <<'SQL'
UPDATE pgbench_accounts
   SET filler = md5(aid::text) || md5((aid + 1)::text) || substr(md5((aid + 2)::text), 1, 20);
VACUUM FULL pgbench_accounts;
ANALYZE;
SQL
psql -X -q -c CHECKPOINT

git -C proj init -q -b main
git -C proj -c user.name=bench -c user.email=bench@example.com commit -q --allow-empty -m bench
for db in stock realistic; do
  printf '[database]\n\turl = postgresql:///%s?host=%s&port=%s&user=postgres\n[backup]\n\tdir = %s\n' \
    "$db" "$PGHOST" "$PGPORT" "$work/archives" >"proj/pipeline/$db.conf"
  [[ -z $level ]] || printf '\tcompression-level = %s\n' "$level" >>"proj/pipeline/$db.conf"
done

# run_timed OUTFILE CMD...: wall seconds on stdout; with GNU time, "seconds maxrss_kib"
run_timed() {
  local out=$1
  shift
  /usr/bin/time -f '%e %M' -o "$work/time.out" "$@" >"$out" 2>"$work/stderr.out" || {
    cat "$work/stderr.out" >&2
    return 1
  }
  cat "$work/time.out"
}

median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }

declare -A res
for db in stock realistic; do
  : >"$work/t_fc" >"$work/t_floor" >"$work/t_bk" >"$work/t_pr" >"$work/t_man" >"$work/t_rs" >"$work/rss"
  for ((i = 1; i <= reps; i++)); do
    log "$db: run $i of $reps"
    read -r t _ < <(run_timed "$work/$db.fc" pg_dump -Fc -d "$db")
    echo "$t" >>"$work/t_fc"
    read -r t _ < <(run_timed /dev/null pg_dump -Fp -d "$db")
    echo "$t" >>"$work/t_floor"
    rm -rf "$work/archives"
    read -r t rss < <(run_timed "$work/bk.out" "$dbdeploy" -C proj -q backup "$db")
    echo "$t" >>"$work/t_bk"
    echo "$rss" >>"$work/rss"
    archive=$(cat "$work/bk.out")

    dropdb --if-exists "${db}_pr"
    createdb "${db}_pr"
    read -r t _ < <(run_timed /dev/null pg_restore -d "${db}_pr" "$work/$db.fc")
    echo "$t" >>"$work/t_pr"
    psql -X -q -c CHECKPOINT
    read -r t _ < <(run_timed /dev/null bash -c "dropdb '${db}_pr' && createdb '${db}_pr' && pg_restore -d '${db}_pr' '$work/$db.fc'")
    echo "$t" >>"$work/t_man"
    dropdb "${db}_pr"
    psql -X -q -c CHECKPOINT
    read -r t rss < <(run_timed /dev/null "$dbdeploy" -C proj -q restore "$db" "$archive" --yes)
    echo "$t" >>"$work/t_rs"
    echo "$rss" >>"$work/rss"
    psql -X -q -c CHECKPOINT
  done
  res[$db.fc]=$(median <"$work/t_fc")
  res[$db.floor]=$(median <"$work/t_floor")
  res[$db.bk]=$(median <"$work/t_bk")
  res[$db.pr]=$(median <"$work/t_pr")
  res[$db.man]=$(median <"$work/t_man")
  res[$db.rs]=$(median <"$work/t_rs")
  res[$db.rss]=$(sort -n "$work/rss" | tail -1)
  res[$db.fcsize]=$(stat -c %s "$work/$db.fc")
  res[$db.arsize]=$(stat -c %s "$archive")
  res[$db.dbsize]=$(psql -XAt -c "select pg_database_size('$db')")
done

printf '\nbackup benchmark: pgbench -s %s, median of %s runs, zstd level %s, %s\n' "$scale" "$reps" \
  "${level:-default}" "$(pg_dump --version)"
printf 'machine: %s, %s CPUs, %s\n\n' "$(uname -sr)" "$(nproc)" \
  "$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
printf '%-10s %7s %7s %8s %9s %9s %9s %10s %11s %11s %8s\n' dataset db_MB fc_s floor_s backup_s pg_rst_s \
  by_hand_s restore_s fc_MB archive_MB rss_MiB
for db in stock realistic; do
  printf '%-10s %7.0f %7.2f %8.2f %9.2f %9.2f %9.2f %10.2f %11.1f %11.1f %8.1f\n' "$db" \
    "$(awk -v b="${res[$db.dbsize]}" 'BEGIN {print b / 1e6}')" "${res[$db.fc]}" "${res[$db.floor]}" \
    "${res[$db.bk]}" "${res[$db.pr]}" "${res[$db.man]}" "${res[$db.rs]}" \
    "$(awk -v b="${res[$db.fcsize]}" 'BEGIN {print b / 1e6}')" \
    "$(awk -v b="${res[$db.arsize]}" 'BEGIN {print b / 1e6}')" \
    "$(awk -v k="${res[$db.rss]}" 'BEGIN {print k / 1024}')"
done
printf '\n%-10s %12s %13s %15s %16s %12s %8s\n' ratios 'backup/-Fc' 'backup/floor' 'restore/pg_rst' \
  'restore/by_hand' 'archive/-Fc' 'rss_MiB'
for db in stock realistic; do
  printf '%-10s %12s %13s %15s %16s %12s %8.1f\n' "$db" "$(ratio "${res[$db.bk]}" "${res[$db.fc]}")" \
    "$(ratio "${res[$db.bk]}" "${res[$db.floor]}")" "$(ratio "${res[$db.rs]}" "${res[$db.pr]}")" \
    "$(ratio "${res[$db.rs]}" "${res[$db.man]}")" \
    "$(ratio "${res[$db.arsize]}" "${res[$db.fcsize]}")" "$(awk -v k="${res[$db.rss]}" 'BEGIN {print k / 1024}')"
done
printf '\ngoals: realistic backup/-Fc <= 0.40 and backup/floor <= 2.0; stock backup/-Fc <= 1.0;\n'
printf '       restore/pg_rst <= 1.1; archive/-Fc <= 1.05; rss <= 64 MiB\n'
