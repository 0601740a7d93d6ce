#!/usr/bin/env bash
# Run every test: installs dependencies, builds the normal (-Werror) and the sanitizer
# (ASan + UBSan) configurations, and runs the whole CTest suite against each: cmocka unit
# tests and integration tests on throwaway PostgreSQL clusters, real git repositories and a
# local HTTP endpoint. Then scripts/fuzz.sh and scripts/coverage.sh. This is the command CI
# runs (.ci/run).
#
#   scripts/test.sh            everything
#   scripts/test.sh -R corpus  extra arguments go to ctest (both builds)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"

# in CI a missing PostgreSQL must fail, never skip
export DBDEPLOY_TEST_ALLOW_SKIP=${DBDEPLOY_TEST_ALLOW_SKIP:-0}
jobs=$(nproc 2>/dev/null || echo 2)
status=0
for kind in release asan; do
  echo "== build ($kind)"
  "$root/scripts/build.sh" "$kind"
  dir=$root/build; [[ $kind == asan ]] && dir=$root/build-asan
  echo "== test ($kind)"
  # LeakSanitizer needs ptrace-like access that some containers deny; ASan's other checks stay on
  export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
  if ! (cd "$dir" && ctest --output-on-failure -j "$jobs" "$@"); then
    status=1
  fi
done
# Fuzzing (FUZZ_SECONDS per harness, 20 by default) and the line coverage of src/; each is its
# own build (build-fuzz/ with clang, build-coverage/ with gcc --coverage).
echo "== fuzz"
"$root/scripts/fuzz.sh" || status=1
echo "== coverage"
"$root/scripts/coverage.sh" "$@" || status=1
if ((status)); then
  echo "FAILED: see the test output above" >&2
else
  echo "all tests passed (release and asan builds, fuzzing, coverage build)"
fi
exit $status
