#!/usr/bin/env bash
# Onboarding from golang-migrate (issue 11): migrations/N_name.up.sql + .down.sql applied by
# golang-migrate. `init` configures them, deploy refuses (exit 3, naming `dbdeploy adopt`), and
# after the adoption the first deploy applies only the new migration. A table in another schema
# gets --table in the suggested command.
source "$DD_SUPPORT/lib.sh"

proj=$PWD/proj
git_init "$proj"
mkdir -p "$proj/migrations"
for i in 1 2; do
  printf 'CREATE TABLE t%s (id int);\n' "$i" >"$proj/migrations/00000${i}_t$i.up.sql"
  printf 'DROP TABLE t%s;\n' "$i" >"$proj/migrations/00000${i}_t$i.down.sql"
done

# what `migrate up` leaves behind. The table is created as golang-migrate v4 creates it
# (database/postgres/postgres.go, ensureVersionTable); it keeps one row: the current version.
db=$(new_db staging)
q "$db" 'CREATE TABLE IF NOT EXISTS "public"."schema_migrations" (version bigint not null primary key, dirty boolean not null)' >/dev/null
for i in 1 2; do psql -X -q -v ON_ERROR_STOP=1 -d "$db" -f "$proj/migrations/00000${i}_t$i.up.sql"; done
q "$db" 'INSERT INTO "public"."schema_migrations" (version, dirty) VALUES (2, false)' >/dev/null

expect_rc 0 -C "$proj" init
assert_contains "$out" "found migrations: 4 golang-migrate migration files" "init names the directory and format"
assert_eq "$(git -C "$proj" config -f pipeline/dbdeploy.conf migrations.dir)" "migrations" "configured dir"
write_env "$proj" staging "$db" '[backup]' '	enabled = false'
commit_all "$proj" "dbdeploy init"
before=$(dump "$db")

expect_rc 3 -C "$proj" deploy staging
assert_contains "$err" "staging was migrated by golang-migrate (table public.schema_migrations)" "tool named"
assert_contains "$err" "'dbdeploy adopt staging --from golang-migrate'" "exact command"
assert_eq "$(dump "$db")" "$before" "nothing ran, nothing recorded"
expect_rc 3 -C "$proj" status staging

expect_rc 0 -C "$proj" adopt staging --from golang-migrate
assert_contains "$out" "adopted 2 migrations" "adopted"
printf 'CREATE TABLE t3 (id int);\n' >"$proj/migrations/000003_t3.up.sql"
printf 'DROP TABLE t3;\n' >"$proj/migrations/000003_t3.down.sql"
commit_all "$proj" "t3"
expect_rc 0 -C "$proj" deploy staging
assert_eq "$(q "$db" "select string_agg(m.version::text, ',') from dbdeploy.deployment_migrations m join dbdeploy.deployments d on d.id = m.deployment_id where d.kind = 'deploy'")" "3" \
  "the first deployment applied only the new migration"
assert_eq "$(q "$db" "select count(*) from dbdeploy.migrations")" "3" "ledger"

# golang-migrate's table in another schema (x-migrations-table / search_path): --table named
db2=$(new_db other)
q "$db2" 'CREATE SCHEMA app; CREATE TABLE IF NOT EXISTS "app"."schema_migrations" (version bigint not null primary key, dirty boolean not null)' >/dev/null
write_env "$proj" other "$db2"
expect_rc 3 -C "$proj" apply other
assert_contains "$err" "'dbdeploy adopt other --from golang-migrate --table app.schema_migrations'" "--table for another schema"
assert_eq "$(q "$db2" "select count(*) from pg_namespace where nspname = 'dbdeploy'")" "0" "no ledger created"
pass "onboarding from golang-migrate"
