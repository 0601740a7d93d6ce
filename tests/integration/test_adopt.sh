#!/usr/bin/env bash
# `dbdeploy adopt` takes over databases migrated by golang-migrate (schema_migrations(version
# bigint, dirty boolean), one row) and dbmate (schema_migrations(version varchar), a row per
# version), created here exactly as those tools create them, without re-running anything.
source "$DD_SUPPORT/lib.sh"

proj=$PWD/proj
git_init "$proj"
mkdir -p "$proj/migrations"
for i in 1 2 3 4; do
  printf 'CREATE TABLE t%s (id int);\n' "$i" >"$proj/migrations/2024010100000${i}_t$i.up.sql"
  printf 'DROP TABLE t%s;\n' "$i" >"$proj/migrations/2024010100000${i}_t$i.down.sql"
done
commit_all "$proj" "four"

# --- golang-migrate: applied 1..3 with its bookkeeping
gm=$(new_db gm)
for i in 1 2 3; do psql -X -q -d "$gm" -f "$proj/migrations/2024010100000${i}_t$i.up.sql"; done
q "$gm" 'CREATE TABLE IF NOT EXISTS "schema_migrations" (version bigint not null primary key, dirty boolean not null)' >/dev/null
q "$gm" "INSERT INTO schema_migrations (version, dirty) VALUES (20240101000003, false)" >/dev/null
write_env "$proj" gm "$gm"
expect_rc 0 -C "$proj" adopt gm --from golang-migrate --dry-run
assert_contains "$out" "would adopt 3 migrations" "dry run"
assert_eq "$(q "$gm" "select count(*) from pg_namespace where nspname = 'dbdeploy'")" "0" "dry run changed nothing"
expect_rc 0 -C "$proj" adopt gm --from golang-migrate
assert_contains "$out" "adopted 3 migrations from golang-migrate's schema_migrations into gm's ledger" "adopted"
assert_eq "$(q "$gm" "select string_agg(version::text, ',' order by version) from dbdeploy.migrations")" "20240101000001,20240101000002,20240101000003" "ledger"
assert_eq "$(q "$gm" "select checksum from dbdeploy.migrations where version = 20240101000001")" \
  "sha256:$(sha256sum "$proj/migrations/20240101000001_t1.up.sql" | cut -d' ' -f1)" "current checksums"
assert_contains "$(q "$gm" "select applied_by from dbdeploy.migrations limit 1")" "(adopted from golang-migrate)" "provenance"
# nothing re-runs: apply does only 4 (re-running 1..3 would fail: the tables exist)
expect_rc 0 -C "$proj" apply gm
assert_contains "$out" "applied 1 migration to gm" "only the fourth"
assert_eq "$(q "$gm" "select count(*) from schema_migrations")" "1" "golang-migrate's table only read"
expect_rc 0 -C "$proj" adopt gm --from golang-migrate
assert_contains "$out" "adopted 0 migrations" "adopting again is a no-op"
assert_contains "$out" "(3 already recorded)" "says so"

# golang-migrate left dirty: refused
gm2=$(new_db gm2)
q "$gm2" 'CREATE TABLE IF NOT EXISTS "schema_migrations" (version bigint not null primary key, dirty boolean not null)' >/dev/null
q "$gm2" "INSERT INTO schema_migrations VALUES (20240101000002, true)" >/dev/null
write_env "$proj" gm2 "$gm2"
expect_rc 3 -C "$proj" adopt gm2 --from golang-migrate
assert_contains "$err" "golang-migrate left gm2 dirty at version 20240101000002" "dirty refused"
assert_contains "$err" "migrate force" "hint"

# a version dbdeploy's ledger holds in another state refuses the adoption before anything is
# recorded (1 is not recorded; 2 is recorded with other content)
gm3=$(new_db gm3)
write_env "$proj" gm3 "$gm3"
expect_rc 0 -C "$proj" apply gm3 --to 20240101000002
q "$gm3" "DELETE FROM dbdeploy.migrations WHERE version = 20240101000001" >/dev/null
# other content: another checksum and another blob (a row whose blob id matches the file is
# vouched for by it and keeps the file's checksum)
q "$gm3" "UPDATE dbdeploy.migrations SET checksum = 'sha256:$(printf '0%.0s' {1..64})', git_blob = '$(printf '1%.0s' {1..40})' WHERE version = 20240101000002" >/dev/null
q "$gm3" 'CREATE TABLE "schema_migrations" (version bigint not null primary key, dirty boolean not null)' >/dev/null
q "$gm3" "INSERT INTO schema_migrations VALUES (20240101000003, false)" >/dev/null
expect_rc 3 -C "$proj" adopt gm3 --from golang-migrate
assert_contains "$err" "migrations/20240101000002_t2.up.sql is already in the ledger as modified" "conflict named"
assert_eq "$(q "$gm3" "select count(*) from dbdeploy.migrations where version = 20240101000001")" "0" "refused adoption recorded nothing"

# --- dbmate: a row per applied version, here 1 and 2
dm=$(new_db dm)
for i in 1 2; do psql -X -q -d "$dm" -f "$proj/migrations/2024010100000${i}_t$i.up.sql"; done
q "$dm" 'create table if not exists "schema_migrations" (version varchar(128) primary key)' >/dev/null
q "$dm" "insert into schema_migrations (version) values ('20240101000001'), ('20240101000002')" >/dev/null
write_env "$proj" dm "$dm"
expect_rc 0 -C "$proj" --json adopt dm --from dbmate
assert_eq "$(jq -r '.adopted | join(",")' <<<"$out")" "20240101000001,20240101000002" "json adopted"
expect_rc 0 -C "$proj" apply dm
assert_contains "$out" "applied 2 migrations to dm" "3 and 4 applied"

# dbmate knows a version that has no file: refused, listed
dm2=$(new_db dm2)
q "$dm2" 'create table if not exists "schema_migrations" (version varchar(128) primary key)' >/dev/null
q "$dm2" "insert into schema_migrations (version) values ('20240101000001'), ('20231231000000')" >/dev/null
write_env "$proj" dm2 "$dm2"
expect_rc 2 -C "$proj" adopt dm2 --from dbmate
assert_contains "$err" "version 20231231000000 is applied according to dbmate but has no file" "unknown version listed"
expect_rc 2 -C "$proj" adopt dm2 --from liquibase
assert_contains "$err" "'liquibase' is not a tool dbdeploy can adopt from" "unknown tool"
expect_rc 2 -C "$proj" adopt dm2 --from dbmate --table nope
assert_contains "$err" "there is no table 'nope'" "missing table"
pass "adopt from golang-migrate and dbmate"
