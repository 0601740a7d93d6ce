#!/usr/bin/env bash
# `dbdeploy rehearse ENV`: the pending migrations on a copy of ENV's backup, measured. A slow
# migration is reported with its real time; one that fails only on production's data (a unique
# index over duplicates staging lacks) fails the rehearsal (exit 1) and ENV is unchanged;
# [gate] rehearsal = required blocks deploy (exit 3) until a rehearsal of that plan passed.
source "$DD_SUPPORT/lib.sh"

# dump_app DB: dump's stable schema and data without the ledger (the rehearsal's record goes there)
dump_app() {
  pg_dump --no-owner --no-privileges --restrict-key=dbdeploytest --exclude-schema=dbdeploy -d "$1" |
    grep -vE '^-- Dumped (from|by)'
}

prod=$(new_db rh_prod)
staging=$(new_db rh_staging)
proj=$PWD/proj
git_init "$proj"
mkdir -p "$proj/migrations"
printf '.dbdeploy/\n' >"$proj/.gitignore"
write_env "$proj" staging "$staging"
# the copy goes onto prod's own cluster, in a database of its own
write_env "$proj" prod "$prod" "[rehearsal]" "url = $DBDEPLOY_TEST_URL"
# pause_us(N): wait N microseconds (pg_sleep's own overhead is ~1ms a call here, too coarse)
cat >"$proj/migrations/0001_t.up.sql" <<'SQL'
CREATE TABLE t (id int PRIMARY KEY, x int NOT NULL, email text);
CREATE FUNCTION pause_us(us int) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  t0 timestamptz := clock_timestamp();
BEGIN
  WHILE clock_timestamp() < t0 + us * interval '1 microsecond' LOOP
  END LOOP;
  RETURN 0;
END $$;
SQL
commit_all "$proj" "t"
expect_rc 0 -C "$proj" apply staging
expect_rc 0 -C "$proj" apply prod
# production-sized data with two equal emails; staging is small and has none
q rh_prod "INSERT INTO t SELECT i, i, 'user' || i || '@example.com' FROM generate_series(1, 100000) i;
           UPDATE t SET email = 'twice@example.com' WHERE id IN (7, 70000); ANALYZE t"
q rh_staging "INSERT INTO t SELECT i, i, 'user' || i || '@example.com' FROM generate_series(1, 100) i"

cat >"$proj/migrations/0002_touch.up.sql" <<'SQL'
-- dbdeploy:allow row-changes rewrites every row with its own value (the rehearsal measures it)
UPDATE t SET x = x + pause_us(10) WHERE id > 0;
SQL
printf 'ALTER TABLE t ADD COLUMN note text;\n' >"$proj/migrations/0003_note.up.sql"
cat >"$proj/migrations/0004_email.up.sql" <<'SQL'
-- dbdeploy:allow index-without-concurrently short table lock accepted for this test
CREATE UNIQUE INDEX t_email ON t (email);
SQL
commit_all "$proj" "touch, note, unique email"
expect_rc 0 -C "$proj" apply staging # staging's data has no duplicates: it passes there

# no backup yet: nothing to copy (3), and no copy or record is made
expect_rc 3 -C "$proj" rehearse prod
assert_contains "$err" "no verified backup of prod" "no backup"
assert_contains "$err" "rehearse prod --fresh" "hint names --fresh"
expect_rc 3 -C "$proj" --json rehearse prod
assert_eq "$(jq -r '.result + " " + (.rehearsal_id | tostring)' <<<"$out")" "not-run null" "json: nothing ran"

before=$(dump_app rh_prod)
ledger_before=$(q rh_prod "SELECT string_agg(version || ':' || checksum, ',' ORDER BY version) FROM dbdeploy.migrations")
expect_rc 1 -C "$proj" rehearse prod --fresh
assert_contains "$err" "0004_email.up.sql" "the failure names the file"
assert_contains "$err" "could not create unique index" "the server's message, as deploy would show it"
assert_contains "$err" "prod itself was not changed" "says prod was not touched"
assert_contains "$out" "rehearsal FAILED" "report says failed"
assert_contains "$out" "failed" "0004 failed"
after=$(dump_app rh_prod)
[[ "$before" == "$after" ]] || fail "prod's schema or data changed during the rehearsal"
assert_eq "$(q rh_prod "SELECT string_agg(version || ':' || checksum, ',' ORDER BY version) FROM dbdeploy.migrations")" \
  "$ledger_before" "prod's applied migrations unchanged"
assert_eq "$(q rh_prod "SELECT result || ' ' || (migrations -> 2 ->> 'status') FROM dbdeploy.rehearsals")" \
  "failed failed" "the failed rehearsal is recorded"
assert_eq "$(q postgres "SELECT count(*) FROM pg_database WHERE datname LIKE 'dbdeploy\_rehearsal\_%'")" "0" \
  "the copy was dropped"

# the gate: a deploy needs a passed rehearsal of its plan
printf '[gate]\n\trehearsal = required\n' >>"$proj/pipeline/prod.conf"
commit_all "$proj" "prod deploys only rehearsed plans"
expect_rc 3 -C "$proj" deploy prod
assert_contains "$err" "gate: no passed rehearsal of this plan" "blocked"
assert_contains "$err" "dbdeploy rehearse prod" "hint names the command"
assert_eq "$(q rh_prod "SELECT count(*) FROM t WHERE note IS NULL" 2>/dev/null || echo none)" "none" "nothing applied"

# fix: drop the unique index from the plan; the old rehearsal does not count for the new commit
git -C "$proj" rm -q migrations/0004_email.up.sql
commit_all "$proj" "no unique email yet"
expect_rc 3 -C "$proj" deploy prod
assert_contains "$err" "failed" "the newest rehearsal is named and why it does not count"

expect_rc 0 -C "$proj" --json rehearse prod --keep
assert_eq "$(jq -r .result <<<"$out")" "passed" "json result"
slow_ms=$(jq -r '.migrations[] | select(.version == 2) | .duration_ms' <<<"$out")
((slow_ms >= 1000)) || fail "0002 waits 10us on each of 100000 rows: at least 1s, reported ${slow_ms}ms"
predicted=$(jq -r .predicted_ms <<<"$out")
((predicted >= slow_ms)) || fail "predicted total ${predicted}ms below the slow migration's ${slow_ms}ms"
assert_eq "$(jq -r '[.statements[] | select(.file == "migrations/0002_touch.up.sql")] | length' <<<"$out")" "1" \
  "statement timed"
assert_eq "$(jq -r '.exclusive_locks[].relation' <<<"$out")" "public.t" "ADD COLUMN's ACCESS EXCLUSIVE lock on t"
assert_eq "$(jq -r '.exclusive_locks[0].file' <<<"$out")" "migrations/0003_note.up.sql" "lock blamed on 0003"
assert_eq "$(jq -r .kept <<<"$out")" "true" "--keep"
copy=$(jq -r .database <<<"$out")
assert_eq "$(q "$copy" "SELECT count(*) FROM t WHERE note IS NULL")" "100000" "the kept copy has the migrations"
dropdb "$copy"
run_dd -C "$proj" rehearse prod
assert_eq "$rc" "0" "text rehearsal passes"
assert_contains "$out" "predicted duration on prod:" "text: predicted total"
assert_contains "$out" "ACCESS EXCLUSIVE locks" "text: locks"
assert_contains "$out" "public.t" "text: the locked table"
assert_contains "$out" "0003_note.up.sql:1: ALTER TABLE t ADD COLUMN note text;" "text: the statement"
assert_eq "$(q rh_prod "SELECT count(*) FROM t WHERE note IS NULL" 2>/dev/null || echo none)" "none" \
  "rehearsals changed nothing on prod"

expect_rc 0 -C "$proj" plan prod
assert_contains "$out" "predicted duration:" "plan shows the rehearsal's prediction"
expect_rc 0 -C "$proj" deploy prod
assert_contains "$err" "rehearsed (#" "gate note names the rehearsal"
real_ms=$(q rh_prod "SELECT duration_ms FROM dbdeploy.migrations WHERE version = 2")
# the prediction is the real thing, give or take the shared machine's noise
((slow_ms * 3 >= real_ms && real_ms * 3 >= slow_ms)) ||
  fail "rehearsed ${slow_ms}ms, deployed in ${real_ms}ms: not the same order"
pass "rehearse: measured ${slow_ms}ms (deploy took ${real_ms}ms), failure on prod's data only, gate"
