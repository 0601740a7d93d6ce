#!/usr/bin/env bash
# The pipeline end to end on two real clusters and a real HTTP endpoint: the gate blocks prod
# until staging has the migrations, staging then prod deploy with backup, health checks, ledger
# record and changelog; a second run is up to date; --json carries the whole report.
source "$DD_SUPPORT/lib.sh"

export HEALTH_TOKEN=tok-happy-123
staging=$(new_db app_staging)
prod_cluster=$(pg_start prod)
createdb -h "$DD_PG_TMP/pg-prod/sock" app
prod="postgresql:///app?host=$DD_PG_TMP/pg-prod/sock&user=postgres"
start_stub health 200 --require-header "Authorization: Bearer $HEALTH_TOKEN"
proj=$PWD/proj
pipeline_project "$proj" "$staging" "$prod" "http://127.0.0.1:$stub_port/healthz"
five_migrations "$proj"
commit_all "$proj" "five tables"

# the gate: nothing is on staging yet
expect_rc 3 -C "$proj" deploy prod
assert_contains "$err" "gate: 5 of 5 migrations about to reach prod are not on staging as they are here" "gate summary"
assert_contains "$err" "missing: migrations/0001_t1.up.sql is not applied on staging" "each migration named"
assert_contains "$err" "dbdeploy deploy staging" "hint"
assert_eq "$(q "$prod" "select count(*) from pg_namespace where nspname = 'dbdeploy'")" "0" "prod untouched"

# plan changes nothing
expect_rc 0 -C "$proj" plan staging
assert_contains "$out" "dry run: 5 migrations would be deployed to staging" "plan lists"
assert_eq "$(q "$staging" "select count(*) from pg_namespace where nspname = 'dbdeploy'")" "0" "plan changed nothing"

# staging, via the shorthand
expect_rc 0 -C "$proj" staging
assert_contains "$out" "deployed 5 migrations to staging" "staging deployed"
for s in preflight lint gate health-before lock backup apply health-after record; do
  assert_contains "$err" "$s" "stage line $s"
done
assert_eq "$(q "$staging" "select count(*) from dbdeploy.migrations")" "5" "staging ledger"
assert_eq "$(q "$staging" "select result, array_length(versions, 1) from dbdeploy.deployments")" "applied|5" "staging deployment row"
ls "$proj"/.dbdeploy/backups/staging/*.tar.zst >/dev/null || fail "no staging archive"
[[ -f "$proj/changelog/staging/CHANGELOG.md" ]] || fail "no staging changelog"

# prod passes the gate now, with --json
expect_rc 0 -C "$proj" --json deploy prod
assert_eq "$(jq -r .result <<<"$out")" "applied" "json result"
assert_eq "$(jq -r '.applied | length' <<<"$out")" "5" "json applied"
assert_eq "$(jq -r '[.stages[].outcome] | join(",")' <<<"$out")" "ok,ok,ok,ok,ok,ok,ok,ok,ok" "every stage ok"
assert_eq "$(jq -r .gate <<<"$out")" "staging" "json gate"
archive=$(jq -r .archive <<<"$out")
[[ -f "$archive" ]] || fail "json archive path does not exist: $archive"
assert_eq "$(stat -c %a "$archive")" "600" "archive is private"
assert_eq "$(q "$prod" "select string_agg(version::text, ',' order by version) from dbdeploy.migrations")" "1,2,3,4,5" "prod ledger"
assert_eq "$(q "$prod" "select git_commit from dbdeploy.migrations limit 1")" "$(git -C "$proj" rev-parse HEAD)" "commit recorded"
assert_contains "$(cat "$proj/changelog/prod/CHANGELOG.md")" "<!-- dbdeploy:applied env=prod version=5 checksum=sha256:" "machine-readable changelog"
# the health endpoint was asked before and after, with the token
[[ $(requests health) -ge 4 ]] || fail "expected health requests before and after each deploy, got $(requests health)"

# nothing left: up to date, touching nothing
before=$(q "$prod" "select count(*) from dbdeploy.deployments")
expect_rc 0 -C "$proj" deploy prod
assert_contains "$out" "prod is up to date" "up to date"
assert_eq "$(q "$prod" "select count(*) from dbdeploy.deployments")" "$before" "no record for an up-to-date run"
pass "gate, staging, prod, record, changelog, up to date"
