#!/usr/bin/env bash
# Backup, then change everything (a migration that creates a table, data, sequences, large
# objects, a dropped table), then restore: pg_dump of the database equals the dump taken before
# the backup, owners and privileges included, and nothing made after the backup survives.
# The database holds several schemas, sequences, large objects, bytea, partitions, inheritance,
# materialized views over materialized views, an event trigger, and a real-world schema of
# several hundred objects (openmeter from ../shared/corpus), so pg_restore reading the dump
# from a pipe is exercised on a dump with many objects and dependencies.
source "$DD_SUPPORT/lib.sh"

full_dump() { pg_dump --restrict-key=dbdeploytest -d "$1" | grep -vE '^-- Dumped (from|by)'; }
lo_sums() { q "$1" "select string_agg(oid::text || ':' || md5(lo_get(oid)), ',' order by oid) from pg_largeobject_metadata"; }

url=$(new_db app)
psql -X -q -v ON_ERROR_STOP=1 -c "create role app_owner" -c "create role app_reader"
proj=$PWD/proj
git_init "$proj"
write_env "$proj" prod "$url"
mkdir -p "$proj/migrations"
cat >"$proj/migrations/0001_schema.up.sql" <<'SQL'
CREATE SCHEMA app;
CREATE TABLE app.users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL UNIQUE);
SQL
commit_all "$proj" "first migration"
expect_rc 0 -C "$proj" apply prod

corpus=$DBDEPLOY_SOURCE_DIR/../shared/corpus/openmeter/expected-schema.sql
[[ -f $corpus ]] || fail "missing $corpus"
psql -X -q -v ON_ERROR_STOP=1 -d "$url" -f "$corpus" >/dev/null

psql -X -q -v ON_ERROR_STOP=1 -d "$url" >/dev/null <<'SQL'
CREATE SCHEMA sales AUTHORIZATION app_owner;
CREATE SCHEMA inventory;
CREATE SCHEMA "Odd Schema";
CREATE DOMAIN inventory.posint AS int CHECK (VALUE > 0);
CREATE TYPE sales.status AS ENUM ('new', 'paid', 'shipped');
CREATE SEQUENCE sales.invoice_no START 1000 INCREMENT 7;
CREATE TABLE sales.customer (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL UNIQUE,
                             photo bytea, created timestamptz DEFAULT '2026-01-01');
ALTER TABLE sales.customer OWNER TO app_owner;
CREATE TABLE sales.orders (id serial PRIMARY KEY, customer_id bigint REFERENCES sales.customer (id) ON DELETE CASCADE,
                           st sales.status DEFAULT 'new', qty inventory.posint, total numeric(12, 2), doc oid,
                           invoice int DEFAULT nextval('sales.invoice_no'),
                           total2 numeric GENERATED ALWAYS AS (total * 2) STORED);
CREATE INDEX ON sales.orders (customer_id);
CREATE TABLE inventory.item (sku text PRIMARY KEY, data jsonb,
                             parent text REFERENCES inventory.item (sku) DEFERRABLE INITIALLY DEFERRED);
CREATE TABLE "Odd Schema"."Mixed Case" ("Col" int, x text);
CREATE TABLE inventory.meas (t date NOT NULL, v float8) PARTITION BY RANGE (t);
CREATE TABLE inventory.meas_2024 PARTITION OF inventory.meas FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE inventory.meas_2025 PARTITION OF inventory.meas FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE inventory.base (a int);
CREATE TABLE inventory.child (b int) INHERITS (inventory.base);
CREATE FUNCTION sales.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.created := now(); RETURN NEW; END $$;
CREATE TRIGGER t_touch BEFORE UPDATE ON sales.customer FOR EACH ROW EXECUTE FUNCTION sales.touch();
CREATE VIEW sales.v_orders AS SELECT o.id, c.name FROM sales.orders o JOIN sales.customer c ON c.id = o.customer_id;
CREATE MATERIALIZED VIEW sales.mv_counts AS SELECT customer_id, count(*) AS n FROM sales.orders GROUP BY 1;
CREATE MATERIALIZED VIEW sales.mv_top AS SELECT * FROM sales.mv_counts WHERE n > 5;
CREATE UNIQUE INDEX ON sales.mv_counts (customer_id);
CREATE FUNCTION inventory.no_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN END $$;
CREATE EVENT TRIGGER quiet_ddl ON ddl_command_end EXECUTE FUNCTION inventory.no_ddl();
INSERT INTO sales.customer (name, photo)
SELECT 'c' || g, decode(md5(g::text) || md5((g * 3)::text), 'hex') FROM generate_series(1, 2000) g;
INSERT INTO sales.orders (customer_id, st, qty, total, doc)
SELECT 1 + g % 2000, (ARRAY['new', 'paid', 'shipped']::sales.status[])[1 + g % 3], 1 + g % 9, g * 1.25,
       CASE WHEN g % 500 = 0 THEN lo_from_bytea(0, convert_to(repeat('large object ' || g, 5000), 'UTF8')) END
FROM generate_series(1, 20000) g;
SELECT lo_from_bytea(0, decode(repeat(md5(g::text), 4000), 'hex')) FROM generate_series(1, 20) g;
INSERT INTO inventory.item SELECT 'sku' || g, jsonb_build_object('n', g, 'tags', ARRAY['a', 'b']),
       CASE WHEN g > 1 THEN 'sku' || (g - 1) END FROM generate_series(1, 3000) g;
INSERT INTO "Odd Schema"."Mixed Case" SELECT g, repeat('x', g % 50) FROM generate_series(1, 500) g;
INSERT INTO inventory.meas SELECT '2024-01-01'::date + (g % 700), g / 3.0 FROM generate_series(1, 10000) g;
INSERT INTO inventory.child VALUES (1, 2);
INSERT INTO inventory.base VALUES (3);
REFRESH MATERIALIZED VIEW sales.mv_counts;
REFRESH MATERIALIZED VIEW sales.mv_top;
SELECT setval('sales.invoice_no', 999999);
GRANT USAGE ON SCHEMA sales TO app_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA sales TO app_reader;
COMMENT ON TABLE sales.orders IS 'orders ''quoted''';
-- database-level properties travel with the database being replaced
ALTER DATABASE app SET search_path = sales, public, "$user";
COMMENT ON DATABASE app IS 'the application';
REVOKE CONNECT ON DATABASE app FROM PUBLIC;
GRANT CONNECT ON DATABASE app TO app_reader;
SQL

before=$(full_dump "$url")
lo_before=$(lo_sums "$url")
props_sql="select datacl::text || ' ' || coalesce(shobj_description(oid, 'pg_database'), '') || ' ' ||
  (select setconfig::text from pg_db_role_setting where setdatabase = d.oid) from pg_database d where datname = 'app'"
props_before=$(q "$url" "$props_sql")

expect_rc 0 -C "$proj" backup prod
archive=$out
recorded_at_backup=$(q "$url" "select max(id) from dbdeploy.deployments")
envdir=$proj/.dbdeploy/backups/prod
[[ $archive == "$envdir"/* ]] || fail "archive '$archive' is not in $envdir"
[[ $(basename "$archive") =~ ^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{7}\.tar\.zst$ ]] || fail "archive name '$archive'"
assert_eq "$(stat -c %a "$archive")" "600" "archive mode"
assert_eq "$(stat -c %a "$envdir")" "700" "env directory mode"
assert_eq "$(find "$envdir" -mindepth 1 | wc -l)" "1" "nothing but the archive in the env directory"
assert_contains "$err" "backup" "stage line on stderr"

# the manifest describes what was captured
manifest=$(zstd -dc "$archive" | tar -xOf - manifest.json)
head=$(git -C "$proj" rev-parse HEAD)
assert_eq "$(jq -r .env <<<"$manifest")" "prod" "manifest env"
assert_eq "$(jq -r .database <<<"$manifest")" "app" "manifest database"
assert_eq "$(jq -r .git_commit <<<"$manifest")" "$head" "manifest commit"
assert_eq "$(jq -c .applied_versions <<<"$manifest")" "[1]" "manifest applied versions"
assert_eq "$(jq -r .server_version_num <<<"$manifest")" "$(q "$url" "show server_version_num")" "server version"
assert_eq "$(jq -r .dump.sha256 <<<"$manifest")" "$(zstd -dc "$archive" | tar -xOf - dump | sha256sum | cut -d' ' -f1)" \
  "manifest checksum is the dump's"
[[ $(basename "$archive") == *"-${head:0:7}.tar.zst" ]] || fail "archive name lacks the short commit"

expect_rc 0 -C "$proj" backup --verify "$archive"
assert_contains "$out" "ok $archive" "verify"
expect_rc 0 -C "$proj" backups prod
assert_contains "$out" "$archive" "listing shows the archive"
assert_contains "$out" "1, newest 1" "listing shows the applied migrations"

# after the backup: a migration creates a table and changes data; other changes by hand
cat >"$proj/migrations/0002_after.up.sql" <<'SQL'
CREATE TABLE app.after_backup (id int PRIMARY KEY);
INSERT INTO app.after_backup VALUES (1);
-- dbdeploy:allow row-changes marks the customers touched after the backup
UPDATE sales.customer SET name = name || '!' WHERE id < 100;
SQL
commit_all "$proj" "second migration"
expect_rc 0 -C "$proj" apply prod
psql -X -q -v ON_ERROR_STOP=1 -d "$url" >/dev/null <<'SQL'
SELECT nextval('sales.invoice_no');
DELETE FROM sales.orders WHERE id % 7 = 0;
SELECT lo_unlink(min(oid)) FROM pg_largeobject_metadata;
SELECT lo_from_bytea(0, '\xdeadbeef');
DROP TABLE "Odd Schema"."Mixed Case";
CREATE TABLE public.made_by_hand (x int);
SQL
[[ "$(full_dump "$url")" != "$before" ]] || fail "the changes did not change the dump"

# an application session that is still connected when the restore switches databases
psql -X -q -d "$url" -c "select pg_sleep(600)" >/dev/null 2>&1 &
app_pid=$!
for _ in $(seq 50); do
  [[ $(q "$url" "select count(*) from pg_stat_activity where query like '%pg_sleep(600)%' and pid <> pg_backend_pid()") == 1 ]] && break
  sleep 0.1
done

expect_rc 0 -C "$proj" restore prod "$archive" --yes
assert_contains "$err" "restore" "restore stage line"
# the history recorded since the backup is carried across, and the restore goes on record after
# it; apart from those rows the database is the captured state
assert_eq "$(q "$url" "select string_agg(kind || ' ' || result, ', ' order by id) from dbdeploy.deployments where id > $recorded_at_backup")" \
  "apply applied, restore restored" "history kept and the restore recorded after the switch"
drop_new_records() {
  q "$url" "DELETE FROM dbdeploy.deployments WHERE id > $recorded_at_backup; SELECT setval('dbdeploy.deployments_id_seq', $recorded_at_backup)" >/dev/null
}
drop_new_records
after=$(full_dump "$url")
if [[ "$after" != "$before" ]]; then
  diff <(echo "$before") <(echo "$after") | head -40 >&2
  fail "pg_dump after the restore differs from the dump before the backup"
fi
assert_eq "$(lo_sums "$url")" "$lo_before" "large objects restored byte for byte"
assert_eq "$(q "$url" "select to_regclass('app.after_backup') is null and to_regclass('public.made_by_hand') is null")" \
  "t" "tables created after the backup are gone"
assert_eq "$(q "$url" "select string_agg(version::text, ',' order by version) from dbdeploy.migrations")" "1" \
  "the ledger is back to the captured state"
assert_eq "$(q "$url" "select nextval('sales.invoice_no')")" "1000006" "sequence restored"
assert_eq "$(q "$url" "$props_sql")" "$props_before" "database settings, comment and privileges kept"
assert_eq "$(q "$url" "select count(*) from pg_database where datname like '%dbdeploy%'")" "0" "no side databases left"
if wait "$app_pid"; then fail "the application session survived the switch"; fi

# restoring again from the same archive is idempotent
expect_rc 0 -C "$proj" -q restore prod latest --yes
drop_new_records
[[ "$(full_dump "$url")" == "$before" ]] || fail "second restore differs"
pass "round trip restores the captured database exactly"
