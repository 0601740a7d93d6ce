#!/usr/bin/env bash
# dbdeploy undo ENV: the down files of a past deployment run newest first, another session's
# writes to other tables are kept, the undo is a deployment of its own in log and changelog (and
# the changelog regenerates identically); refusals change nothing: an older deployment with a
# newer one on top (3), migrations no longer applied (3), a missing down file (3), no --yes
# without a terminal (2).
source "$DD_SUPPORT/lib.sh"

url=$(new_db undone)
proj=$PWD/proj
git_init "$proj"
write_env "$proj" dev "$url"
m=$proj/migrations
mkdir -p "$m"

echo 'CREATE TABLE app (id int);' >"$m/0001_app.up.sql"
echo 'DROP TABLE app;' >"$m/0001_app.down.sql"
commit_all "$proj" "app"
expect_rc 0 -C "$proj" deploy dev
echo 'CREATE TABLE a (id int);' >"$m/0002_a.up.sql"
echo 'DROP TABLE a;' >"$m/0002_a.down.sql"
echo 'ALTER TABLE a ADD COLUMN b text;' >"$m/0003_b.up.sql"
echo 'ALTER TABLE a DROP COLUMN b;' >"$m/0003_b.down.sql"
commit_all "$proj" "a and b"
expect_rc 0 -C "$proj" deploy dev
# another session writes to a table the downs do not touch
q "$url" "INSERT INTO app VALUES (1), (2)" >/dev/null
before=$(dump "$url")

expect_rc 3 -C "$proj" undo dev --deployment 1 --yes
assert_contains "$err" "#2 (2)" "names the deployment on top"
assert_contains "$err" "dbdeploy undo dev --deployment 2" "says to undo it first"
expect_rc 3 -C "$proj" undo dev --deployment 9 --yes
assert_contains "$err" "no deployment #9" "unknown id"
rc=0
"$DBDEPLOY_BIN" -C "$proj" undo dev </dev/null >/dev/null 2>"$PWD/notty.err" || rc=$?
assert_eq "$rc" "2" "no --yes and no terminal: exit 2"
assert_contains "$(cat "$PWD/notty.err")" "not a terminal" "says why"
assert_eq "$(dump "$url")" "$before" "refusals changed nothing"

expect_rc 0 -C "$proj" --json undo dev --yes
assert_eq "$(printf '%s' "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["command"], d["deployment"], d["recorded_as"], d["recovery"], [x["version"] for x in d["reverted"]])')" \
  "undo 2 3 down [3, 2]" "the newest still applied by default, newest migration first (json)"
assert_eq "$(q "$url" "SELECT string_agg(version::text, ',' ORDER BY version) FROM dbdeploy.migrations")" "1" "2 and 3 gone from the ledger"
assert_eq "$(q "$url" "SELECT count(*) FROM pg_tables WHERE tablename = 'a'")" "0" "the downs ran"
assert_eq "$(q "$url" "SELECT count(*) FROM app")" "2" "the writer's rows are kept"

expect_rc 0 -C "$proj" log dev -n 1
assert_contains "$out" "#3" "recorded as a deployment"
assert_contains "$out" "undone" "result undone"
assert_contains "$out" "recovery: down" "method down"
log=$proj/changelog/dev/CHANGELOG.md
assert_contains "$(sed -n '1,12p' "$log")" "— dev — undone" "changelog entry"
assert_contains "$(cat "$log")" "Recovery: the down files" "changelog names the method"
cp "$log" "$PWD/cl.before"
expect_rc 0 -C "$proj" changelog dev
cmp -s "$PWD/cl.before" "$log" || fail "regenerated changelog differs: $(diff "$PWD/cl.before" "$log")"
assert_contains "$out" "unchanged (3 deployments)" "the changelog regenerates byte-identically"

expect_rc 3 -C "$proj" undo dev --deployment 2 --yes
assert_contains "$err" "no longer applied" "already undone"
expect_rc 3 -C "$proj" undo dev --deployment 3 --yes
assert_contains "$err" "did not apply" "an undo is not undone"

# a migration without a down file (deploy applies 2 and 3 again with it) and no backup to
# restore instead (test_undo_backup.sh has the backup): nothing changed
echo 'CREATE TABLE c (id int);' >"$m/0004_c.sql"
write_env "$proj" dev "$url" "[backup]" "enabled = false"
commit_all "$proj" "c"
expect_rc 0 -C "$proj" deploy dev
before=$(dump "$url")
expect_rc 3 -C "$proj" undo dev --yes
assert_contains "$err" "0004_c.sql has no down file and the deployment took no backup" "names the file"
assert_eq "$(dump "$url")" "$before" "nothing changed"

expect_rc 3 -C "$proj" undo dev --deployment 1 --yes
assert_contains "$err" "#4 (2), #4 (3), #4 (4)" "names the newer deployment"

pass "undo"
