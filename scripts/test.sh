#!/usr/bin/env bash
# Run every test: installs dependencies, builds the release configuration (-Werror, compiled
# only: it is what the demo and users run), then runs the whole CTest suite twice: on the
# coverage build (gcc --coverage, -Werror; prints the line coverage of src/) and on the sanitizer
# build (ASan + UBSan): cmocka unit tests and integration tests on throwaway PostgreSQL clusters,
# real git repositories and a local HTTP endpoint. Then the libFuzzer harnesses (scripts/fuzz.sh).
# This is the command CI runs (.ci/run).
#
#   scripts/test.sh            everything
#   scripts/test.sh -R corpus  extra arguments go to ctest (both test runs)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"

# in CI a missing PostgreSQL must fail, never skip
export DBDEPLOY_TEST_ALLOW_SKIP=${DBDEPLOY_TEST_ALLOW_SKIP:-0}
jobs=$(nproc 2>/dev/null || echo 2)
status=0
echo "== build (release)"
"$root/scripts/build.sh" release
# LeakSanitizer needs ptrace-like access that some containers deny; ASan's other checks stay on
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
echo "== test (coverage build)"
"$root/scripts/coverage.sh" "$@" || status=1
echo "== build (asan)"
"$root/scripts/build.sh" asan
echo "== test (asan)"
(cd "$root/build-asan" && ctest --output-on-failure -j "$jobs" "$@") || status=1
# Fuzzing, its own build (build-fuzz/ with clang): a fixed number of runs from a fixed seed, so the
# verdict is the same on every runner; longer, open-ended runs: FUZZ_SECONDS=600 scripts/fuzz.sh.
echo "== fuzz"
FUZZ_RUNS=${FUZZ_RUNS:-50000} "$root/scripts/fuzz.sh" || status=1
if ((status)); then
  echo "FAILED: see the test output above" >&2
else
  echo "all tests passed (coverage and asan builds, fuzzing; release build compiled)"
fi
exit $status
