#!/usr/bin/env bash
# dbdeploy undo through the backup (a migration without a down file): the deployment's
# pre-deploy archive is restored under the foreign-write guard, with the mark stored in its
# ledger row, and the deployment history is carried across the restore.
#   (a) nobody else wrote: restored, the dump equals the pre-deploy dump (but for the ledger's
#       history), log shows every deployment, the changelog regenerates byte-identically
#   (b) another session wrote one row since the backup: refused, exit 3, the table and the
#       --discard-writes command named, nothing changed
#   (c) --discard-writes: restored, the row is gone
#   (d) a newer deployment exists: refused, exit 3
#   (e) a write committed while pg_restore loads the copy: refused at the switch, exit 3, the row kept
source "$DD_SUPPORT/lib.sh"

url=$(new_db undob)
proj=$PWD/proj
git_init "$proj"
printf '.dbdeploy/\n' >"$proj/.gitignore"
write_env "$proj" dev "$url"
m=$proj/migrations
mkdir -p "$m"
echo 'CREATE TABLE app (id int);' >"$m/0001_app.up.sql"
echo 'DROP TABLE app;' >"$m/0001_app.down.sql"
commit_all "$proj" "app"
expect_rc 0 -C "$proj" deploy dev
q "$url" "INSERT INTO app VALUES (1), (2)" >/dev/null
printf 'CREATE TABLE t2 (id int);\nINSERT INTO t2 VALUES (2);\nALTER TABLE app ADD COLUMN note text;\n' >"$m/0002_t2.up.sql"
commit_all "$proj" "t2, no down file"
# the ledger's history and its id sequence differ on purpose: the undo keeps them
ddump() { dump "$url" | grep -v 'deployments_id_seq' | sed '/^COPY dbdeploy.deployment/,/^\\\.$/d'; }
before=$(ddump)
expect_rc 0 -C "$proj" deploy dev
assert_eq "$(q "$url" "select guard ? 'xmax' and guard ? 'record_xid' from dbdeploy.deployments where id = 2")" "t" \
  "the deployment stored the guard's mark"

# (a) nobody else wrote
expect_rc 0 -C "$proj" --json undo dev --yes
assert_eq "$(printf '%s' "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["deployment"], d["recorded_as"], d["recovery"], d["archive"].endswith(".tar.zst"))')" \
  "2 3 backup True" "(a) undone through the backup (json)"
assert_eq "$(ddump)" "$before" "(a) the database is as before the deployment"
assert_eq "$(q "$url" "select string_agg(id || ':' || result || ':' || coalesce(recovery, '-'), ',' order by id) from dbdeploy.deployments")" \
  "1:applied:-,2:applied:-,3:undone:backup" "(a) the whole history is kept"
assert_eq "$(q "$url" "select string_agg(version || ':' || status, ',') from dbdeploy.deployment_migrations where deployment_id = 3")" \
  "2:restored" "(a) the undo names the migration it took back"
expect_rc 0 -C "$proj" log dev
assert_contains "$out" "#1" "(a) log shows #1"
assert_contains "$out" "#2" "(a) log shows #2"
assert_contains "$out" "recovery: backup" "(a) log shows the undo's method"
log=$proj/changelog/dev/CHANGELOG.md
assert_contains "$(cat "$log")" "Recovery: the backup was restored" "(a) changelog names the method"
cp "$log" "$PWD/cl.before"
expect_rc 0 -C "$proj" changelog dev
cmp -s "$PWD/cl.before" "$log" || fail "(a) regenerated changelog differs: $(diff "$PWD/cl.before" "$log")"
assert_contains "$out" "unchanged (3 deployments)" "(a) the changelog regenerates byte-identically"

# (b) one row written by another session since the backup
expect_rc 0 -C "$proj" deploy dev
q "$url" "INSERT INTO app (id) VALUES (3)" >/dev/null
after_write=$(dump "$url")
expect_rc 3 -C "$proj" undo dev --yes
assert_contains "$err" "not restored: 1 transaction of other sessions committed after the backup" "(b) refused"
assert_contains "$err" "writes to public.app" "(b) names the table"
assert_contains "$err" "dbdeploy undo dev --deployment 4 --yes --discard-writes" "(b) the command that undoes anyway"
assert_eq "$(dump "$url")" "$after_write" "(b) nothing changed"

# (c) --discard-writes
expect_rc 0 -C "$proj" undo dev --yes --discard-writes
assert_eq "$(q "$url" "select count(*) from app where id = 3")" "0" "(c) the write was discarded"
assert_eq "$(ddump)" "$before" "(c) the database is as before the deployment"
assert_eq "$(q "$url" "select string_agg(id || ':' || result, ',' order by id) from dbdeploy.deployments")" \
  "1:applied,2:applied,3:undone,4:applied,5:undone" "(c) the whole history is kept"

# (d) a newer deployment ran after the one to undo
expect_rc 0 -C "$proj" deploy dev
echo 'CREATE TABLE t3 (id int);' >"$m/0003_t3.up.sql"
echo 'DROP TABLE t3;' >"$m/0003_t3.down.sql"
commit_all "$proj" "t3"
expect_rc 0 -C "$proj" deploy dev
expect_rc 0 -C "$proj" undo dev --yes
assert_contains "$out" "ran the down files" "(d) the newest one has down files"
expect_rc 3 -C "$proj" undo dev --yes
assert_contains "$err" "ran after it" "(d) a deployment after it blocks the backup"
assert_eq "$(q "$url" "select to_regclass('t2') is not null")" "t" "(d) nothing changed"

# (e) a write while the undo's pg_restore loads the copy (test hook pause)
echo 'CREATE TABLE t4 (id int);' >"$m/0004_t4.up.sql"
commit_all "$proj" "t4, no down file"
expect_rc 0 -C "$proj" deploy dev
resume=$PWD/resume
DBDEPLOY_TEST_PAUSE_AT=restore-loading DBDEPLOY_TEST_RESUME_FILE=$resume \
  "$DBDEPLOY_BIN" -C "$proj" undo dev --yes >/dev/null 2>"$PWD/e.err" &
upid=$!
for _ in $(seq 1 600); do grep -q "paused at restore-loading" "$PWD/e.err" && break; sleep 0.1; done
grep -q "paused at restore-loading" "$PWD/e.err" || fail "(e) never paused while loading: $(cat "$PWD/e.err")"
q "$url" "INSERT INTO app (id) VALUES (5)" >/dev/null
touch "$resume"
rc=0
wait "$upid" || rc=$?
assert_eq "$rc" "3" "(e) refused: exit 3"
assert_contains "$(cat "$PWD/e.err")" "while the backup was being loaded" "(e) the late check refused"
assert_contains "$(cat "$PWD/e.err")" "writes to public.app" "(e) names the table"
assert_eq "$(q "$url" "select count(*) from app where id = 5")" "1" "(e) the row survives"
assert_eq "$(q "$url" "select to_regclass('t4') is not null")" "t" "(e) nothing undone"
assert_eq "$(q postgres "select count(*) from pg_database where datname like 'undob\\_dbdeploy\\_%'")" "0" "(e) side database dropped"
pass "undo through the backup, under the guard, keeping the history"
