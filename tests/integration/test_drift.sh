#!/usr/bin/env bash
# Drift detection: a change made by hand (column added, index dropped, function replaced) blocks
# the next deploy with exit 3, naming each object, database untouched; --accept-drift deploys and
# the reason is in the ledger and the changelog; dbdeploy's own runs (deploy, apply, rollback)
# never count as drift; `drift ENV` shows it (0 / 3) and `gate` includes it.
source "$DD_SUPPORT/lib.sh"

proj=$PWD/proj
url=$(new_db drift_prod)
git_init "$proj"
cp -r "$DBDEPLOY_SOURCE_DIR/migrations" "$proj/"
rm -f "$proj/migrations/README.md"
write_env "$proj" prod "$url" "[backup]" "enabled = false"
commit_all "$proj" "migrations"

expect_rc 0 -C "$proj" drift prod
assert_contains "$out" "no schema recorded for prod yet" "nothing recorded before the first run"
expect_rc 0 -C "$proj" prod
expect_rc 0 -C "$proj" drift prod
assert_contains "$out" "no drift" "a deploy records its schema"

# dbdeploy's own changes are not drift: rollback and apply record the schema they leave
expect_rc 0 -C "$proj" rollback prod --steps 1
expect_rc 0 -C "$proj" drift prod
expect_rc 0 -C "$proj" apply prod
expect_rc 0 -C "$proj" drift prod
assert_contains "$out" "no drift" "apply and rollback record their schema"

# hand-made changes
q "$url" "ALTER TABLE accounts ADD COLUMN nickname text" >/dev/null
q "$url" "DROP INDEX orders_status_created_idx" >/dev/null
q "$url" "CREATE OR REPLACE FUNCTION account_order_total(p_account bigint) RETURNS bigint LANGUAGE sql AS 'SELECT 1::bigint'" >/dev/null
expect_rc 3 -C "$proj" drift prod
assert_contains "$out" "column public.accounts.nickname added (text)" "added column named"
assert_contains "$out" "index public.orders_status_created_idx dropped" "dropped index named"
assert_contains "$out" "function public.account_order_total(p_account bigint) changed" "changed function named"
expect_rc 3 --json -C "$proj" drift prod
assert_contains "$out" '"drifted":true' "json drifted"

printf 'ALTER TABLE orders ADD COLUMN note text;\n' >"$proj/migrations/0005_order_note.up.sql"
commit_all "$proj" "0005"
before=$(dump "$url")
expect_rc 3 -C "$proj" prod
assert_contains "$err" "the schema of prod changed outside dbdeploy since its last run (3 changes)" "deploy blocked"
assert_contains "$err" "column public.accounts.nickname added (text)" "deploy names the column"
assert_contains "$err" "index public.orders_status_created_idx dropped" "deploy names the index"
assert_contains "$err" "--accept-drift" "hint names --accept-drift"
assert_eq "$(dump "$url")" "$before" "blocked deploy changed nothing"
expect_rc 3 -C "$proj" gate prod
assert_contains "$err" "drift: index public.orders_status_created_idx dropped" "gate includes drift"
expect_rc 3 -C "$proj" plan prod
assert_contains "$err" "changed outside dbdeploy" "plan shows drift"

# a rollback and apply over drift do not launder it (they started from a schema dbdeploy did not record)
expect_rc 0 -C "$proj" rollback prod --steps 1
expect_rc 0 -C "$proj" apply prod --to 4
assert_contains "$err" "the schema had drifted before this run" "apply says it leaves the schema unrecorded"
expect_rc 3 -C "$proj" drift prod
assert_contains "$out" "index public.orders_status_created_idx dropped" "drift still visible after apply"
assert_not_contains "$out" "function public.account_order_total" "the function is the migration's again"

expect_rc 2 -C "$proj" prod --accept-drift ""
assert_contains "$err" "--accept-drift needs a reason" "empty reason refused"
expect_rc 0 -C "$proj" prod --accept-drift "incident 42"
assert_contains "$err" "accepted: incident 42" "acceptance said"
expect_rc 0 -C "$proj" drift prod
assert_contains "$out" "no drift" "accepted drift becomes the recorded schema"
assert_contains "$(q "$url" "select drift from dbdeploy.deployments order by id desc limit 1")" \
  "incident 42: column public.accounts.nickname added (text)" "ledger keeps reason and changes"
assert_contains "$(cat "$proj/changelog/prod/CHANGELOG.md")" "- Drift accepted: incident 42: column public.accounts.nickname added (text)" \
  "changelog keeps it"
assert_contains "$(cat "$proj/changelog/prod/CHANGELOG.md")" "- 5 order_note: +column orders.note" \
  "the changelog entry says what each migration changed in the schema"
cp "$proj/changelog/prod/CHANGELOG.md" "$PWD/written.md"
expect_rc 0 -C "$proj" changelog prod
cmp "$PWD/written.md" "$proj/changelog/prod/CHANGELOG.md" || fail "changelog regeneration differs"

# [schema] drift = warn deploys with a warning; off does not look
q "$url" "CREATE INDEX hot_fix ON orders (created_at)" >/dev/null
printf 'ALTER TABLE orders ADD COLUMN note2 text;\n' >"$proj/migrations/0006_note2.up.sql"
write_env "$proj" prod "$url" "[backup]" "enabled = false" "[schema]" "drift = warn"
commit_all "$proj" "0006 and warn"
expect_rc 0 -C "$proj" prod
assert_contains "$err" "schema drift on prod: index public.hot_fix added" "warn mode names it"
pass "drift detection"
