#!/usr/bin/env bash
# apply / status / rollback across the three file formats, --to, re-runs, --json.
source "$DD_SUPPORT/lib.sh"

url=$(new_db basic)
proj=$PWD/proj
git_init "$proj"
write_env "$proj" dev "$url"
mkdir -p "$proj/migrations"
cat >"$proj/migrations/0001_users.up.sql" <<'SQL'
CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE);
SQL
echo 'DROP TABLE users;' >"$proj/migrations/0001_users.down.sql"
cat >"$proj/migrations/0002_orders.sql" <<'SQL'
-- a plain up-only migration
CREATE TABLE orders (id bigserial PRIMARY KEY, user_id bigint);
SQL
cat >"$proj/migrations/10_audit.sql" <<'SQL'
-- migrate:up
CREATE TABLE audit (id int);
CREATE FUNCTION audit_count() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM audit; $$;

-- migrate:down
DROP FUNCTION audit_count();
DROP TABLE audit;
SQL
cat >"$proj/migrations/9_flags.up.sql" <<'SQL'
ALTER TABLE users ADD COLUMN active boolean NOT NULL DEFAULT true;
SQL
echo 'ALTER TABLE users DROP COLUMN active;' >"$proj/migrations/9_flags.down.sql"
echo "not a migration" >"$proj/migrations/README.md"
commit_all "$proj" "migrations"

# status before anything: all pending, ledger not created, read-only
expect_rc 0 -C "$proj" status dev
assert_contains "$out" "not created yet" "status shows the ledger is absent"
assert_contains "$out" "0 applied, 4 pending" "status counts"
assert_eq "$(q "$url" "select count(*) from pg_namespace where nspname = 'dbdeploy'")" "0" "status created nothing"

# --to applies a prefix, numerically ordered (9 before 10)
expect_rc 0 -C "$proj" apply dev --to 9
assert_contains "$out" "applied 3 migrations to dev" "apply --to summary"
assert_eq "$(q "$url" "select string_agg(version::text, ',' order by version) from dbdeploy.migrations")" "1,2,9" "ledger after --to"
assert_eq "$(q "$url" "select to_regclass('audit') is null")" "t" "audit not applied yet"

expect_rc 0 -C "$proj" apply dev
assert_contains "$out" "applied 1 migration to dev" "second apply"
assert_eq "$(q "$url" "select audit_count()")" "0" "dbmate up section ran"
assert_eq "$(q "$url" "select count(*) from dbdeploy.migrations where state = 'applied' and transactional")" "4" "four applied rows"
assert_eq "$(q "$url" "select checksum from dbdeploy.migrations where version = 1")" \
  "sha256:$(sha256sum "$proj/migrations/0001_users.up.sql" | cut -d' ' -f1)" "checksum is sha256 of the file bytes"

# nothing to do: exit 0
expect_rc 0 -C "$proj" apply dev
assert_contains "$out" "up to date" "no-op apply"

# json status
expect_rc 0 -C "$proj" --json status dev
assert_eq "$(jq -r '.counts.applied' <<<"$out")" "4" "json counts"
assert_eq "$(jq -r '.migrations[3].file' <<<"$out")" "migrations/10_audit.sql" "json file"
assert_eq "$(jq -r '.schema' <<<"$out")" "1" "json schema version"

# rollback one step: the dbmate down section
expect_rc 0 -C "$proj" rollback dev
assert_contains "$out" "rolled back 1 migration" "rollback summary"
assert_eq "$(q "$url" "select to_regclass('audit') is null")" "t" "dbmate down ran"
# rolling back further needs a down for 0002 (plain, up only): refused before any change
expect_rc 3 -C "$proj" rollback dev --to 0
assert_contains "$err" "no down file: migrations/0002_orders.sql" "missing down listed"
assert_eq "$(q "$url" "select count(*) from dbdeploy.migrations")" "3" "refused rollback changed nothing"
# allowed explicitly: 0002 is only unrecorded, its table stays
expect_rc 0 -C "$proj" rollback dev --to 0 --allow-missing-down
assert_eq "$(q "$url" "select count(*) from dbdeploy.migrations")" "0" "ledger empty"
assert_eq "$(q "$url" "select to_regclass('users') is null, to_regclass('orders') is null")" "t|f" "downs ran; orders stays"
assert_contains "$err" "has no down migration" "warned about the unrecorded migration"

# dry run changes nothing
q "$url" "drop table orders" >/dev/null
expect_rc 0 -C "$proj" apply dev --dry-run
assert_contains "$out" "would apply 4 migrations" "dry run lists"
assert_eq "$(q "$url" "select count(*) from dbdeploy.migrations")" "0" "dry run applied nothing"
pass "formats, ordering, --to, rollback, dry-run"
