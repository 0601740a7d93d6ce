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

# The lint job of each template, run as the CI would on a pull request: only the migrations the
# branch adds are linted (not a file it edits), errors fail the job, GitHub gets annotations.
origin=$PWD/origin
git_init "$origin"
mkdir -p "$origin/migrations"
echo 'CREATE TABLE orders (id bigint, total numeric);' >"$origin/migrations/0001_orders.sql"
commit_all "$origin" "orders"
git clone -q "$origin" pr
git -C pr checkout -q -b feature
echo 'DELETE FROM orders;' >>pr/migrations/0001_orders.sql
echo 'CREATE INDEX orders_total ON orders (total);' >pr/migrations/0002_orders_total.sql
printf 'CREATE TABLE fresh (id int);\nCREATE INDEX fresh_id ON fresh (id);\n' >pr/migrations/0003_fresh.sql
commit_all pr "feature"
mkdir -p bin && ln -s "$DBDEPLOY_BIN" bin/dbdeploy
ci_script() { # FILE: the lint job's script, as the CI runs it
  python3 - "$DBDEPLOY_SOURCE_DIR/pipeline/ci/$1" <<'PY'
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
if "jobs" in doc:
    print(doc["jobs"]["lint"]["steps"][-1]["run"])
else:
    print("\n".join(doc["lint"]["script"]))
PY
}
set +e
gh_out=$(cd pr && PATH="$PWD/../bin:$PATH" BASE_REF=main MIGRATIONS_DIR=migrations bash --noprofile --norc -eo pipefail -c "$(ci_script github-actions.yml)" 2>/dev/null)
gh_rc=$?
gl_out=$(cd pr && PATH="$PWD/../bin:$PATH" CI_MERGE_REQUEST_TARGET_BRANCH_NAME=main CI_PROJECT_DIR=$PWD MIGRATIONS_DIR=migrations bash -e -c "$(ci_script gitlab-ci.yml)" 2>/dev/null)
gl_rc=$?
set -e
assert_eq "$gh_rc" "3" "GitHub lint job fails on an error-level finding"
assert_eq "$gh_out" "::error file=migrations/0002_orders_total.sql,line=1,col=1,title=index-without-concurrently::orders: CREATE INDEX orders_total without CONCURRENTLY blocks writes for the whole build%0Ahint: Use CREATE INDEX CONCURRENTLY in a migration of its own (dbdeploy runs it outside a transaction)." "GitHub annotation for the added file only"
assert_eq "$gl_rc" "123" "GitLab lint job fails (xargs reports the exit 3)"
assert_contains "$gl_out" "migrations/0002_orders_total.sql:1:1: error: index-without-concurrently" "GitLab text finding"
assert_not_contains "$gl_out" "0001_orders" "an edited file is not linted"
git -C pr rm -q migrations/0002_orders_total.sql
commit_all pr "drop the bad one"
(cd pr && PATH="$PWD/../bin:$PATH" BASE_REF=main MIGRATIONS_DIR=migrations bash --noprofile --norc -eo pipefail -c "$(ci_script github-actions.yml)" >/dev/null 2>&1) || fail "GitHub lint job fails on clean migrations"
pass "CI lint job on the migrations a pull request adds"
