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
# the deploy jobs keep their changelog entry and backup off the throwaway runner
python3 - "$DBDEPLOY_SOURCE_DIR/pipeline/ci/github-actions.yml" "$broken/github-actions.yml" <<'PY'
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
steps = doc["jobs"]["deploy-prod"]["steps"]
doc["jobs"]["deploy-prod"]["steps"] = [s for s in steps if "upload-artifact" not in s.get("uses", "")]
yaml.safe_dump(doc, open(sys.argv[2], "w"))
PY
cp "$DBDEPLOY_SOURCE_DIR/pipeline/ci/gitlab-ci.yml" "$broken/"
run_check() { python3 "$DD_SUPPORT/check_ci.py" "$broken" "$cmds" 2>&1; }
if msg=$(run_check); then fail "a prod job that leaves its backup on the runner passed the check"; fi
assert_contains "$msg" "deploy-prod leaves its backup on the runner's disk" "backup upload required"
cp "$DBDEPLOY_SOURCE_DIR/pipeline/ci/github-actions.yml" "$broken/"
sed 's/dbdeploy changelog "$DBDEPLOY_ENV" --commit/echo no changelog/' "$DBDEPLOY_SOURCE_DIR/pipeline/ci/gitlab-ci.yml" >"$broken/gitlab-ci.yml"
if msg=$(run_check); then fail "a deploy job that drops the changelog entry passed the check"; fi
assert_contains "$msg" "neither commits nor keeps the changelog entry" "changelog kept required"
pass "CI definitions"
