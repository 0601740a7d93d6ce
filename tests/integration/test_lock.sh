#!/usr/bin/env bash
# The deployment lock: a second run waits up to lock-wait, then exits 3 naming the holder;
# lock-timeout on a busy table is retried with backoff.
source "$DD_SUPPORT/lib.sh"

url=$(new_db locks)
proj=$PWD/proj
git_init "$proj"
write_env "$proj" dev "$url" "[database]" "lock-wait = 1s"
m=$proj/migrations
mkdir -p "$m"
echo 'CREATE TABLE t (id int);' >"$m/0001_t.sql"
cat >"$m/0002_slow.sql" <<'SQL'
CREATE TABLE slow (id int);
SELECT pg_sleep(4);
SQL
commit_all "$proj" "m"

lock_held_by() {
  echo "select exists (select 1 from pg_locks l join pg_stat_activity a using (pid) where l.locktype = 'advisory' and l.granted and a.application_name = '$1')"
}

# 1. the lock held by another tool
psql -X -q -d "$url" -c "set application_name = 'other-tool'" -c "select pg_advisory_lock(7233454338351067001)" -c "select pg_sleep(6)" >/dev/null &
holder=$!
wait_for "$url" "$(lock_held_by other-tool)"
start=$(date +%s%N)
expect_rc 3 -C "$proj" apply dev
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
assert_contains "$err" "another deployment holds the lock on locks: pid" "names the holder"
assert_contains "$err" "application 'other-tool'" "names the application"
assert_contains "$err" "connected since" "says since when"
assert_contains "$err" "Waited 1s" "says how long it waited"
(( elapsed >= 900 && elapsed < 5000 )) || fail "waited ${elapsed}ms, expected about 1s"
assert_eq "$(q "$url" "select to_regclass('t') is null")" "t" "nothing applied"
wait $holder

# 2. two dbdeploy runs: the second gives up after lock-wait and exits 3
"$DBDEPLOY_BIN" -C "$proj" apply dev >"$PWD/first.out" 2>&1 &
first=$!
wait_for "$url" "$(lock_held_by dbdeploy)"
expect_rc 3 -C "$proj" apply dev
assert_contains "$err" "application 'dbdeploy'" "names the other dbdeploy"
wait $first || fail "first apply failed: $(cat "$PWD/first.out")"
assert_eq "$(q "$url" "select count(*) from dbdeploy.migrations")" "2" "first run applied both"

# 3. with a long enough lock-wait the second run waits, then finds nothing to do
echo 'SELECT pg_sleep(2);' >"$m/0003_nap.sql"
commit_all "$proj" "nap"
write_env "$proj" dev "$url" "[database]" "lock-wait = 30s"
"$DBDEPLOY_BIN" -C "$proj" apply dev >"$PWD/first.out" 2>&1 &
first=$!
wait_for "$url" "$(lock_held_by dbdeploy)"
expect_rc 0 -C "$proj" apply dev
assert_contains "$err" "waiting for the deployment lock held by pid" "announces the wait"
assert_contains "$out" "up to date" "nothing left after waiting"
wait $first

# 4. lock-timeout: a table lock held for ~2s is outlasted by retries
echo 'ALTER TABLE t ADD COLUMN c int;' >"$m/0004_alter.sql"
commit_all "$proj" "alter"
write_env "$proj" dev "$url" "[database]" "lock-timeout = 300ms" "lock-retries = 6"
psql -X -q -d "$url" -c "begin" -c "lock table t" -c "select pg_sleep(2)" -c "commit" >/dev/null &
locker=$!
wait_for "$url" "select exists (select 1 from pg_locks where relation = 't'::regclass and mode = 'AccessExclusiveLock' and granted)"
expect_rc 0 -C "$proj" apply dev
assert_contains "$err" "canceling statement due to lock timeout; retrying the deployment's transaction in 1s" "retry announced (the whole transaction)"
assert_eq "$(q "$url" "select count(*) from information_schema.columns where table_name = 't' and column_name = 'c'")" "1" "applied after retry"
wait $locker

# 5. with no retries left the failure says what to do
echo 'ALTER TABLE t ADD COLUMN d int;' >"$m/0005_alter.sql"
commit_all "$proj" "alter2"
write_env "$proj" dev "$url" "[database]" "lock-timeout = 200ms" "lock-retries = 0"
psql -X -q -d "$url" -c "begin" -c "lock table t" -c "select pg_sleep(2)" -c "commit" >/dev/null &
locker=$!
wait_for "$url" "select exists (select 1 from pg_locks where relation = 't'::regclass and mode = 'AccessExclusiveLock' and granted)"
expect_rc 1 -C "$proj" apply dev
assert_contains "$err" "lock timeout (SQLSTATE 55P03)" "lock timeout reported"
assert_contains "$err" "raise [database] lock-timeout" "hint"
wait $locker
# 6. lock-wait = 0 means no limit (docs/configuration.md: durations of 0 are unlimited): the run
# waits for the holder instead of giving up at once
write_env "$proj" dev "$url" "[database]" "lock-wait = 0"
psql -X -q -d "$url" -c "set application_name = 'other-tool'" -c "select pg_advisory_lock(7233454338351067001)" -c "select pg_sleep(2)" >/dev/null &
holder=$!
wait_for "$url" "$(lock_held_by other-tool)"
expect_rc 0 -C "$proj" apply dev
assert_contains "$err" "waiting for the deployment lock held by pid" "waits with lock-wait = 0"
wait $holder
pass "advisory lock waits and reports; lock-timeout retried; lock-wait = 0 waits without limit"
