#!/usr/bin/env bash
# Onboarding from dbmate (issue 11): a project whose db/migrations dbmate applied to staging.
# `init` configures that directory, deploy refuses (exit 3, naming `dbdeploy adopt`) instead of
# re-running dbmate's migrations, and after the adoption the first deploy applies only the new one.
source "$DD_SUPPORT/lib.sh"

proj=$PWD/proj
git_init "$proj"
mkdir -p "$proj/db/migrations"
printf -- '-- migrate:up\nCREATE TABLE products (id int PRIMARY KEY);\n\n-- migrate:down\nDROP TABLE products;\n' \
  >"$proj/db/migrations/20240101000001_products.sql"
printf -- '-- migrate:up\nALTER TABLE products ADD name text;\n\n-- migrate:down\nALTER TABLE products DROP name;\n' \
  >"$proj/db/migrations/20240101000002_products_name.sql"

# what `dbmate up` leaves behind. The table is created as dbmate v2 creates it
# (pkg/driver/postgres/postgres.go, CreateMigrationsTable), then each up section runs with its row.
db=$(new_db staging)
q "$db" 'create table if not exists "public"."schema_migrations" (version varchar(128) primary key)' >/dev/null
for v in 20240101000001 20240101000002; do
  sed -n '/^-- migrate:up/,/^-- migrate:down/p' "$proj"/db/migrations/${v}_*.sql | psql -X -q -v ON_ERROR_STOP=1 -d "$db"
  q "$db" "insert into \"public\".\"schema_migrations\" (version) values ('$v')" >/dev/null
done

expect_rc 0 -C "$proj" init
assert_contains "$out" "found db/migrations: 2 dbmate migration files" "init names the directory and format"
assert_contains "$out" "dbdeploy adopt ENV --from dbmate" "init says what comes next"
assert_eq "$(git -C "$proj" config -f pipeline/dbdeploy.conf migrations.dir)" "db/migrations" "configured dir"
[[ ! -e "$proj/db/migrations/README.md" ]] || fail "init wrote into dbmate's directory"
write_env "$proj" staging "$db" '[backup]' '	enabled = false'
commit_all "$proj" "dbdeploy init"
before=$(dump "$db")

expect_rc 3 -C "$proj" deploy staging
assert_contains "$err" "staging was migrated by dbmate (table public.schema_migrations) and has no dbdeploy ledger yet" "tool named"
assert_contains "$err" "'dbdeploy adopt staging --from dbmate'" "exact command"
assert_not_contains "$err" "already exists" "nothing re-ran"
assert_eq "$(dump "$db")" "$before" "database unchanged, no deployment recorded"
expect_rc 3 -C "$proj" status staging
assert_contains "$err" "dbdeploy adopt staging --from dbmate" "status says so too"
expect_rc 3 -C "$proj" apply staging
assert_eq "$(dump "$db")" "$before" "apply changed nothing either"

expect_rc 0 -C "$proj" adopt staging --from dbmate
assert_contains "$out" "adopted 2 migrations from dbmate's schema_migrations" "adopted"
printf -- '-- migrate:up\nALTER TABLE products ADD price numeric;\n\n-- migrate:down\nALTER TABLE products DROP price;\n' \
  >"$proj/db/migrations/20240101000003_products_price.sql"
commit_all "$proj" "price"
expect_rc 0 -C "$proj" deploy staging
assert_eq "$(q "$db" "select string_agg(version::text, ',' order by version) from dbdeploy.migrations")" \
  "20240101000001,20240101000002,20240101000003" "ledger"
assert_eq "$(q "$db" "select string_agg(m.version::text, ',') from dbdeploy.deployment_migrations m join dbdeploy.deployments d on d.id = m.deployment_id where d.kind = 'deploy'")" "20240101000003" \
  "the first deployment applied only the new migration"
assert_eq "$(q "$db" "select count(*) from information_schema.columns where table_name = 'products' and column_name = 'price'")" "1" "applied"
pass "onboarding from dbmate"
