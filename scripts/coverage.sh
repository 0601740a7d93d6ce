#!/usr/bin/env bash
# Line coverage of src/: build build-coverage/ with gcc --coverage (-O0), run the whole CTest
# suite (unit and integration tests) against it, and print the figure with gcovr.
#
#   scripts/coverage.sh                 everything; build-coverage/coverage.txt has the per-file table
#   scripts/coverage.sh -R unit/        extra arguments go to ctest
#   COVERAGE_MIN=80 scripts/coverage.sh also fail when line coverage of src/ is below 80 %
# build-coverage/coverage.html shows the lines run and not run, per file.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$root/build-coverage
jobs=$(nproc 2>/dev/null || echo 2)
command -v gcovr >/dev/null || { echo "error: gcovr is missing (scripts/install-deps.sh installs it)" >&2; exit 1; }

# atomic counter updates: status and lint run threads, and racing increments leave counts that
# gcov prints as negative ("branch 3 taken -1"), which gcovr refuses
cmake -S "$root" -B "$dir" -DCMAKE_C_COMPILER=gcc -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_C_FLAGS="--coverage -fprofile-update=atomic" -DCMAKE_EXE_LINKER_FLAGS=--coverage >/dev/null
cmake --build "$dir" -j "$jobs" >/dev/null
# counts from an earlier run would add up with this one's
find "$dir" -name '*.gcda' -delete
status=0
(cd "$dir" && ctest --output-on-failure -j "$jobs" "$@") || status=1
gcovr --root "$root" --filter "$root/src/" --object-directory "$dir" -j "$jobs" --print-summary \
  --txt "$dir/coverage.txt" --html-details "$dir/coverage.html" "$dir/src" | tee "$dir/coverage-summary.txt"
pct=$(sed -n 's/^lines: \([0-9.]*\)%.*/\1/p' "$dir/coverage-summary.txt")
echo "line coverage of src/: ${pct}%"
if [[ -n ${COVERAGE_MIN:-} ]] && awk -v p="$pct" -v m="$COVERAGE_MIN" 'BEGIN { exit !(p < m) }'; then
  echo "FAILED: line coverage ${pct}% is below COVERAGE_MIN=${COVERAGE_MIN}%" >&2
  status=1
fi
exit $status
