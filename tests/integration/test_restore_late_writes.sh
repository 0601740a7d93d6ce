#!/usr/bin/env bash
# The foreign-write guard's late check: a write another session commits while pg_restore loads
# the side copy (after the guard's first check, before the switch) makes the automatic restore
# refuse: exit 5, the same report naming the table and the --discard-writes command, the side
# database dropped, the target keeps the write. The test pauses dbdeploy while pg_restore is
# loading (test hook "restore-loading"), writes, then lets it go on.
#   (a) INSERT from a session that stays connected and idle (its statistics not yet flushed)
#   (a2) the same INSERT once the switch has begun (paused at "switch-disabled": the check before
#        the switch has passed), caught by the last check inside the switch
#   (b) UPDATE, (c) DELETE, (d) TRUNCATE, each from a session that ends at once
#   (e) no write during the pause: restored (pg_restore's own transactions are no foreign writes)
#   (f) [restore] on-foreign-writes = restore: restored anyway, the write discarded
source "$DD_SUPPORT/lib.sh"

url=$(new_db late)
proj=$PWD/proj
git_init "$proj"
printf '.dbdeploy/\n' >"$proj/.gitignore"
n_stub=0
env_conf() { # [extra lines]: health-before passes, health-after fails
  n_stub=$((n_stub + 1))
  start_stub "flap$n_stub" 200 503
  write_env "$proj" prod "$url" "[health]" "url = http://127.0.0.1:$stub_port/healthz" "timeout = 1s" \
    "deadline = 2s" "backoff = 100ms" "$@"
  commit_conf "$proj"
}
mkdir -p "$proj/migrations"
printf 'CREATE TABLE events (id int PRIMARY KEY, note text);\nINSERT INTO events VALUES (1, %s), (2, %s);\n' \
  "'one'" "'two'" >"$proj/migrations/0000_app.up.sql"
commit_all "$proj" "app table"
start_stub health_ok 200
write_env "$proj" prod "$url" "[health]" "url = http://127.0.0.1:$stub_port/healthz"
commit_conf "$proj"
expect_rc 0 -C "$proj" deploy prod
# no down file: a failure after the commit needs the backup
printf 'CREATE TABLE t1 (id int);\nINSERT INTO t1 VALUES (1);\n' >"$proj/migrations/0001_t1.up.sql"
commit_all "$proj" "t1"
side_dbs="select count(*) from pg_database where datname like 'late\\_dbdeploy\\_%'"
resume=$PWD/resume

# deploy_paused SQL_HOOK [POINT]: a failing deploy, paused at POINT (default: while pg_restore
# loads); runs SQL_HOOK (a shell function) there, resumes, and sets rc/out/err
deploy_paused() {
  local point=${2:-restore-loading}
  rm -f "$resume"
  DBDEPLOY_TEST_PAUSE_AT=$point DBDEPLOY_TEST_RESUME_FILE=$resume \
    "$DBDEPLOY_BIN" -C "$proj" --json deploy prod >"$PWD/d.out" 2>"$PWD/d.err" &
  local dpid=$! _
  for _ in $(seq 1 600); do grep -q "paused at $point" "$PWD/d.err" && break; sleep 0.1; done
  grep -q "paused at $point" "$PWD/d.err" || fail "never paused at $point: $(cat "$PWD/d.err")"
  [[ "$(q postgres "$side_dbs")" == 1 ]] || fail "no side database at $point"
  "$1"
  touch "$resume"
  rc=0
  wait "$dpid" || rc=$?
  out=$(cat "$PWD/d.out") err=$(cat "$PWD/d.err")
}

refused() { # LABEL TABLE: the restore was refused and the target left as it is
  assert_eq "$rc" "5" "$1: exit 5"
  assert_contains "$err" "not restored: other sessions wrote to 1 table while the backup was being loaded" "$1: refused"
  assert_contains "$err" "writes to $2" "$1: names the table"
  assert_contains "$err" "--discard-writes" "$1: gives the command that restores anyway"
  assert_contains "$out" '"method":"refused"' "$1: --json recovery method"
  assert_eq "$(q postgres "$side_dbs")" "0" "$1: side database dropped"
  assert_eq "$(q postgres "select datallowconn from pg_database where datname = 'late'")" "t" "$1: target accepts connections"
  assert_eq "$(q "$url" "select to_regclass('t1') is not null")" "t" "$1: target left as it is, with the deployment"
  assert_eq "$(q "$url" "select result, recovery from dbdeploy.deployments order by id desc limit 1")" \
    "not-restored|refused" "$1: recorded"
}

back_to_start() { # restore the pre-deploy archive by hand, discarding whatever was written
  expect_rc 0 -C "$proj" restore prod latest --yes --discard-writes
  assert_eq "$(q "$url" "select to_regclass('t1') is null")" "t" "back before the deployment"
}

# (a) an INSERT from a session that stays open and idle
mkfifo "$PWD/w.in"
insert_open() {
  PGAPPNAME=late_writer psql -X -q -d "$url" <"$PWD/w.in" >/dev/null 2>&1 &
  writer=$!
  exec 7>"$PWD/w.in"
  # the read flushes the session's statistics; the INSERT right after stays unflushed (PostgreSQL
  # waits 1 s between flushes, then 10 s of idleness), so only the switch's ending of the session
  # makes it visible: the last check, inside the switch, is the one that catches it
  printf '%s\n' "SELECT count(*) FROM events;" "INSERT INTO events VALUES (3, 'during the restore');" >&7
  wait_for "$url" "select exists (select 1 from events where id = 3)"
}
env_conf
deploy_paused insert_open
exec 7>&-
kill "$writer" 2>/dev/null || true
wait "$writer" 2>/dev/null || true
refused "(a) insert, idle session" public.events
assert_contains "$err" "1 inserted, 0 updated, 0 deleted" "(a) counts"
assert_eq "$(q "$url" "select note from events where id = 3")" "during the restore" "(a) the row survives"
back_to_start

# (a2) connected before the switch refuses new connections, writing once it has begun
env_conf # first: a stub started later would inherit the writer's pipe and keep it open
PGAPPNAME=late_writer2 psql -X -q -At -d "$url" <"$PWD/w.in" >"$PWD/w.out" 2>&1 &
writer=$!
exec 7>"$PWD/w.in"
echo "SELECT 'connected';" >&7
for _ in $(seq 1 150); do grep -q connected "$PWD/w.out" && break; sleep 0.1; done
insert_in_switch() {
  echo "INSERT INTO events VALUES (6, 'in the switch'); SELECT 'inserted';" >&7
  for _ in $(seq 1 150); do grep -q inserted "$PWD/w.out" && break; sleep 0.1; done
  grep -q inserted "$PWD/w.out" || fail "(a2) the writer could not insert: $(cat "$PWD/w.out")"
}
deploy_paused insert_in_switch switch-disabled
exec 7>&-
kill "$writer" 2>/dev/null || true
wait "$writer" 2>/dev/null || true
refused "(a2) insert inside the switch" public.events
assert_eq "$(q "$url" "select note from events where id = 6")" "in the switch" "(a2) the row survives"
back_to_start

# (b)-(d) one statement from a session that ends at once
update_one() { q "$url" "UPDATE events SET note = 'changed' WHERE id = 1" >/dev/null; }
delete_one() { q "$url" "DELETE FROM events WHERE id = 2" >/dev/null; }
truncate_all() { q "$url" "TRUNCATE events" >/dev/null; }
env_conf
deploy_paused update_one
refused "(b) update" public.events
assert_eq "$(q "$url" "select note from events where id = 1")" "changed" "(b) the update survives"
back_to_start
env_conf
deploy_paused delete_one
refused "(c) delete" public.events
assert_eq "$(q "$url" "select count(*) from events where id = 2")" "0" "(c) the delete survives"
back_to_start
env_conf
deploy_paused truncate_all
refused "(d) truncate" public.events
assert_contains "$err" "truncated, rewritten, altered or dropped" "(d) says how"
assert_eq "$(q "$url" "select count(*) from events")" "0" "(d) the truncate survives"
back_to_start

# (e) nothing written during the pause: restored exactly
nothing() { :; }
env_conf
deploy_paused nothing
assert_eq "$rc" "4" "(e) restored: exit 4"
assert_contains "$err" "The database was restored from" "(e) says restored"
assert_eq "$(q "$url" "select to_regclass('t1') is null")" "t" "(e) the deployment is undone"
assert_eq "$(q "$url" "select string_agg(id || ':' || note, ',' order by id) from events")" "1:one,2:two" "(e) data as before"
assert_eq "$(q postgres "$side_dbs")" "0" "(e) no side database left"

# (f) on-foreign-writes = restore: the late write is discarded, as configured
insert_f() { q "$url" "INSERT INTO events VALUES (4, 'discarded')" >/dev/null; }
env_conf "[restore]" "on-foreign-writes = restore"
deploy_paused insert_f
assert_eq "$rc" "4" "(f) restored anyway: exit 4"
assert_eq "$(q "$url" "select count(*) from events where id = 4")" "0" "(f) the write was discarded"
assert_eq "$(q "$url" "select to_regclass('t1') is null")" "t" "(f) the deployment is undone"
pass "writes committed while pg_restore loads make the restore refuse; none: restored"
