#!/usr/bin/env bash
# Control characters in file names never reach the terminal raw: a name with \r or ESC could
# erase or rewrite its own line. Text output shows them escaped (\r, \x1b); --json escapes them
# as JSON does.
source "$DD_SUPPORT/lib.sh"

url=$(new_db ctl)
proj=$PWD/proj
git_init "$proj"
write_env "$proj" dev "$url"
mkdir -p "$proj/migrations"
echo 'CREATE TABLE a (id int);' >"$proj/migrations/0001_a"$'\r'"hidden.sql"
echo 'CREATE TABLE b (id int);' >"$proj/migrations/0002_b"$'\033'"[2Kwiped.sql"
commit_all "$proj" "hostile names"

raw() { [[ "$1" == *$'\r'* || "$1" == *$'\033'* ]]; }
for cmd in "status dev" "apply dev" "status dev"; do
  # shellcheck disable=SC2086
  run_dd -C "$proj" $cmd
  if raw "$out$err"; then fail "dbdeploy $cmd printed a raw control character: $(printf '%q' "$out$err")"; fi
done
run_dd -C "$proj" status dev
assert_contains "$out$err" 'a\rhidden' "carriage return shown escaped"
assert_contains "$out$err" 'b\x1b[2Kwiped' "escape shown escaped"
run_dd -C "$proj" --json status dev
if raw "$out$err"; then fail "--json printed a raw control character"; fi
printf '%s' "$out" | python3 -m json.tool >/dev/null || fail "--json output does not parse"
pass "control characters in file names are escaped"
