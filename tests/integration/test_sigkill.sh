#!/usr/bin/env bash
# dbdeploy killed with SIGKILL in the middle of a long migration: the server rolls the
# migration back (the connection is gone), the ledger stays consistent and the next run works.
source "$DD_SUPPORT/lib.sh"

url=$(new_db killed)
proj=$PWD/proj
git_init "$proj"
write_env "$proj" dev "$url" "[apply]" "transaction = per-migration"
m=$proj/migrations
mkdir -p "$m"
echo 'CREATE TABLE first (id int);' >"$m/0001_first.sql"
cat >"$m/0002_long.sql" <<'SQL'
CREATE TABLE long_one (id int);
INSERT INTO long_one SELECT generate_series(1, 1000);
SELECT pg_sleep(30);
SQL
commit_all "$proj" "m"

"$DBDEPLOY_BIN" -C "$proj" apply dev >/dev/null 2>&1 &
pid=$!
wait_for "$url" "select exists (select 1 from pg_stat_activity where application_name = 'dbdeploy' and query like '%pg_sleep(30)%' and state = 'active')"
kill -KILL $pid
wait $pid 2>/dev/null || true
# the backend notices the dead client within client_connection_check_interval and rolls back
wait_for "$url" "select not exists (select 1 from pg_stat_activity where application_name = 'dbdeploy')"
assert_eq "$(q "$url" "select string_agg(version::text, ',') from dbdeploy.migrations")" "1" "ledger has only the committed migration"
assert_eq "$(q "$url" "select to_regclass('long_one') is null")" "t" "no trace of the killed migration"
assert_eq "$(q "$url" "select count(*) from pg_locks where locktype = 'advisory'")" "0" "the lock died with the session"

# the next run applies it cleanly
sed -i 's/pg_sleep(30)/pg_sleep(0)/' "$m/0002_long.sql"
commit_all "$proj" "shorter"
expect_rc 0 -C "$proj" apply dev
assert_eq "$(q "$url" "select count(*) from long_one")" "1000" "applied on the next run"

# a no-transaction migration killed part-way stays dirty with its progress, and blocks
cat >"$m/0003_notx.sql" <<'SQL'
-- dbdeploy:no-transaction
CREATE TABLE n1 (id int);
SELECT pg_sleep(30);
CREATE TABLE n2 (id int);
SQL
commit_all "$proj" "notx"
"$DBDEPLOY_BIN" -C "$proj" apply dev >/dev/null 2>&1 &
pid=$!
wait_for "$url" "select exists (select 1 from pg_stat_activity where application_name = 'dbdeploy' and query like '%pg_sleep(30)%' and state = 'active')"
kill -KILL $pid
wait $pid 2>/dev/null || true
wait_for "$url" "select not exists (select 1 from pg_stat_activity where application_name = 'dbdeploy')"
assert_eq "$(q "$url" "select state, statements_done, statements_total from dbdeploy.migrations where version = 3")" "dirty|1|3" "progress recorded"
assert_eq "$(q "$url" "select to_regclass('n1') is not null, to_regclass('n2') is null")" "t|t" "database matches the progress"
expect_rc 3 -C "$proj" apply dev
assert_contains "$err" "stopped after statement 1 of 3" "blocked with the progress"
pass "SIGKILL leaves a consistent database and ledger"
