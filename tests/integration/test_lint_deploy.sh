#!/usr/bin/env bash
# The lint stage of deploy and plan: an error-level finding blocks with exit 3 before anything
# changes (no backup, nothing applied, dump equal); a warning deploys; a suppression deploys and
# is listed in the output, the ledger (deployments.lint) and the changelog entry, which
# `changelog ENV` regenerates byte for byte; plan shows the findings; the lock rule fires for a
# 200,000-row table and not for a 100-row table or a table the same deploy creates.
source "$DD_SUPPORT/lib.sh"

url=$(new_db lintdeploy)
proj=$PWD/proj
m=$proj/migrations
git_init "$proj"
write_env "$proj" dev "$url"
printf '.dbdeploy/\n' >"$proj/.gitignore"
mkdir -p "$m"
cat >"$m/0001_tables.sql" <<'SQL'
CREATE TABLE big (id int, a int, b int);
INSERT INTO big SELECT g, g, g FROM generate_series(1, 200000) g;
CREATE TABLE small (id int, a int);
INSERT INTO small SELECT g, g FROM generate_series(1, 100) g;
SQL
commit_all "$proj" "tables"
expect_rc 0 -C "$proj" deploy dev
assert_contains "$err" "lint" "the lint stage runs"
q "$url" "ANALYZE big; ANALYZE small" >/dev/null
backups() { find "$proj/.dbdeploy/backups" -type f 2>/dev/null | wc -l; }
nbackups=$(backups)

# 1. an error-level finding (index on the 200,000-row table) blocks before anything changes;
#    the same statement on the 100-row table and on a table created in the same deploy is silent
cat >"$m/0002_indexes.sql" <<'SQL'
CREATE INDEX small_a ON small (a);
CREATE TABLE fresh (id int, a int);
CREATE INDEX fresh_a ON fresh (a);
SQL
cat >"$m/0003_big_index.sql" <<'SQL'
CREATE INDEX big_a ON big (a);
SQL
commit_all "$proj" "indexes"
dump "$url" >before.sql
expect_rc 3 -C "$proj" deploy dev
assert_eq "$(grep -c ': error: ' <<<"$out")" "1" "one finding"
assert_contains "$out" "migrations/0003_big_index.sql:1:1: error: index-without-concurrently: big: ~200.0k rows, " "finding with file:line:col and size"
assert_contains "$out" "  hint: Use CREATE INDEX CONCURRENTLY" "hint"
assert_contains "$out" "deployment to dev blocked; nothing was changed" "verdict"
assert_contains "$err" "lint: 1 error-level finding in the pending migrations" "error line"
assert_contains "$err" "hint: Nothing was changed." "error hint"
assert_not_contains "$out$err" "small" "100-row table is quiet"
assert_not_contains "$out$err" "fresh" "table created in the same deploy is quiet"
dump "$url" >after.sql
diff -u before.sql after.sql >&2 || fail "a deploy blocked by lint changed the database"
assert_eq "$(backups)" "$nbackups" "no backup taken"
assert_eq "$(q "$url" "select count(*) from dbdeploy.migrations where version > 1")" "0" "nothing recorded as applied"
assert_eq "$(q "$url" "select count(*) from dbdeploy.deployments")" "1" "a blocked deploy is not recorded"
# --json carries the findings
expect_rc 3 -C "$proj" --json deploy dev
assert_eq "$(jq -r '[.result, .lint.errors, .lint.findings[0].rule, .lint.findings[0].file, .lint.findings[0].line] | @tsv' <<<"$out")" \
  "blocked	1	index-without-concurrently	migrations/0003_big_index.sql	1" "--json deploy"
assert_eq "$(jq -r '[.stages[1].name, .stages[1].outcome, .stages[2].outcome] | @tsv' <<<"$out")" "lint	fail	not-run" "stage order"

# 2. plan shows the findings and exits 3, as for a blocked preflight
expect_rc 3 -C "$proj" plan dev
assert_contains "$out" "migrations/0003_big_index.sql:1:1: error: index-without-concurrently: big:" "plan shows the finding"
expect_rc 3 -C "$proj" --json plan dev
assert_eq "$(jq -r '[.dry_run, .lint.errors] | @tsv' <<<"$out")" "true	1" "--json plan"
dump "$url" >after.sql
diff -u before.sql after.sql >&2 || fail "plan changed the database"

# 3. the same rule at warning: printed, and the deploy goes on
printf '[lint]\n\tindex-without-concurrently = warning\n' >"$proj/pipeline/dbdeploy.conf"
commit_all "$proj" "warning"
expect_rc 0 -C "$proj" plan dev
assert_contains "$out" "0003_big_index.sql:1:1: warning: index-without-concurrently: big:" "plan shows the warning"
assert_contains "$out" "dry run: 2 migrations would be deployed" "plan goes on"
expect_rc 0 -C "$proj" deploy dev
assert_contains "$out" "0003_big_index.sql:1:1: warning: index-without-concurrently: big:" "warning printed"
assert_contains "$out" "deployed 2 migrations to dev" "warning deploys"
assert_eq "$(q "$url" "select count(*) from pg_indexes where indexname in ('big_a', 'small_a', 'fresh_a')")" "3" "applied"
assert_eq "$(q "$url" "select lint->>'warnings' from dbdeploy.deployments order by id desc limit 1")" "1" "warning in the ledger"
git -C "$proj" rm -q pipeline/dbdeploy.conf
commit_all "$proj" "default severities"

# 4. a suppressed finding deploys; the suppression shows in the output, the ledger and the changelog
cat >"$m/0004_big_b.sql" <<'SQL'
-- dbdeploy:allow index-without-concurrently big is only read by the nightly batch
CREATE INDEX big_b ON big (b);
SQL
commit_all "$proj" "suppressed"
expect_rc 0 -C "$proj" deploy dev
assert_contains "$out" "allowed: index-without-concurrently at migrations/0004_big_b.sql:1 (1 finding): big is only read by the nightly batch" "suppression in the output"
assert_not_contains "$out" "error:" "no finding left"
assert_contains "$err" "1 suppression used" "stage note"
assert_eq "$(q "$url" "select s->>'rule', s->>'reason', s->>'used' from dbdeploy.deployments d, jsonb_array_elements(d.lint->'suppressions') s where d.id = (select max(id) from dbdeploy.deployments)")" \
  "index-without-concurrently|big is only read by the nightly batch|1" "suppression in the ledger"
log=$proj/changelog/dev/CHANGELOG.md
line='- Lint allowed: `index-without-concurrently` at migrations/0004_big_b.sql:1 (big is only read by the nightly batch)'
assert_eq "$(grep -c -F -- "$line" "$log")" "1" "suppression in the changelog"
assert_eq "$(grep -c -F -- '- Lint allowed:' "$log")" "1" "only the deployment with a suppression has the line"
cp "$log" changelog.before
expect_rc 0 -C "$proj" changelog dev
assert_contains "$out" "unchanged" "changelog regenerates byte-identically"
cmp changelog.before "$log" || fail "changelog dev changed the file"
pass "lint stage in deploy and plan"

# 5. a ledger from before the lint column: its deployments still load, without the line
q "$url" "ALTER TABLE dbdeploy.deployments DROP COLUMN lint" >/dev/null
expect_rc 0 -C "$proj" changelog dev
assert_eq "$(grep -c -F -- '- Lint allowed:' "$log")" "0" "no lint column, no line"
pass "ledger without the lint column"
