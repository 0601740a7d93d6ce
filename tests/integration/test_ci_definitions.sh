#!/usr/bin/env bash
# The ready-to-copy CI definitions in pipeline/ci/ are valid YAML, wire verify -> staging ->
# gate -> manual production, and only call commands dbdeploy has.
source "$DD_SUPPORT/lib.sh"
expect_rc 0 --help
cmds=$(sed -n '/^commands:/,/^$/p' <<<"$out" | awk 'NF && $1 != "commands:" {print $1}' | tr '\n' ' ')
python3 "$DD_SUPPORT/check_ci.py" "$DBDEPLOY_SOURCE_DIR/pipeline/ci" "$cmds"
# and a broken file is caught: the checker is not a rubber stamp
broken=$PWD/broken
mkdir -p "$broken"
sed 's/needs: gate-staging/needs: verify/' "$DBDEPLOY_SOURCE_DIR/pipeline/ci/github-actions.yml" >"$broken/github-actions.yml"
cp "$DBDEPLOY_SOURCE_DIR/pipeline/ci/gitlab-ci.yml" "$broken/"
if python3 "$DD_SUPPORT/check_ci.py" "$broken" "$cmds" 2>/dev/null; then fail "a prod job without the gate passed the check"; fi
sed 's/dbdeploy deploy staging/dbdeploy deploi staging/' "$DBDEPLOY_SOURCE_DIR/pipeline/ci/gitlab-ci.yml" >"$broken/gitlab-ci.yml"
cp "$DBDEPLOY_SOURCE_DIR/pipeline/ci/github-actions.yml" "$broken/"
if python3 "$DD_SUPPORT/check_ci.py" "$broken" "$cmds" 2>/dev/null; then fail "an unknown command passed the check"; fi
pass "CI definitions"
