#!/usr/bin/env bash
# Repeatable migrations (migrations/repeatable/*.sql and Flyway's R__*.sql): a row-level-security
# policy file runs on the first deploy after the versioned migrations, is not run again while
# unchanged, runs again when edited; a broken edit fails the deploy and leaves the previous
# policy in force. status and plan say new / changed / unchanged; verify and the pre-push hook
# accept their edits; a per-migration deploy that fails is undone by running the previous
# content of the repeatable files again (and the down files of the versions).
source "$DD_SUPPORT/lib.sh"
export DBDEPLOY=$DBDEPLOY_BIN # the installed hook finds dbdeploy here

db=$(new_db app_dev)
q "$db" "create role rep_app"
git init -q --bare -b main remote.git
proj=$PWD/proj
git_init "$proj"
git -C "$proj" remote add origin "$PWD/remote.git"
m=$proj/migrations
mkdir -p "$m/repeatable" "$proj/pipeline"
printf '[git]\n\tprotected-branch = main\n' >"$proj/pipeline/dbdeploy.conf"
write_env "$proj" dev "$db"
printf '.dbdeploy/\n' >"$proj/.gitignore"
cat >"$m/0001_accounts.sql" <<'SQL'
CREATE TABLE accounts (id int PRIMARY KEY, tenant text NOT NULL);
ALTER TABLE accounts ENABLE ROW LEVEL SECURITY;
INSERT INTO accounts VALUES (1, 'a'), (2, 'a'), (3, 'b'), (4, 'shared');
SQL
cat >"$m/repeatable/rls.sql" <<'SQL'
DROP POLICY IF EXISTS tenant_isolation ON accounts;
CREATE POLICY tenant_isolation ON accounts USING (tenant = current_setting('app.tenant', true));
GRANT SELECT ON accounts TO rep_app;
SQL
printf 'CREATE OR REPLACE VIEW account_tenants AS SELECT DISTINCT tenant FROM accounts;\n' >"$m/R__views.sql"
commit_all "$proj" "accounts with row-level security"

# what tenant a sees as the application role, and the policy's expression
visible() { q "$db" "SET ROLE rep_app; SET app.tenant = 'a'; SELECT count(*) FROM accounts" | tail -n1; }
policy() { q "$db" "SELECT qual FROM pg_policies WHERE tablename = 'accounts' AND policyname = 'tenant_isolation'"; }
ran_at() { q "$db" "SELECT string_agg(name || '@' || applied_at::text, ',' ORDER BY name) FROM dbdeploy.repeatables"; }

# before the first deploy: status and plan name them as new
expect_rc 0 -C "$proj" status dev
assert_contains "$out" "REPEATABLE" "status lists repeatable migrations"
assert_contains "$out" "new           " "status: new"
assert_contains "$out" "migrations/repeatable/rls.sql" "status names the file"
assert_contains "$out" "2 repeatable: 0 unchanged, 2 to run again after the migrations" "status summary"
expect_rc 0 -C "$proj" plan dev
assert_contains "$out" "repeatable migrations/R__views.sql  (new: runs after the migrations)" "plan: R__ file"
assert_contains "$out" "repeatable migrations/repeatable/rls.sql  (new: runs after the migrations)" "plan: repeatable/"
expect_rc 0 -C "$proj" --json plan dev
assert_eq "$(jq -r '[.repeatable[] | .name + "=" + .state] | join(",")' <<<"$out")" \
  "R__views.sql=new,repeatable/rls.sql=new" "plan --json"
pass "status and plan list new repeatable migrations"

# first deploy: the migration, then the repeatable files in name order, in the same transaction
expect_rc 0 -C "$proj" deploy dev
assert_contains "$out" "deployed 1 migration to dev" "first deploy"
assert_contains "$out" "reapplied migrations/repeatable/rls.sql" "rls ran"
assert_contains "$err" "1 migration, 2 repeatable" "apply stage note"
assert_contains "$(policy)" "current_setting('app.tenant'" "policy created"
assert_eq "$(visible)" "2" "tenant a sees its two rows"
assert_eq "$(q "$db" "SELECT count(*) FROM account_tenants")" "3" "view created"
assert_eq "$(q "$db" "SELECT checksum FROM dbdeploy.repeatables WHERE name = 'repeatable/rls.sql'")" \
  "sha256:$(sha256sum <"$m/repeatable/rls.sql" | cut -d' ' -f1)" "ledger checksum"
assert_eq "$(q "$db" "SELECT git_blob FROM dbdeploy.repeatables WHERE name = 'repeatable/rls.sql'")" \
  "$(git -C "$proj" rev-parse HEAD:migrations/repeatable/rls.sql)" "ledger blob"
first=$(ran_at)
pass "applied once on the first deploy"

# unchanged: not run again, nothing recorded
deployments=$(q "$db" "SELECT count(*) FROM dbdeploy.deployments")
expect_rc 0 -C "$proj" deploy dev
assert_contains "$out" "dev is up to date" "up to date"
assert_contains "$out" "repeatable migrations/repeatable/rls.sql  (unchanged: skipped)" "unchanged listed"
assert_eq "$(ran_at)" "$first" "not run again"
assert_eq "$(q "$db" "SELECT count(*) FROM dbdeploy.deployments")" "$deployments" "no deployment recorded"
expect_rc 0 -C "$proj" status dev
assert_contains "$out" "2 repeatable: 2 unchanged, 0 to run again" "status: unchanged"
pass "not run again while unchanged"

# published: the first push passes the hook
expect_rc 0 -C "$proj" hook install
gpush "$proj" -q origin main
assert_eq "$prc" 0 "first push"

# edited on a branch: status and plan say changed; verify and the hook accept it
git -C "$proj" checkout -q -b shared-rows
cat >"$m/repeatable/rls.sql" <<'SQL'
DROP POLICY IF EXISTS tenant_isolation ON accounts;
CREATE POLICY tenant_isolation ON accounts
  USING (tenant = current_setting('app.tenant', true) OR tenant = 'shared');
GRANT SELECT ON accounts TO rep_app;
SQL
printf 'CREATE OR REPLACE VIEW account_tenants AS SELECT DISTINCT tenant FROM accounts WHERE tenant <> %s;\n' \
  "'shared'" >"$m/R__views.sql"
commit_all "$proj" "shared rows are visible to every tenant"
expect_rc 0 -C "$proj" verify
gpush "$proj" -q origin shared-rows
assert_eq "$prc" 0 "push of edited repeatable files: $perr"
expect_rc 0 -C "$proj" --json status dev
assert_eq "$(jq -r '[.repeatable[] | .state] | join(",")' <<<"$out")" "changed,changed" "status --json: changed"
expect_rc 0 -C "$proj" plan dev
assert_contains "$out" "repeatable migrations/repeatable/rls.sql  (changed: runs after the migrations)" "plan: changed"
assert_contains "$out" "dry run: 2 repeatable migrations would run again on dev at" "plan: only repeatables"
# the hook is active: the same push with an edit to the published versioned migration is refused
printf '\n' >>"$m/0001_accounts.sql"
commit_all "$proj" "edit a published migration"
expect_rc 3 -C "$proj" verify
assert_contains "$out$err" "modified: migrations/0001_accounts.sql" "verify names the versioned edit only"
assert_not_contains "$out$err" "rls.sql" "verify: the repeatable edit is no violation"
gpush "$proj" -q origin shared-rows
[[ $prc != 0 ]] || fail "the hook let an edit of a published migration through"
assert_contains "$perr" "0001_accounts.sql" "hook names the versioned edit"
assert_not_contains "$perr" "R__views.sql" "hook: the R__ edit is no violation"
git -C "$proj" reset -q --hard HEAD~1
pass "verify and the pre-push hook accept edits of repeatable files"

# edited: run again
expect_rc 0 -C "$proj" deploy dev
assert_contains "$out" "reapplied migrations/repeatable/rls.sql" "edited rls ran"
assert_contains "$(policy)" "'shared'" "policy replaced"
assert_eq "$(visible)" "3" "tenant a now sees the shared row too"
assert_eq "$(q "$db" "SELECT count(*) FROM account_tenants")" "2" "view replaced"
assert_eq "$(q "$db" "SELECT count(*) FROM dbdeploy.repeatables")" "2" "one ledger row each"
good_policy=$(policy)
good_sum=$(q "$db" "SELECT checksum FROM dbdeploy.repeatables WHERE name = 'repeatable/rls.sql'")
pass "run again when edited"

# a broken edit: the deploy fails and the previous policy stays in force
cat >"$m/repeatable/rls.sql" <<'SQL'
DROP POLICY IF EXISTS tenant_isolation ON accounts;
CREATE POLICY tenant_isolation ON accounts USING (tenant = current_setting('app.tennant', true));
GRANT SELECT ON no_such_table TO rep_app;
SQL
commit_all "$proj" "typo"
expect_rc 4 -C "$proj" deploy dev
assert_contains "$err" "migrations/repeatable/rls.sql" "the failing file is named"
assert_contains "$err" "no_such_table" "the server's message"
assert_eq "$(policy)" "$good_policy" "previous policy in force"
assert_eq "$(visible)" "3" "behaviour unchanged"
assert_eq "$(q "$db" "SELECT checksum FROM dbdeploy.repeatables WHERE name = 'repeatable/rls.sql'")" "$good_sum" \
  "ledger keeps the last successful run"
expect_rc 0 -C "$proj" status dev
assert_contains "$out" "2 repeatable: 1 unchanged, 1 to run again" "still changed"
git -C "$proj" checkout -q HEAD~1 -- migrations && commit_all "$proj" "revert"
pass "a broken edit fails the deploy and leaves the previous policy in force"

# lint applies to them: a DELETE without WHERE in a repeatable file blocks before any change
printf 'DELETE FROM accounts;\n' >"$m/R__views.sql"
commit_all "$proj" "oops"
expect_rc 3 -C "$proj" deploy dev
assert_contains "$out$err" "migrations/R__views.sql" "lint names the repeatable file"
assert_eq "$(q "$db" "SELECT count(*) FROM accounts")" "4" "nothing deleted"
git -C "$proj" checkout -q HEAD~1 -- migrations && commit_all "$proj" "revert"
pass "lint applies to repeatable files"

# the data-loss guard applies to them: a DELETE that removes rows fails and is rolled back
printf 'DELETE FROM accounts WHERE tenant = %s;\n' "'b'" >"$m/R__views.sql"
commit_all "$proj" "drop tenant b"
expect_rc 4 -C "$proj" deploy dev
assert_contains "$err" "migrations/R__views.sql" "the guard names the repeatable file"
assert_contains "$err" "DELETE removed 1 row from accounts, which the migration does not declare" "the guard's verdict"
assert_eq "$(q "$db" "SELECT count(*) FROM accounts")" "4" "nothing deleted"
git -C "$proj" checkout -q HEAD~1 -- migrations && commit_all "$proj" "revert"
pass "the data-loss guard applies to repeatable files"

# one transaction per file: a versioned migration and the view commit, the policy fails; the
# ladder runs the view's previous content again and the migration's down file
write_env "$proj" dev "$db" "[apply]" "	transaction = per-migration"
commit_conf "$proj"
printf 'CREATE TABLE audit (id int);\n' >"$m/0002_audit.up.sql"
printf 'DROP TABLE audit;\n' >"$m/0002_audit.down.sql"
printf 'CREATE OR REPLACE VIEW account_tenants AS SELECT DISTINCT tenant FROM accounts WHERE tenant = %s;\n' \
  "'nobody'" >"$m/R__views.sql"
cat >"$m/repeatable/rls.sql" <<'SQL'
DROP POLICY IF EXISTS tenant_isolation ON accounts;
CREATE POLICY tenant_isolation ON accounts USING (false);
SELECT 1 / 0;
SQL
commit_all "$proj" "audit, a narrower view, a broken policy"
expect_rc 0 -C "$proj" plan dev
assert_contains "$out" "on failure: run the previous content of the repeatable migrations again, then run the down files of 0002..0002" "plan's way back"
expect_rc 4 -C "$proj" deploy dev
assert_contains "$err" "division by zero" "the failure"
assert_contains "$err" "ran the previous content of the repeatable migrations again, then ran the down files of 0002..0002" "ladder note"
assert_eq "$(q "$db" "SELECT count(*) FROM account_tenants")" "2" "the view's previous definition is back"
assert_eq "$(q "$db" "SELECT to_regclass('public.audit') IS NULL")" "t" "0002 reverted"
assert_eq "$(policy)" "$good_policy" "policy untouched"
assert_eq "$(q "$db" "SELECT checksum FROM dbdeploy.repeatables WHERE name = 'R__views.sql'")" \
  "sha256:$(git -C "$proj" show HEAD~1:migrations/R__views.sql | sha256sum | cut -d' ' -f1)" "ledger back at the previous view"
assert_eq "$(q "$db" "SELECT recovery FROM dbdeploy.deployments ORDER BY id DESC LIMIT 1")" "down" "recorded recovery"
pass "a per-migration failure is undone by the previous content and the down files"

# the changelog regenerates byte for byte from the ledger (deployments that only ran repeatable files included)
cp "$proj/changelog/dev/CHANGELOG.md" written.md
expect_rc 0 -C "$proj" changelog dev
cmp -s written.md "$proj/changelog/dev/CHANGELOG.md" || { diff written.md "$proj/changelog/dev/CHANGELOG.md" >&2; fail "changelog differs"; }
pass "changelog regenerates identically"

# promotion: [gate] requires = staging covers the repeatable migrations too. A view edited on the
# branch has not run on staging yet, so prod refuses it (exit 3, nothing changed), and
# 'dbdeploy gate staging' fails on it; once staging runs it, prod follows.
git -C "$proj" checkout -q HEAD~1 -- migrations
rm -f "$m/0002_audit.up.sql" "$m/0002_audit.down.sql"
sdb=$(new_db rep_staging)
pdb=$(new_db rep_prod)
write_env "$proj" staging "$sdb" "[backup]" "	enabled = false"
write_env "$proj" prod "$pdb" "[backup]" "	enabled = false" "[gate]" "	requires = staging"
commit_all "$proj" "staging and prod"
expect_rc 0 -C "$proj" deploy staging
expect_rc 0 -C "$proj" deploy prod
views_sum() { q "$1" "SELECT checksum FROM dbdeploy.repeatables WHERE name = 'R__views.sql'"; }
before=$(views_sum "$pdb")
printf 'CREATE OR REPLACE VIEW account_tenants AS SELECT DISTINCT tenant FROM accounts ORDER BY 1;\n' >"$m/R__views.sql"
commit_all "$proj" "views ordered"
expect_rc 3 -C "$proj" deploy prod
assert_contains "$err" "modified: migrations/R__views.sql (repeatable) differs from what staging last ran" "prod's gate names the view"
assert_eq "$(views_sum "$pdb")" "$before" "prod still has the previous view"
expect_rc 3 -C "$proj" gate staging
assert_contains "$err" "migrations/R__views.sql (repeatable) differs from what staging last ran" "gate staging names it"
expect_rc 3 -C "$proj" --json gate staging
assert_eq "$(jq -r '.problems[0].version' <<<"$out")" "null" "a repeatable has no version in --json"
expect_rc 0 -C "$proj" deploy staging
expect_rc 0 -C "$proj" gate staging
expect_rc 0 -C "$proj" deploy prod
assert_eq "$(views_sum "$pdb")" "sha256:$(sha256sum <"$m/R__views.sql" | cut -d' ' -f1)" "prod runs the view once staging has"
pass "the promotion gate and 'gate ENV' cover repeatable migrations"
