#!/usr/bin/env bash
# Preflight proves the way back exists before the first change: a role without CREATEDB whose plan
# needs a restore is refused (exit 3, nothing changed, the fix named); with [restore] strategy =
# none stated it deploys; strategy = down without down files is refused too.
source "$DD_SUPPORT/lib.sh"

q postgres "CREATE ROLE app_deployer LOGIN" >/dev/null 2>&1 || psql -X -q -d "$(new_db scratch)" -c "CREATE ROLE app_deployer LOGIN"
createdb -O app_deployer appdb
url="postgresql:///appdb?host=$PGHOST&port=$PGPORT&user=app_deployer"
start_stub health_ok 200
proj=$PWD/proj
git_init "$proj"
printf '.dbdeploy/\n' >"$proj/.gitignore"
conf() { write_env "$proj" prod "$url" "[health]" "url = http://127.0.0.1:$stub_port/healthz" "$@"; commit_conf "$proj"; }
conf
mkdir -p "$proj/migrations"
echo 'CREATE TABLE a (id int);' >"$proj/migrations/0001_a.up.sql"
commit_all "$proj" "a, without a down file"

expect_rc 3 -C "$proj" deploy prod --dry-run
assert_contains "$err" "lacks CREATEDB" "a dry run says so too"
expect_rc 3 -C "$proj" deploy prod
assert_contains "$err" "no way back: a failure would need to restore the backup, and role 'app_deployer' lacks CREATEDB" "names CREATEDB"
assert_contains "$err" "ALTER ROLE app_deployer CREATEDB;" "gives the GRANT"
assert_contains "$err" "GRANT pg_signal_backend TO app_deployer;" "and the right to end sessions"
assert_contains "$err" "strategy = none" "names the explicit alternative"
assert_eq "$(psql -X -At -d "$url" -c "select to_regclass('a') is null and to_regnamespace('dbdeploy') is null")" "t" "nothing changed"

conf "[restore]" "strategy = down"
expect_rc 3 -C "$proj" deploy prod
assert_contains "$err" "[restore] strategy = down, but migrations/0001_a.up.sql has no down file" "down strategy needs the files"

conf "[restore]" "strategy = none"
expect_rc 0 -C "$proj" deploy prod --dry-run
assert_contains "$out" "on failure: roll back the transaction; if health-after fails once it committed: nothing: the database is left as it is" "the plan names the rungs"
expect_rc 0 -C "$proj" deploy prod
assert_eq "$(psql -X -At -d "$url" -c "select to_regclass('a') is not null")" "t" "deployed with strategy = none"
pass "the way back is checked before the first change"
