#!/usr/bin/env bash
# A fleet rollout reads one commit: the children deploy the commit their parent planned even
# when HEAD moves mid-rollout, and [targets] file is read from that commit (the working tree
# only on allow-dirty environments). plan --sql on a fleet prints each target's SQL.
source "$DD_SUPPORT/lib.sh"

proj=$PWD/proj
git_init "$proj"
mkdir -p "$proj/migrations"
echo "CREATE TABLE accounts (id bigint PRIMARY KEY);" >"$proj/migrations/0001_accounts.sql"
db() { echo "postgresql:///$1?host=$PGHOST&port=$PGPORT&user=postgres"; }
for n in c1 c2 c3 c4; do createdb "$n"; done
printf 'c1 %s\nc2 %s\nc3 %s\n' "$(db c1)" "$(db c2)" "$(db c3)" >"$proj/targets.txt"
write_env "$proj" prod "$(db postgres)" "[backup]" "	enabled = false" "[targets]" "	file = targets.txt" \
  "[rollout]" "	waves = 1, 100%" "	parallel = 1"
commit_all "$proj" "accounts, three targets"

# --- [targets] file comes from the commit --------------------------------------------------
# an uncommitted fourth target is not part of the rollout
printf 'c4 %s\n' "$(db c4)" >>"$proj/targets.txt"
expect_rc 0 -C "$proj" --json plan prod
assert_eq "$(jq -c '[.targets[].name]' <<<"$out")" '["c1","c2","c3"]' "plan: the committed targets only"
git -C "$proj" checkout -q -- targets.txt
# a file missing from the commit is named, exit 2
write_env "$proj" other "$(db postgres)" "[targets]" "	file = more/targets.txt"
commit_conf "$proj"
mkdir -p "$proj/more" && cp "$proj/targets.txt" "$proj/more/"
expect_rc 2 -C "$proj" plan other
assert_contains "$err" "more/targets.txt is not in commit" "uncommitted targets file"
git -C "$proj" add more && git -C "$proj" commit -q -m "more targets"
expect_rc 0 -C "$proj" --json plan other
assert_eq "$(jq -c '[.targets[].name]' <<<"$out")" '["c1","c2","c3"]' "a committed file in a subdirectory"
# allow-dirty environments read the working tree
write_env "$proj" dev "$(db postgres)" "[git]" "	allow-dirty = true" "[targets]" "	file = targets.txt"
printf 'c4 %s\n' "$(db c4)" >>"$proj/targets.txt"
expect_rc 0 -C "$proj" --json targets dev
assert_eq "$(jq -c '.names' <<<"$out")" '["c1","c2","c3","c4"]' "allow-dirty: the working tree's file"
git -C "$proj" checkout -q -- targets.txt
rm "$proj/pipeline/dev.conf"

# --- plan --sql over a fleet: each target's SQL ------------------------------------------------
expect_rc 0 -C "$proj" plan prod --sql
assert_eq "$(grep -c '^== ' <<<"$out")" "3" "plan --sql: a heading per target"
assert_eq "$(grep -c 'CREATE TABLE accounts' <<<"$out")" "3" "plan --sql: the SQL of each target"

# --- HEAD moves mid-rollout: every target gets the planned commit -----------------------------
planned=$(git -C "$proj" rev-parse HEAD)
# hold the canary in its lock stage: an uncommitted CREATE SCHEMA dbdeploy makes its ledger wait
psql -X -q -d "$(db c1)" -c "CREATE SCHEMA dbdeploy; SELECT pg_sleep(60)" >/dev/null 2>&1 &
holder=$!
wait_for "$(db postgres)" "select count(*) = 1 from pg_stat_activity where query like '%pg_sleep(60)%' and pid <> pg_backend_pid()"
"$DBDEPLOY_BIN" -C "$proj" --json deploy prod >rollout.json 2>rollout.err &
rollout=$!
wait_for "$(db postgres)" "select count(*) = 1 from pg_stat_activity where datname = 'c1' and wait_event_type = 'Lock'"
echo "CREATE TABLE later (id int);" >"$proj/migrations/0002_later.sql"
commit_all "$proj" "a later migration, committed during the rollout"
q "$(db postgres)" "select pg_terminate_backend(pid) from pg_stat_activity where query like '%pg_sleep(60)%' and pid <> pg_backend_pid()" >/dev/null
wait "$holder" || true
set +e
wait "$rollout"
rrc=$?
set -e
[[ $rrc == 0 ]] || { cat rollout.json rollout.err >&2; fail "the rollout exited $rrc"; }
for n in c1 c2 c3; do
  assert_eq "$(q "$(db "$n")" "select string_agg(version::text, ',') from dbdeploy.migrations")" "1" "$n: the planned commit's migration only"
  assert_eq "$(q "$(db "$n")" "select git_commit from dbdeploy.deployments order by id desc limit 1")" "$planned" "$n: deployed the planned commit"
done
# the next rollout takes the new HEAD
expect_rc 0 -C "$proj" deploy prod
assert_eq "$(q "$(db c3)" "select count(*) from dbdeploy.migrations")" "2" "the next rollout deploys the new HEAD"

pass "one commit per rollout (HEAD moved meanwhile), committed [targets] file, plan --sql per target"
