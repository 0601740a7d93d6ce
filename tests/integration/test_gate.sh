#!/usr/bin/env bash
# `dbdeploy gate ENV` for CI: passes only when ENV has every migration of HEAD with matching
# checksums, nothing dirty, and a healthy application; each reason to fail exits 3 and says why.
source "$DD_SUPPORT/lib.sh"

url=$(new_db gated)
proj=$PWD/proj
git_init "$proj"
mkdir -p "$proj/migrations"
start_stub ok 200
write_env "$proj" staging "$url" "[health]" "url = http://127.0.0.1:$stub_port/healthz" "deadline = 2s" "backoff = 100ms"
printf 'CREATE TABLE a (id int);\n' >"$proj/migrations/0001_a.up.sql"
printf 'CREATE TABLE b (id int);\n' >"$proj/migrations/0002_b.up.sql"
commit_all "$proj" "two"

# nothing applied: both missing
expect_rc 3 -C "$proj" gate staging
assert_contains "$err" "gate failed for staging: 2 problems" "summary"
assert_contains "$err" "missing: migrations/0001_a.up.sql is not applied on staging" "missing listed"
expect_rc 3 -C "$proj" --json gate staging
assert_eq "$(jq -r '[.problems[].kind] | join(",")' <<<"$out")" "missing,missing" "json kinds"
assert_eq "$(jq -r .ok <<<"$out")" "false" "json ok"

# all applied and healthy: passes
expect_rc 0 -C "$proj" apply staging
expect_rc 0 -C "$proj" gate staging
assert_contains "$out" "gate passed: staging has all 2 migrations of commit" "pass"
assert_contains "$out" "and is healthy" "health checked"

# unhealthy
stop_stubs
start_stub down 503
sed -i "s|127.0.0.1:[0-9]*/healthz|127.0.0.1:$stub_port/healthz|" "$proj/pipeline/staging.conf"
commit_all "$proj" "health check on the stub that fails" # the gate reads the committed configuration
expect_rc 3 -C "$proj" gate staging
assert_contains "$err" "unhealthy: health check failed" "unhealthy"
sed -i '/^\[health\]/,$d' "$proj/pipeline/staging.conf"
commit_all "$proj" "no health check"

# modified on the branch
echo '-- edit' >>"$proj/migrations/0002_b.up.sql"
commit_all "$proj" "edit"
expect_rc 3 -C "$proj" gate staging
assert_contains "$err" "modified: migrations/0002_b.up.sql differs from what staging applied" "modified"
git -C "$proj" checkout -q HEAD~1 -- migrations
commit_all "$proj" "restore"

# dirty
printf -- '-- dbdeploy:no-transaction\nCREATE TABLE c (id int);\nSELECT 1/0;\n' >"$proj/migrations/0003_c.up.sql"
commit_all "$proj" "c"
expect_rc 1 -C "$proj" apply staging
expect_rc 3 -C "$proj" gate staging
assert_contains "$err" "dirty: migrations/0003_c.up.sql is dirty on staging (stopped after statement 1 of 2)" "dirty"
expect_rc 0 -C "$proj" mark staging 3 --pending

# a file removed from HEAD that staging has applied
git -C "$proj" rm -q migrations/0003_c.up.sql
commit_all "$proj" "drop c"
git -C "$proj" rm -q migrations/0002_b.up.sql
commit_all "$proj" "drop b"
expect_rc 3 -C "$proj" gate staging
assert_contains "$err" "extra: migrations/0002_b.up.sql is applied on staging but no longer in this commit" "extra"
pass "gate: missing, unhealthy, modified, dirty, extra, and pass"
