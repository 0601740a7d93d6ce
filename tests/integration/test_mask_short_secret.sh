#!/usr/bin/env bash
# A short password that is also the user and database name ("shop"), and a health header whose
# value is "true": masking used to replace them as substrings after the JSON and the backup
# manifest were built, so every backup failed ("backup header and manifest disagree on
# 'database'") and --json printed "ledger_exists":*** (invalid JSON). Masking is now structural:
# values are masked before rendering, never JSON syntax, and machine files are exact.
source "$DD_SUPPORT/lib.sh"

psql -X -q -v ON_ERROR_STOP=1 -c "create role shop login superuser password 'shop'" -c "create database shop owner shop"
hba=$DD_PG_TMP/pg-main/data/pg_hba.conf
{ printf 'local all shop scram-sha-256\n'; cat "$hba"; } >"$hba.new"
cat "$hba.new" >"$hba"
psql -X -q -c "select pg_reload_conf()" >/dev/null
url="postgresql://shop:shop@/shop?host=$PGHOST&port=$PGPORT"

start_stub health 200
proj=$PWD/proj
git_init "$proj"
mkdir -p "$proj/migrations"
write_env "$proj" prod "$url" "[health]" "	url = http://127.0.0.1:$stub_port/healthz" "	header = X-Flag: true"
printf '.dbdeploy/\n' >"$proj/.gitignore"
echo 'CREATE TABLE shop_orders (id int PRIMARY KEY);' >"$proj/migrations/0001_shop_orders.sql"
commit_all "$proj" "shop"

json_ok() { # NAME: stdout must be one valid JSON document
  printf '%s' "$out" | python3 -m json.tool >/dev/null || { printf '%s\n' "$out" >&2; fail "$1: --json output is not valid JSON"; }
}
expect_rc 0 -C "$proj" --json status prod
json_ok "status"
assert_contains "$out" '"ledger_exists":false' "JSON literals untouched"
expect_rc 0 -C "$proj" --json deploy prod
json_ok "deploy"
expect_rc 0 -C "$proj" --json status prod
json_ok "status after deploy"
expect_rc 0 -C "$proj" --json health prod
json_ok "health"
expect_rc 0 -C "$proj" -v backup prod
archive=$out
expect_rc 0 -C "$proj" backup --verify "$archive"
expect_rc 0 -C "$proj" --json backups prod
json_ok "backups"
psql -X -q -d "$url" -c "insert into shop_orders values (42)"
expect_rc 0 -C "$proj" -v restore prod "$archive" --yes
assert_eq "$(psql -X -At -d "$url" -c "select count(*) from shop_orders")" 0 "restored to the backup"
# the manifest keeps the real database name; the deployment record in the ledger is valid JSON
zstd -dc "$archive" | tar -xOf - manifest.json | python3 -c 'import json,sys; assert json.load(sys.stdin)["database"] == "shop"' ||
  fail "the manifest does not name the database exactly"
psql -X -At -d "$url" -c "select stages::text from dbdeploy.deployments" | python3 -c 'import json,sys; [json.loads(l) for l in sys.stdin if l.strip()]' ||
  fail "the ledger's stages are not valid JSON"
# the migration's file name is not a secret word
assert_contains "$(cat "$proj/changelog/prod/CHANGELOG.md")" "shop_orders" "changelog keeps the file name"
# and the password is still masked where it stands alone
expect_rc 0 -C "$proj" status prod
assert_contains "$out" ":***@" "the URL password is masked"
assert_not_contains "$out" ":shop@" "the URL password is masked"
pass "a short secret that is also a name breaks neither backups nor JSON"
