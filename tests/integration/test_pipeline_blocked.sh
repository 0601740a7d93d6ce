#!/usr/bin/env bash
# Refusals before any change (exit 3): staging has different content, the application is
# unhealthy before the deploy, a hanging health endpoint is cut off at the deadline, another
# deployment holds the lock. --dry-run changes nothing (dump equal).
source "$DD_SUPPORT/lib.sh"

export HEALTH_TOKEN=tok-blocked
staging=$(new_db app_staging)
prod=$(new_db app_prod)
start_stub ok 200
ok_port=$stub_port
proj=$PWD/proj
pipeline_project "$proj" "$staging" "$prod" "http://127.0.0.1:$ok_port/healthz"
set_prod_health() { sed -i "/^\[health\]/,\$ s|url = http://127.0.0.1:[0-9]*/healthz|url = http://127.0.0.1:$1/healthz|" "$proj/pipeline/prod.conf"; commit_conf "$proj"; }
prod_dump() { pg_dump --no-owner --no-privileges --restrict-key=dbdeploytest -d "$prod" | grep -vE '^-- Dumped (from|by)'; }
five_migrations "$proj"
commit_all "$proj" "five"
expect_rc 0 -C "$proj" deploy staging

# 1. staging applied different content for 0002 (edited afterwards on this branch)
echo '-- changed after staging' >>"$proj/migrations/0002_t2.up.sql"
commit_all "$proj" "edit 0002 in place"
# the immutability check fires first on staging itself...
expect_rc 3 -C "$proj" deploy staging
assert_contains "$err" "modified: migrations/0002_t2.up.sql" "staging sees the edit"
# ...and the gate names what staging has instead
prod_dump >"$PWD/before.sql"
expect_rc 3 -C "$proj" deploy prod
assert_contains "$err" "gate: 1 of 5 migrations about to reach prod is not on staging as they are here" "gate summary"
assert_contains "$err" "modified: migrations/0002_t2.up.sql differs from what staging applied (sha256:" "checksum named"
git -C "$proj" revert -q --no-edit HEAD 2>/dev/null || { git -C "$proj" checkout -q HEAD~1 -- migrations; commit_all "$proj" "undo the edit"; }

# 2. unhealthy before the deploy: blocked, nothing changed
start_stub down 503
set_prod_health "$stub_port"
expect_rc 3 -C "$proj" deploy prod
assert_contains "$err" "dbdeploy never deploys into an outage" "hint"
assert_contains "$out" "blocked; nothing was changed" "report"

# 3. a hanging endpoint: the deadline (3s in dbdeploy.conf) is honoured
start_stub hang hang 30s
set_prod_health "$stub_port"
t0=$(date +%s%N)
expect_rc 3 -C "$proj" deploy prod
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
(( ms >= 2500 && ms < 6000 )) || fail "deploy with a hanging health check took ${ms}ms; the deadline is 3s"
prod_dump >"$PWD/after.sql"
diff -u "$PWD/before.sql" "$PWD/after.sql" >&2 || fail "a blocked deploy changed prod"

# 3b. [gate] health = true: staging must be healthy too
start_stub staging_down 503
sed -i "s|127.0.0.1:[0-9]*/healthz|127.0.0.1:$stub_port/healthz|" "$proj/pipeline/staging.conf"
set_prod_health "$ok_port"
printf '[gate]\n\thealth = true\n' >>"$proj/pipeline/prod.conf"
commit_conf "$proj"
expect_rc 3 -C "$proj" deploy prod
assert_contains "$err" "checking the health of staging ([gate] health = true)" "staging health gates prod"
sed -i "s|127.0.0.1:[0-9]*/healthz|127.0.0.1:$ok_port/healthz|" "$proj/pipeline/staging.conf"
commit_conf "$proj"

# 4. --dry-run: the read-only stages, nothing else
set_prod_health "$ok_port"
expect_rc 0 -C "$proj" deploy prod --dry-run
assert_contains "$out" "dry run: 5 migrations would be deployed to prod" "plan"
prod_dump >"$PWD/after-dry.sql"
diff -u "$PWD/before.sql" "$PWD/after-dry.sql" >&2 || fail "--dry-run changed prod"

# 5. two deployments at once: the second exits 3 naming the first
printf 'SELECT pg_sleep(3);\n' >"$proj/migrations/0006_nap.up.sql"
commit_all "$proj" "nap"
expect_rc 0 -C "$proj" deploy staging
sed -i 's/lock-wait = 5s/lock-wait = 1s/' "$proj/pipeline/dbdeploy.conf"
commit_conf "$proj"
"$DBDEPLOY_BIN" -C "$proj" deploy prod >"$PWD/first.out" 2>&1 &
first=$!
wait_for "$prod" "select exists (select 1 from pg_stat_activity where application_name = 'dbdeploy' and query like '%pg_sleep(3)%')"
expect_rc 3 -C "$proj" deploy prod
assert_contains "$err" "another deployment holds the lock on app_prod" "second deploy blocked"
wait $first || fail "the first deploy failed: $(cat "$PWD/first.out")"
assert_eq "$(q "$prod" "select count(*) from dbdeploy.migrations")" "6" "the first deploy completed"
pass "gate checksum mismatch, unhealthy before, deadline, dry run, concurrent deploys"
