#!/usr/bin/env bash
# Onboarding from Flyway (issue 11): V<n>__name.sql (+ U<n>__name.sql undo) under Maven's
# src/main/resources/db/migration, applied by Flyway. `init` configures them, deploy refuses
# (exit 3, naming `dbdeploy adopt --from flyway`), the adoption replays flyway_schema_history,
# and the first deploy applies only the new migration. Sqitch's registry is named too.
source "$DD_SUPPORT/lib.sh"

proj=$PWD/proj
dir=src/main/resources/db/migration
git_init "$proj"
mkdir -p "$proj/$dir"
printf 'CREATE TABLE accounts (id int);\n' >"$proj/$dir/V1__accounts.sql"
printf 'ALTER TABLE accounts ADD owner text;\n' >"$proj/$dir/V2__owner.sql"
printf 'ALTER TABLE accounts DROP owner;\n' >"$proj/$dir/U2__owner.sql"
printf 'CREATE TABLE audit (id int);\n' >"$proj/$dir/V3__audit.sql"

# what `flyway migrate` leaves behind. The table as Flyway (9.x and 10.x) creates it on PostgreSQL
# (org/flywaydb/database/postgresql/createMetaDataTable.sql), then its rows: V1 and V2 applied,
# V3 applied and then undone (`flyway undo`, Teams edition), so V3 is pending again.
db=$(new_db staging)
psql -X -q -v ON_ERROR_STOP=1 -d "$db" <<'SQL'
CREATE TABLE "public"."flyway_schema_history" (
    "installed_rank" INT NOT NULL,
    "version" VARCHAR(50),
    "description" VARCHAR(200) NOT NULL,
    "type" VARCHAR(20) NOT NULL,
    "script" VARCHAR(1000) NOT NULL,
    "checksum" INTEGER,
    "installed_by" VARCHAR(100) NOT NULL,
    "installed_on" TIMESTAMP NOT NULL DEFAULT now(),
    "execution_time" INTEGER NOT NULL,
    "success" BOOLEAN NOT NULL
);
ALTER TABLE "public"."flyway_schema_history" ADD CONSTRAINT "flyway_schema_history_pk" PRIMARY KEY ("installed_rank");
CREATE INDEX "flyway_schema_history_s_idx" ON "public"."flyway_schema_history" ("success");
SQL
for f in V1__accounts V2__owner V3__audit; do psql -X -q -v ON_ERROR_STOP=1 -d "$db" -f "$proj/$dir/$f.sql"; done
psql -X -q -v ON_ERROR_STOP=1 -d "$db" -f - <<'SQL'
DROP TABLE audit;
INSERT INTO "public"."flyway_schema_history" VALUES
  (1, '1', 'accounts', 'SQL', 'V1__accounts.sql', 1066542718, 'postgres', now(), 12, true),
  (2, '2', 'owner', 'SQL', 'V2__owner.sql', -1392218040, 'postgres', now(), 4, true),
  (3, '3', 'audit', 'SQL', 'V3__audit.sql', 544632731, 'postgres', now(), 5, true),
  (4, '3', 'audit', 'UNDO_SQL', 'U3__audit.sql', NULL, 'postgres', now(), 3, true);
SQL

expect_rc 0 -C "$proj" init
assert_contains "$out" "found $dir: 4 flyway migration files" "init names the directory and format"
assert_eq "$(git -C "$proj" config -f pipeline/dbdeploy.conf migrations.dir)" "$dir" "configured dir"
write_env "$proj" staging "$db" '[backup]' '	enabled = false'
commit_all "$proj" "dbdeploy init"
before=$(dump "$db")

expect_rc 3 -C "$proj" deploy staging
assert_contains "$err" "staging was migrated by flyway (table public.flyway_schema_history)" "tool named"
assert_contains "$err" "'dbdeploy adopt staging --from flyway'" "exact command"
assert_eq "$(dump "$db")" "$before" "nothing ran, nothing recorded"

expect_rc 0 -C "$proj" adopt staging --from flyway --dry-run
assert_contains "$out" "would adopt 2 migrations from flyway's flyway_schema_history" "V1 and V2; V3 was undone"
expect_rc 0 -C "$proj" adopt staging --from flyway
printf 'CREATE TABLE ledger_lines (id int);\n' >"$proj/$dir/V4__ledger_lines.sql"
commit_all "$proj" "V4"
expect_rc 0 -C "$proj" deploy staging
assert_eq "$(q "$db" "select string_agg(m.version::text, ',' order by m.version) from dbdeploy.deployment_migrations m join dbdeploy.deployments d on d.id = m.deployment_id where d.kind = 'deploy'")" \
  "3,4" "the first deployment applied only what Flyway had not (the undone V3 and the new V4)"
assert_eq "$(q "$db" "select file from dbdeploy.migrations where version = 4")" "$dir/V4__ledger_lines.sql" "flyway names"
assert_eq "$(q "$db" "select count(*) from flyway_schema_history")" "4" "Flyway's table only read"

# a failed Flyway row refuses the adoption
db2=$(new_db failed)
pg_dump -t flyway_schema_history --schema-only -d "$db" | psql -X -q -d "$db2" >/dev/null
q "$db2" "INSERT INTO flyway_schema_history VALUES (1, '1', 'accounts', 'SQL', 'V1__accounts.sql', 1, 'postgres', now(), 1, false)" >/dev/null
write_env "$proj" failed "$db2"
expect_rc 3 -C "$proj" adopt failed --from flyway
assert_contains "$err" "Flyway recorded a failed migration on failed (version 1)" "failed row refused"

# Sqitch keeps a registry schema (reduced here to the table detection looks at): named, with the
# way to record its changes
db3=$(new_db sq)
q "$db3" "CREATE SCHEMA sqitch; CREATE TABLE sqitch.changes (change_id text PRIMARY KEY)" >/dev/null
write_env "$proj" sq "$db3"
expect_rc 3 -C "$proj" status sq
assert_contains "$err" "sq was migrated by Sqitch (registry schema 'sqitch')" "sqitch named"
pass "onboarding from Flyway"
