#!/usr/bin/env bash
# dbdeploy lint: findings with file:line:col, exit 3 on errors, context from earlier files,
# suppressions (a missing reason is an error), [lint] severities, --json, --format=github,
# and with ENV the target's table sizes (200,000 rows fire, 100 rows and new tables do not);
# several parsing threads find what one finds.
source "$DD_SUPPORT/lib.sh"

proj=$PWD/proj
m=$proj/migrations
mkdir -p "$m"
cat >"$m/0001_orders.sql" <<'SQL'
CREATE TABLE orders (id bigint, customer_id bigint, total numeric);
CREATE INDEX orders_customer ON orders (customer_id);
SQL
cat >"$m/0002_orders_total.sql" <<'SQL'
-- orders was created by 0001 in the same pending set: no lock finding
CREATE INDEX orders_total ON orders (total);
ALTER TABLE orders ALTER COLUMN total SET NOT NULL;
SQL
expect_rc 0 -C "$proj" lint
assert_eq "$out" "" "no findings on tables the set creates"
assert_contains "$err" "lint: 2 files, 4 statements: 0 errors, 0 warnings" "summary"

# customers exists already (created by no file of the set)
cat >"$m/0003_customers_email.sql" <<'SQL'
-- customers is not created by this set
CREATE INDEX customers_email ON customers (email);
DELETE FROM customers;
SQL
expect_rc 3 -C "$proj" lint
assert_eq "$out" "migrations/0003_customers_email.sql:2:1: error: index-without-concurrently: customers: CREATE INDEX customers_email without CONCURRENTLY blocks writes for the whole build
  hint: Use CREATE INDEX CONCURRENTLY in a migration of its own (dbdeploy runs it outside a transaction).
migrations/0003_customers_email.sql:3:1: error: delete-without-where: customers: DELETE without WHERE changes every row
  hint: Add a WHERE clause naming the rows to delete." "text output"
assert_contains "$err" "error: lint: 2 error-level findings" "exit 3 explained"

# FILE arguments: only those files are the pending set, so orders is not new any more
expect_rc 3 -C "$proj" lint migrations/0002_orders_total.sql
assert_contains "$out" "0002_orders_total.sql:2:1: error: index-without-concurrently: orders:" "single file"
assert_contains "$out" "0002_orders_total.sql:3:1: error: set-not-null: orders: ALTER COLUMN total SET NOT NULL" "set not null"
expect_rc 0 -C "$proj" lint migrations/0002_orders_total.sql migrations/0001_orders.sql
assert_eq "$out" "" "files are linted in version order"

# --json and --format=github
expect_rc 3 -C "$proj" --json lint
assert_eq "$(jq -r '[.command, .errors, .findings[0].rule, .findings[0].line, .findings[1].message] | @tsv' <<<"$out")" \
  "lint	2	index-without-concurrently	2	customers: DELETE without WHERE changes every row" "--json"
expect_rc 3 -C "$proj" lint --format=github
assert_eq "$(head -1 <<<"$out")" "::error file=migrations/0003_customers_email.sql,line=2,col=1,title=index-without-concurrently::customers: CREATE INDEX customers_email without CONCURRENTLY blocks writes for the whole build%0Ahint: Use CREATE INDEX CONCURRENTLY in a migration of its own (dbdeploy runs it outside a transaction)." "github annotation"
expect_rc 2 -C "$proj" lint --format=xml
assert_contains "$err" "'xml' is not an output format" "bad format"

# suppressions: with a reason they silence, without one they are an error themselves
cat >"$m/0003_customers_email.sql" <<'SQL'
-- dbdeploy:allow index-without-concurrently customers has 40 rows in every environment
CREATE INDEX customers_email ON customers (email);
-- dbdeploy:allow delete-without-where
DELETE FROM customers;
SQL
expect_rc 3 -C "$proj" lint
assert_contains "$out" "0003_customers_email.sql:3:1: error: bad-suppression: dbdeploy:allow delete-without-where has no reason" "missing reason"
assert_contains "$out" "0003_customers_email.sql:4:1: error: delete-without-where:" "an empty suppression silences nothing"
assert_not_contains "$out" "index-without-concurrently" "suppressed with a reason"
sed -i 's/^-- dbdeploy:allow delete-without-where$/-- dbdeploy:allow delete-without-where customers is still empty here/' "$m/0003_customers_email.sql"
expect_rc 0 -C "$proj" --json lint
assert_eq "$(jq -r '[.errors, (.suppressions | length), .suppressions[1].reason, .suppressions[1].used] | @tsv' <<<"$out")" \
  "0	2	customers is still empty here	1" "suppressions listed"

# [lint] severities in pipeline/dbdeploy.conf
mkdir -p "$proj/pipeline"
printf '[lint]\n\ttruncate = warning\n' >"$proj/pipeline/dbdeploy.conf"
echo 'TRUNCATE customers;' >"$m/0004_truncate.sql"
expect_rc 0 -C "$proj" lint migrations/0004_truncate.sql
assert_contains "$out" "0004_truncate.sql:1:1: warning: truncate: customers: TRUNCATE deletes every row" "configured warning"
printf '[lint]\n\ttruncate = off\n' >"$proj/pipeline/dbdeploy.conf"
expect_rc 0 -C "$proj" lint migrations/0004_truncate.sql
assert_eq "$out" "" "rule off"
printf '[lint]\n\ttruncate = never\n' >"$proj/pipeline/dbdeploy.conf"
expect_rc 2 -C "$proj" lint
assert_contains "$err" "pipeline/dbdeploy.conf: [lint] truncate: 'never' is not a severity" "bad severity"
printf '[lint]\n\tno-such-rule = off\n' >"$proj/pipeline/dbdeploy.conf"
expect_rc 2 -C "$proj" lint
assert_contains "$err" "pipeline/dbdeploy.conf: [lint] no-such-rule: unknown setting" "unknown rule"
rm "$proj/pipeline/dbdeploy.conf" "$m/0004_truncate.sql"
pass "lint without an environment"

# --- parsing threads: the corpus's largest set (538 files, two threads by default) and a plain
# .sql file beside it give the same findings, in the same order, as one thread ---
corpus=${DBDEPLOY_CORPUS:-$DBDEPLOY_SOURCE_DIR/../shared/corpus}/openmeter
[[ -d $corpus/migrations ]] || fail "missing $corpus"
printf 'DROP TABLE billing_invoices;\n' >"$PWD/plain.sql"
files=("$PWD/plain.sql" "$corpus"/migrations/*.sql)
DBDEPLOY_LINT_THREADS=1 expect_rc 3 -C "$corpus" lint "${files[@]}"
one_out=$out one_err=$err
assert_contains "$one_out" "plain.sql:1:1: error: drop-table: billing_invoices:" "plain file linted after the migrations"
assert_contains "$one_err" "lint: 539 files, " "every file linted"
for threads in "" 2 5; do
  DBDEPLOY_LINT_THREADS=$threads expect_rc 3 -C "$corpus" lint "${files[@]}"
  assert_eq "$out" "$one_out" "findings with DBDEPLOY_LINT_THREADS='$threads'"
  assert_eq "$err" "$one_err" "summary with DBDEPLOY_LINT_THREADS='$threads'"
done
pass "lint on several threads finds what one thread finds"

# --- with ENV: the target's catalog decides what is big ---
url=$(new_db lintenv)
env_proj=$PWD/envproj
git_init "$env_proj"
write_env "$env_proj" dev "$url"
em=$env_proj/migrations
mkdir -p "$em"
cat >"$em/0001_tables.sql" <<'SQL'
CREATE TABLE big (id int, a int);
INSERT INTO big SELECT g, g FROM generate_series(1, 200000) g;
CREATE TABLE small (id int, a int);
INSERT INTO small SELECT g, g FROM generate_series(1, 100) g;
SQL
commit_all "$env_proj" "tables"
expect_rc 0 -C "$env_proj" apply dev
q "$url" "ANALYZE big; ANALYZE small" >/dev/null
cat >"$em/0002_indexes.sql" <<'SQL'
CREATE INDEX big_a ON big (a);
CREATE INDEX small_a ON small (a);
SQL
cat >"$em/0003_fresh.sql" <<'SQL'
CREATE TABLE fresh (id int, a int);
-- dbdeploy:allow lock-table nobody uses fresh before this deploy ends
LOCK TABLE fresh;
CREATE INDEX fresh_a ON fresh (a);
SQL
commit_all "$env_proj" "indexes"
expect_rc 3 -C "$env_proj" lint dev
assert_eq "$(wc -l <<<"$out")" "2" "one finding (and its hint)"
assert_contains "$out" "migrations/0002_indexes.sql:1:1: error: index-without-concurrently: big: ~200.0k rows, " "big table with its size"
assert_contains "$err" "lint: 2 files, 5 statements: 1 error, 0 warnings" "only pending files are linted"
# without ENV the whole set is pending: big is created by 0001, so nothing fires
expect_rc 0 -C "$env_proj" lint
# [lint] small-table moves the threshold
write_env "$env_proj" dev "$url" "[lint]" "small-table = 50"
expect_rc 3 -C "$env_proj" lint dev
assert_contains "$out" "small: ~100 rows" "small-table = 50"
write_env "$env_proj" dev "$url"
# ENV and FILEs: only those files, judged by the target's sizes (0002 alone; 0003 not linted)
expect_rc 3 -C "$env_proj" lint dev migrations/0002_indexes.sql
assert_eq "$(grep -c ': error: ' <<<"$out")" "1" "ENV + FILE: one finding"
assert_contains "$out" "migrations/0002_indexes.sql:1:1: error: index-without-concurrently: big: ~200.0k rows, " "ENV + FILE: big table with its size"
assert_contains "$err" "lint: 1 file, 2 statements: 1 error, 0 warnings" "ENV + FILE: only the named file"
# a directory named like the environment where dbdeploy is started does not hide it (FILEs are
# looked up under -C, so that is where a FILE named "dev" would be)
mkdir -p dev
expect_rc 3 -C "$env_proj" lint dev migrations/0002_indexes.sql
assert_contains "$err" "lint: 1 file, 2 statements: 1 error, 0 warnings" "ENV beside a directory of its name"
rmdir dev
# a file that creates its own table: new, silent even with the catalog
printf 'CREATE TABLE big2 (id int);\nCREATE INDEX big2_id ON big2 (id);\n' >"$env_proj/new.sql"
expect_rc 0 -C "$env_proj" lint dev new.sql
rm "$env_proj/new.sql"
# the allow comment after the first statement is accepted by apply too
expect_rc 0 -C "$env_proj" apply dev
assert_eq "$(q "$url" "select count(*) from pg_indexes where indexname in ('big_a', 'small_a', 'fresh_a')")" "3" "applied"
pass "lint with an environment"
