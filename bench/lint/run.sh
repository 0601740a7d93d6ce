#!/usr/bin/env bash
# Benchmark: `dbdeploy lint` against squawk (the most used PostgreSQL migration linter) on the
# real-world corpus (../shared/corpus: six sets, 851 files, up and down).
#
#   bench/lint/run.sh [RUNS]        (default 20 runs of each linter)
#
# Each run lints all six sets with each linter (one process per set, every file of the set
# named on the command line), interleaved, and the medians of the per-run totals are compared.
# squawk 2.66.0 is installed with npm into the cache directory (never a dependency of
# dbdeploy) and its native binary is timed, not the node wrapper. Beside the time, per set:
# squawk's require-concurrent-index-creation findings and dbdeploy's index-without-concurrently
# findings (dbdeploy lints the set as pending, so tables created by an earlier file are new).
# Goal: dbdeploy's median <= squawk's. Exits 1 when it is missed.
#
# Environment: DBDEPLOY_BIN (default build/src/dbdeploy, not the sanitizer build), DD_CORPUS
# (default ../shared/corpus beside the source tree), DD_BENCH_CACHE (default
# ${TMPDIR:-/tmp}/dbdeploy-bench-lint).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
runs=${1:-20}
bin=${DBDEPLOY_BIN:-$root/build/src/dbdeploy}
corpus=${DD_CORPUS:-$root/../shared/corpus}
cache=${DD_BENCH_CACHE:-${TMPDIR:-/tmp}/dbdeploy-bench-lint}
squawk_version=2.66.0
sets=(openmeter pocket-id lakefs svix rauthy ftl)

[[ -x "$bin" ]] || { echo "error: no dbdeploy binary at '$bin'" >&2; echo "hint: Build it first, or set DBDEPLOY_BIN." >&2; exit 2; }
[[ -d "$corpus" ]] || { echo "error: no corpus at '$corpus'" >&2; echo "hint: Set DD_CORPUS." >&2; exit 2; }
(( BASH_VERSINFO[0] >= 5 )) || { echo "error: bash 5 is needed (EPOCHREALTIME)" >&2; exit 2; }

squawk=$cache/node_modules/@squawk-cli/linux-x64/bin/squawk
if [[ ! -x "$squawk" ]] || [[ "$("$squawk" --version)" != "squawk $squawk_version" ]]; then
  command -v npm >/dev/null || { echo "error: npm is needed to install squawk" >&2; exit 2; }
  mkdir -p "$cache"
  (cd "$cache" && npm install --no-audit --no-fund --silent "squawk-cli@$squawk_version" >&2)
fi

# every file of a set, as each linter receives it
files() { (cd "$corpus/$1" && ls migrations/*.sql); }

# all paths in one array, set k at [start[k], start[k] + count[k]): no subshell while timing
all=() start=() count=()
for s in "${sets[@]}"; do
  start+=("${#all[@]}")
  mapfile -t -O "${#all[@]}" all < <(files "$s" | sed "s|^|$corpus/$s/|")
  count+=($(( ${#all[@]} - ${start[-1]} )))
done

run_dbdeploy() {
  local k
  for k in "${!sets[@]}"; do
    "$bin" -C "$corpus/${sets[k]}" lint --json "${all[@]:start[k]:count[k]}" >/dev/null 2>&1 || true
  done
}
run_squawk() {
  local k
  for k in "${!sets[@]}"; do
    "$squawk" --reporter=gcc "${all[@]:start[k]:count[k]}" >/dev/null 2>&1 || true
  done
}

# "wall_us cpu_us" of one call of $1 (cpu: user + system of the linter processes)
measure() {
  local TIMEFORMAT='%R %U %S' t
  t=$({ time "$1"; } 2>&1)
  awk '{ printf "%d %d\n", $1 * 1e6, ($2 + $3) * 1e6 }' <<<"$t"
}
median_ms() {
  sort -n | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.1f", m / 1000 }'
}

nfiles=0
for s in "${sets[@]}"; do nfiles=$((nfiles + $(files "$s" | wc -l))); done

for _ in 1 2 3; do run_dbdeploy; run_squawk; done # warm the page cache
dd_wall=() dd_cpu=() sq_wall=() sq_cpu=()
for ((i = 0; i < runs; i++)); do
  read -r w c < <(measure run_dbdeploy)
  dd_wall+=("$w") dd_cpu+=("$c")
  read -r w c < <(measure run_squawk)
  sq_wall+=("$w") sq_cpu+=("$c")
done
dd_ms=$(printf '%s\n' "${dd_wall[@]}" | median_ms)
sq_ms=$(printf '%s\n' "${sq_wall[@]}" | median_ms)
dd_cpu_ms=$(printf '%s\n' "${dd_cpu[@]}" | median_ms)
sq_cpu_ms=$(printf '%s\n' "${sq_cpu[@]}" | median_ms)
ratio=$(awk -v d="$dd_ms" -v s="$sq_ms" 'BEGIN { printf "%.2f", d / s }')
cpu_ratio=$(awk -v d="$dd_cpu_ms" -v s="$sq_cpu_ms" 'BEGIN { printf "%.2f", d / s }')

cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
echo "corpus:  ${#sets[@]} sets, $nfiles files ($corpus)"
echo "machine: $(nproc) CPUs, ${cpu:-unknown CPU}; squawk $squawk_version; dbdeploy $("$bin" --version | awk '{print $2}')"
echo "runs:    $runs of each, interleaved, after 3 warm-up runs"
echo
printf '%-10s %6s %18s %18s %14s\n' set files "squawk non-conc." "dbdeploy non-conc." "dbdeploy all"
sq_total=0 dd_total=0
for s in "${sets[@]}"; do
  n=$(files "$s" | wc -l)
  sq=$(cd "$corpus/$s" && "$squawk" --reporter=gcc $(files "$s") 2>/dev/null | grep -c 'require-concurrent-index-creation' || true)
  json=$(cd "$corpus/$s" && "$bin" lint --json $(files "$s") 2>/dev/null || true)
  dd=$(jq '[.findings[] | select(.rule == "index-without-concurrently")] | length' <<<"$json")
  all=$(jq '.findings | length' <<<"$json")
  printf '%-10s %6d %18d %18d %14d\n' "$s" "$n" "$sq" "$dd" "$all"
  sq_total=$((sq_total + sq)) dd_total=$((dd_total + dd))
done
printf '%-10s %6d %18d %18d\n' total "$nfiles" "$sq_total" "$dd_total"
echo
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "dbdeploy lint median (all sets): $dd_ms ms wall, $dd_cpu_ms ms CPU"
echo "squawk median (all sets):        $sq_ms ms wall, $sq_cpu_ms ms CPU"
echo "ratio (dbdeploy / squawk):       $ratio wall, $cpu_ratio CPU"
if awk -v r="$ratio" 'BEGIN { exit !(r <= 1) }'; then
  echo "goal (dbdeploy <= squawk): met"
else
  echo "goal (dbdeploy <= squawk): MISSED"
  exit 1
fi
