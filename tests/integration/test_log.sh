#!/usr/bin/env bash
# dbdeploy log ENV: the deployment history from the ledger, newest first, -n N, --json; a
# recovery method is shown when recorded, and a ledger without the column (older) still works.
source "$DD_SUPPORT/lib.sh"

url=$(new_db logged)
proj=$PWD/proj
git_init "$proj"
write_env "$proj" dev "$url"
m=$proj/migrations
mkdir -p "$m"

expect_rc 0 -C "$proj" log dev
assert_contains "$out" "no deployments recorded" "empty history (no ledger yet)"

echo 'CREATE TABLE a (id int);' >"$m/0001_a.sql"
echo 'CREATE TABLE b (id int);' >"$m/0002_b.sql"
commit_all "$proj" "a and b"
expect_rc 0 -C "$proj" deploy dev
first=$(git -C "$proj" rev-parse --short=7 HEAD)
echo 'CREATE TABLE c (id int);' >"$m/0003_c.sql"
echo 'SELECT 1/0;' >"$m/0004_bad.sql"
commit_all "$proj" "c and a bad one"
expect_rc 4 -C "$proj" deploy dev
second=$(git -C "$proj" rev-parse --short=7 HEAD)

expect_rc 0 -C "$proj" log dev
[[ $(printf '%s\n' "$out" | wc -l) == 2 ]] || fail "expected 2 lines: $out"
line1=$(printf '%s\n' "$out" | sed -n 1p)
line2=$(printf '%s\n' "$out" | sed -n 2p)
assert_contains "$line1" "#2" "newest first"
assert_contains "$line1" "$second" "commit of the newest"
assert_contains "$line1" "restored" "result of the newest"
assert_contains "$line1" "3,4" "versions of the newest"
assert_contains "$line2" "#1" "oldest last"
assert_contains "$line2" "$first" "commit of the oldest"
assert_contains "$line2" "applied" "result of the oldest"
assert_contains "$line2" "1,2" "versions of the oldest"
assert_contains "$line1" "recovery: transaction" "recovery of the newest (its transaction was rolled back)"
assert_not_contains "$line2" "recovery" "no recovery for a success"

expect_rc 0 -C "$proj" log dev -n 1
[[ $(printf '%s\n' "$out" | wc -l) == 1 ]] || fail "-n 1 printed: $out"
assert_contains "$out" "#2" "-n 1 shows the newest"

expect_rc 0 -C "$proj" --json log dev
assert_eq "$(printf '%s' "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["command"], [x["id"] for x in d["deployments"]], d["deployments"][0]["versions"], d["deployments"][0]["result"], d["deployments"][1]["commit"][:7], d["deployments"][0]["recovery"])')" \
  "log [2, 1] [3, 4] restored $first transaction" "json document"

# a ledger written before the recovery column existed: log still works, and shows what is recorded
q "$url" "ALTER TABLE dbdeploy.deployments DROP COLUMN recovery" >/dev/null
expect_rc 0 -C "$proj" log dev
assert_not_contains "$out" "recovery" "no recovery column: none shown"
q "$url" "ALTER TABLE dbdeploy.deployments ADD COLUMN recovery text; UPDATE dbdeploy.deployments SET recovery = 'restore' WHERE id = 2" >/dev/null
expect_rc 0 -C "$proj" log dev
assert_contains "$(printf '%s\n' "$out" | sed -n 1p)" "recovery: restore" "recovery shown"
expect_rc 0 -C "$proj" --json log dev -n 1
assert_contains "$out" '"recovery":"restore"' "recovery in json"
expect_rc 2 -C "$proj" log
pass "log"
