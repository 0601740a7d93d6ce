#!/usr/bin/env bash
# dbdeploy setup ENV: an empty database installed from schema.sql, its migrations recorded as
# applied, the newer ones applied; the result is the schema of migrating from zero. A database
# that is not empty is refused (exit 3) untouched.
source "$DD_SUPPORT/lib.sh"

proj=$PWD/proj
git_init "$proj"
cp -r "$DBDEPLOY_SOURCE_DIR/migrations" "$proj/"
rm -f "$proj/migrations/README.md"
mkdir -p "$proj/pipeline"
printf '[schema]\n\tscratch-url = %s\n' "$DBDEPLOY_TEST_URL" >"$proj/pipeline/dbdeploy.conf"
fresh=$(new_db setup_fresh)
zero=$(new_db setup_zero)
write_env "$proj" fresh "$fresh" "[backup]" "enabled = false"
write_env "$proj" zero "$zero" "[backup]" "enabled = false"
expect_rc 0 -C "$proj" schema check --write
commit_all "$proj" "migrations 1-4 and schema.sql"
printf 'ALTER TABLE accounts ADD COLUMN nickname text;\n' >"$proj/migrations/0005_nickname.up.sql"
commit_all "$proj" "0005 after the schema file"

schema_only() { pg_dump --schema-only --no-owner --exclude-schema=dbdeploy --restrict-key=t -d "$1" | grep -v '^-- Dumped'; }

expect_rc 0 -C "$proj" setup fresh
assert_contains "$out" "installed fresh from schema.sql (4 migrations recorded as applied), then applied 1 newer migration" "setup report"
expect_rc 0 -C "$proj" apply zero
assert_eq "$(schema_only "$fresh")" "$(schema_only "$zero")" "setup + newer migration = migrating from zero"
assert_eq "$(q "$fresh" "select count(*) from dbdeploy.migrations where state = 'applied'")" 5 "all five recorded"
assert_eq "$(q "$fresh" "select count(*) from dbdeploy.migrations where applied_by like '%(setup from schema.sql)'")" 4 \
  "the four from the file say so"
expect_rc 0 -C "$proj" status fresh
assert_contains "$out" "5 applied, 0 pending" "nothing pending after setup"
expect_rc 0 -C "$proj" drift fresh
assert_contains "$out" "no drift" "setup records the schema it leaves"

# and deploys go on from there
printf 'ALTER TABLE orders ADD COLUMN note text;\n' >"$proj/migrations/0006_order_note.up.sql"
commit_all "$proj" "0006"
expect_rc 0 -C "$proj" fresh
expect_rc 0 -C "$proj" zero
assert_eq "$(schema_only "$fresh")" "$(schema_only "$zero")" "still equal after a deploy"

# not empty: refused, untouched
before=$(dump "$zero")
expect_rc 3 -C "$proj" setup zero
assert_contains "$err" "zero is not empty" "refusal names the environment"
assert_eq "$(dump "$zero")" "$before" "refused setup changed nothing"
other=$(new_db setup_other)
q "$other" "CREATE TABLE leftover (id int)" >/dev/null
write_env "$proj" other "$other" "[backup]" "enabled = false"
commit_all "$proj" "other"
expect_rc 3 -C "$proj" setup other
assert_contains "$err" "public.leftover" "names an object it found"
assert_eq "$(q "$other" "select count(*) from information_schema.tables where table_schema = 'public'")" 1 "other untouched"

# a broken schema file installs nothing
broken=$(new_db setup_broken)
write_env "$proj" broken "$broken" "[backup]" "enabled = false"
sed -i 's/^CREATE TABLE public.orders (/CREATE TABLE public.orders ( nonsense here,/' "$proj/schema.sql"
commit_all "$proj" "broken schema file"
expect_rc 1 -C "$proj" setup broken
assert_contains "$err" "loading schema.sql" "names the file"
assert_eq "$(q "$broken" "select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public'")" 0 \
  "nothing installed from a broken file"
pass "setup from schema.sql"
