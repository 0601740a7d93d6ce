#!/usr/bin/env bash
# The details a newcomer trips on: deploy --to, plan --sql, envs, a dirty migration in status
# ("2 of 3 statements done", not counted as applied), the hint after a no-transaction failure,
# singular "1 migration", stage lines without trailing blanks, the server version in -v, and a
# deploy that fails with bad input (exit 2) recording no deployment.
source "$DD_SUPPORT/lib.sh"

export HEALTH_TOKEN=tok-details-1
staging=$(new_db det_staging)
prod=$(new_db det_prod)
start_stub health 200
proj=$PWD/proj
pipeline_project "$proj" "$staging" "$prod" "http://127.0.0.1:$stub_port/healthz"
five_migrations "$proj"
commit_all "$proj" "five tables"

# plan --sql prints exactly what each migration sends, and changes nothing
expect_rc 0 -C "$proj" plan staging --to 2 --sql
assert_contains "$out" "dry run: 2 migrations would be deployed to staging" "plan --to limits the plan"
assert_contains "$out" "-- migrations/0001_t1.up.sql: one transaction, with its ledger row" "sql header"
assert_contains "$out" "CREATE TABLE t2 (id int PRIMARY KEY, note text);" "sql text of 0002"
assert_not_contains "$out" "CREATE TABLE t3" "0003 is beyond --to"
assert_eq "$(q "$staging" "select count(*) from pg_namespace where nspname = 'dbdeploy'")" "0" "plan --sql changed nothing"
expect_rc 0 -C "$proj" --json plan staging --sql
assert_eq "$(jq -r '.pending[4].sql' <<<"$out" | head -1)" "CREATE TABLE t5 (id int PRIMARY KEY, note text);" "json sql"
pass "plan --sql and --to"

# deploy --to stops at the version asked for
expect_rc 0 -C "$proj" deploy staging --to 0001
assert_contains "$out" "deployed 1 migration to staging" "singular"
assert_eq "$(q "$staging" "select string_agg(version::text, ',' order by version) from dbdeploy.migrations")" "1" "only 0001"
while IFS= read -r line; do
  [[ "$line" != *" " ]] || fail "stage line ends with a blank: '$line'"
done <<<"$err"
expect_rc 2 -C "$proj" deploy staging --to 0042
assert_contains "$err" "no migration has version 42" "unknown --to version named"
expect_rc 0 -C "$proj" deploy staging
assert_contains "$out" "deployed 4 migrations to staging" "the rest"
expect_rc 0 -C "$proj" -v status staging
assert_contains "$err" "(PostgreSQL 15." "server version as major.minor"
assert_not_contains "$err" "server 1500" "no raw server number"
pass "deploy --to, singular, stage lines, -v server version"

# envs: both environments, the database masked, what protects each
printf '[database]\n\turl = postgresql://app:Sekr3tPass@db.example.com/app\n' >"$proj/pipeline/qa.conf"
expect_rc 0 -C "$proj" envs
assert_contains "$out" "prod" "prod listed"
assert_contains "$out" "staging" "staging listed"
assert_not_contains "$out$err" "Sekr3tPass" "password masked"
assert_contains "$(grep '^prod ' <<<"$out")" "staging" "prod requires staging"
expect_rc 0 -C "$proj" --json envs
assert_eq "$(jq -r '[.environments[].name] | join(",")' <<<"$out")" "prod,qa,staging" "json names"
assert_eq "$(jq -r '.environments[] | select(.name=="prod") | .requires' <<<"$out")" "staging" "json requires"
assert_not_contains "$out" "Sekr3tPass" "json password masked"
printf '[database]\n\turl = ${NO_SUCH_VAR_FOR_ENVS}\n' >"$proj/pipeline/broken.conf"
expect_rc 2 -C "$proj" envs
assert_contains "$out" "broken" "broken env still listed"
assert_contains "$err" "NO_SUCH_VAR_FOR_ENVS" "its error is the command's error"
rm "$proj/pipeline/broken.conf" "$proj/pipeline/qa.conf"
pass "envs"

# bad input found by preflight (exit 2): nothing was done, so no deployment is recorded
printf 'CREATE TABLE meta (id int);\n\\i other.sql\n' >"$proj/migrations/0006_meta.up.sql"
commit_all "$proj" "a migration with a psql meta-command"
deployments=$(q "$staging" "select count(*) from dbdeploy.deployments")
changelog=$(cat "$proj/changelog/staging/CHANGELOG.md")
expect_rc 2 -C "$proj" deploy staging
assert_contains "$err" "0006_meta.up.sql" "the file is named"
assert_eq "$(q "$staging" "select count(*) from dbdeploy.deployments")" "$deployments" "no deployment recorded for exit 2"
assert_eq "$(cat "$proj/changelog/staging/CHANGELOG.md")" "$changelog" "no changelog entry for exit 2"
git -C "$proj" rm -q migrations/0006_meta.up.sql
pass "exit 2 records no deployment"

# a no-transaction migration failing at its 3rd statement: dirty, 2 of 3 done, not "applied"
cat >"$proj/migrations/0006_nt.up.sql" <<'SQL'
-- dbdeploy:no-transaction
CREATE TABLE nt1 (id int);
CREATE TABLE nt2 (id int);
CREATE TABLE nt1 (id int);
SQL
commit_all "$proj" "no-transaction migration failing at its third statement"
expect_rc 1 -C "$proj" apply staging
assert_contains "$err" "statements 1 to 2 stayed applied" "hint names what stayed"
expect_rc 0 -C "$proj" status staging
assert_contains "$out" "dirty 2/3" "dirty state column"
assert_contains "$out" "migrations/0006_nt.up.sql is dirty: 2 of 3 statements done" "dirty line"
assert_contains "$out" "5 applied, 0 pending; 1 dirty" "dirty not counted as applied"
expect_rc 0 -C "$proj" mark staging 0006 --pending
q "$staging" "drop table nt1, nt2" >/dev/null

# failing at its first statement: nothing stayed applied, and the hint says so
printf -- '-- dbdeploy:no-transaction\nCREATE TABLE t1 (id int);\nCREATE TABLE nt3 (id int);\n' \
  >"$proj/migrations/0006_nt.up.sql"
commit_all "$proj" "no-transaction migration failing at once"
expect_rc 1 -C "$proj" apply staging
assert_contains "$err" "none of its statements stayed applied" "hint for 0 statements"
assert_not_contains "$err" "statements 1 to 0" "no '1 to 0'"
pass "dirty migration in status and its hint"
