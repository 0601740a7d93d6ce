#!/usr/bin/env bash
# Restores under concurrency and crashes:
# 1. `restore` takes the deployment lock: during a deploy it waits lock-wait, then exits 3.
# 2. A deploy's auto-restore keeps the lock and its own session; a manual restore started during
#    the deploy waits for it (instead of being undone by the auto-restore a second later, or
#    failing with "terminating connection" when the switch ends its session), then runs.
# 3. dbdeploy killed (SIGKILL) at each point of the switch: the next `status` finishes or
#    reverts the switch, says which, and the database accepts connections with the right data.
source "$DD_SUPPORT/lib.sh"

url=$(new_db app)
proj=$PWD/proj
git_init "$proj"
write_env "$proj" dev "$url" "[database]" "lock-wait = 1s"
m=$proj/migrations
mkdir -p "$m"
echo 'CREATE TABLE t (id int); INSERT INTO t VALUES (1);' >"$m/0001_t.sql"
commit_all "$proj" "t"
expect_rc 0 -C "$proj" apply dev
expect_rc 0 -C "$proj" backup dev
archive=$(ls "$proj"/.dbdeploy/backups/dev/*.tar.zst | tail -1)
q "$url" "INSERT INTO t VALUES (2)" >/dev/null   # after the backup: gone once restored

# 1. a restore during a running apply waits lock-wait, then exits 3 naming the holder
cat >"$m/0002_slow.sql" <<'SQL'
SELECT pg_sleep(4);
SQL
commit_all "$proj" "slow"
"$DBDEPLOY_BIN" -C "$proj" apply dev >"$PWD/apply.out" 2>&1 &
applier=$!
wait_for "$url" "select exists (select 1 from pg_stat_activity where application_name = 'dbdeploy' and query like '%pg_sleep(4)%')"
expect_rc 3 -C "$proj" restore dev "$archive" --yes
assert_contains "$err" "another deployment holds the lock on app: pid" "restore blocked by the running apply"
assert_contains "$err" "application 'dbdeploy'" "names the holder"
wait $applier || fail "apply failed: $(cat "$PWD/apply.out")"
assert_eq "$(q "$url" "select count(*) from t")" "2" "restore changed nothing"
pass "restore takes the deployment lock"

# 2. a failing deploy restores; an apply waiting for the lock meanwhile waits and then works
git -C "$proj" rm -q "$m/0002_slow.sql"
commit_all "$proj" "drop slow"
q "$url" "DELETE FROM dbdeploy.migrations WHERE version = 2" >/dev/null
echo 'CREATE TABLE u (id int);' >"$m/0003_u.sql"
printf 'SELECT pg_sleep(3);\nSELECT 1/0;\n' >"$m/0004_fail.sql"
commit_all "$proj" "u and a failing one"
write_env "$proj" dev "$url" "[database]" "lock-wait = 60s"
commit_conf "$proj"
"$DBDEPLOY_BIN" -C "$proj" deploy dev >"$PWD/deploy.out" 2>"$PWD/deploy.err" &
deployer=$!
wait_for "$url" "select exists (select 1 from pg_stat_activity where application_name = 'dbdeploy' and query like '%pg_sleep(3)%')"
"$DBDEPLOY_BIN" -C "$proj" restore dev "$archive" --yes >"$PWD/waiter.out" 2>"$PWD/waiter.err" &
waiter=$!
set +e
wait $deployer
drc=$?
wait $waiter
wrc=$?
set -e
[[ $drc == 4 ]] || { cat "$PWD/deploy.err" >&2; fail "deploy exited $drc, expected 4 (restored)"; }
assert_not_contains "$(cat "$PWD/deploy.err")" "no connection" "record had a working session"
assert_contains "$(cat "$PWD/deploy.err")" "record         ok" "the failed deployment was recorded"
[[ $wrc == 0 ]] || { cat "$PWD/waiter.err" >&2; fail "waiting restore exited $wrc, expected 0"; }
assert_contains "$(cat "$PWD/waiter.err")" "waiting for the deployment lock" "the manual restore waited for the deploy"
assert_not_contains "$(cat "$PWD/waiter.err")" "terminating connection" "the waiting restore was not cut off"
# the manual restore came last: the archive's state, not the deploy's auto-restored one
assert_eq "$(q "$url" "select string_agg(version::text, ',' order by version) from dbdeploy.migrations")" "1" "manual restore not undone"
assert_eq "$(q "$url" "select count(*) from t")" "1" "archive's data"
pass "auto-restore keeps the lock; a waiting restore waits, then wins"

# 3. killed at each point of the switch; the next command heals
git -C "$proj" rm -q "$m/0004_fail.sql"
commit_all "$proj" "no failing one"
write_env "$proj" dev "$url"
side_dbs="select count(*) from pg_database where datname like 'app\\_dbdeploy\\_%'"
for point in switch-ready switch-disabled switch-renamed; do
  q "$url" "INSERT INTO t VALUES (2)" >/dev/null
  DBDEPLOY_TEST_PAUSE_AT=$point "$DBDEPLOY_BIN" -C "$proj" restore dev "$archive" --yes >/dev/null 2>"$PWD/kill.err" &
  victim=$!
  for _ in $(seq 1 300); do grep -q "paused at $point" "$PWD/kill.err" && break; sleep 0.1; done
  grep -q "paused at $point" "$PWD/kill.err" || fail "$point: the restore never reached the pause point: $(cat "$PWD/kill.err")"
  kill -KILL $victim
  wait $victim 2>/dev/null || true
  if [[ $point == switch-disabled ]]; then
    assert_eq "$(q postgres "select datallowconn from pg_database where datname = 'app'")" "f" "$point: app refuses connections after the kill"
  fi
  [[ "$(q postgres "$side_dbs")" != 0 ]] || fail "$point: no side database left to heal"
  expect_rc 0 -C "$proj" status dev
  case $point in
    switch-ready)
      assert_contains "$err" "was killed before it switched" "$point: says the restore did not happen"
      assert_contains "$err" "'app' was not restored" "$point: says the restore did not happen"
      want=2 ;;
    switch-disabled)
      assert_contains "$err" "finished the restore of database 'app'" "$point: says it finished the switch"
      want=1 ;;
    switch-renamed)
      assert_contains "$err" "had already replaced" "$point: says the restore had happened"
      want=1 ;;
  esac
  assert_eq "$(q postgres "select datallowconn from pg_database where datname = 'app'")" "t" "$point: app accepts connections"
  assert_eq "$(q postgres "$side_dbs")" "0" "$point: no side database left"
  assert_eq "$(q "$url" "select count(*) from t")" "$want" "$point: data"
  assert_eq "$(q postgres "select shobj_description(oid, 'pg_database') is null from pg_database where datname = 'app'")" "t" "$point: no marker left on app"
  expect_rc 0 -C "$proj" status dev
  assert_not_contains "$err" "restore" "$point: nothing left to report"
  q "$url" "DELETE FROM t WHERE id = 2" >/dev/null
  pass "killed at $point: healed"
done
