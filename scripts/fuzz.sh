#!/usr/bin/env bash
# Fuzz the parsers that read untrusted input (tests/fuzz/fuzz_*.c): build them in build-fuzz/
# with clang, libFuzzer, ASan and UBSan; replay every input in tests/fuzz/regressions/<name>/;
# then fuzz each harness for FUZZ_SECONDS (default 20) from its seeds (tests/fuzz/seeds/<name>/,
# the real-world migrations in ../shared/corpus, the project's own pipeline/ and migrations/).
# Any crash, leak, sanitizer report or broken invariant fails the script; the input is kept in
# build-fuzz/findings/<name>/ (add it to tests/fuzz/regressions/<name>/ with the fix).
#
#   scripts/fuzz.sh                      every harness
#   scripts/fuzz.sh sql_split mask       only these
#   FUZZ_SECONDS=600 scripts/fuzz.sh     longer runs; FUZZ_SECONDS=0 only replays regressions
#   FUZZ_RUNS=50000 scripts/fuzz.sh      a fixed number of runs from seed 1 instead of a time: the
#                                        same inputs on every machine (what CI runs, so that a CI
#                                        verdict does not depend on the runner's speed or luck)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$root/build-fuzz
seconds=${FUZZ_SECONDS:-20}
corpus=${DBDEPLOY_CORPUS:-$root/../shared/corpus}
jobs=$(nproc 2>/dev/null || echo 2)
san="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"

names=("$@")
if ((${#names[@]} == 0)); then
  for f in "$root"/tests/fuzz/fuzz_*.c; do
    n=${f##*/fuzz_}
    names+=("${n%.c}")
  done
fi

echo "== build (clang, libFuzzer + ASan + UBSan) in $dir"
cmake -S "$root" -B "$dir" -DCMAKE_C_COMPILER="${FUZZ_CC:-clang}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_FLAGS="$san" -DDBDEPLOY_FUZZ=ON -DDBDEPLOY_TESTS=OFF -DDBDEPLOY_WERROR=OFF >/dev/null
cmake --build "$dir" -j "$jobs" --target "${names[@]/#/fuzz_}" >/dev/null

# seed directories of a harness (read, never written)
seeds() {
  local d
  for d in "$root/tests/fuzz/seeds/$1" "$root/tests/fuzz/regressions/$1"; do
    [[ -d $d ]] && echo "$d"
  done
  case $1 in
    sql_split)
      echo "$root/migrations"
      for d in "$corpus"/*/migrations; do [[ -d $d ]] && echo "$d"; done
      ;;
    config) echo "$root/pipeline" ;;
  esac
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0
summary=()
for name in "${names[@]}"; do
  bin=$dir/tests/fuzz/fuzz_$name
  mkdir -p "$dir/corpus/$name" "$dir/findings/$name"
  log=$dir/findings/$name.log
  regressions=("$root"/tests/fuzz/regressions/"$name"/*)
  if [[ -e ${regressions[0]} ]]; then
    echo "== replay $name: ${#regressions[@]} regression input(s)"
    if ! "$bin" "${regressions[@]}" >"$log" 2>&1; then
      cat "$log" >&2
      summary+=("$name: a regression input fails again")
      status=1
      continue
    fi
  fi
  ((seconds > 0)) || continue
  if [[ -n ${FUZZ_RUNS:-} ]]; then
    limit=(-runs="$FUZZ_RUNS" -seed=1)
    echo "== fuzz $name for $FUZZ_RUNS runs from seed 1"
  else
    limit=(-max_total_time="$seconds")
    echo "== fuzz $name for ${seconds}s"
  fi
  mapfile -t seed_dirs < <(seeds "$name")
  if "$bin" "${limit[@]}" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
    -artifact_prefix="$dir/findings/$name/" "$dir/corpus/$name" "${seed_dirs[@]}" >"$log" 2>&1; then
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    summary+=("$name: $execs runs, $rate/s, $cov, no findings")
  else
    tail -n 60 "$log" >&2
    summary+=("$name: FINDING, input in $dir/findings/$name/ (log: $log)")
    status=1
  fi
done
echo "== fuzz summary"
printf '  %s\n' "${summary[@]}"
exit $status
