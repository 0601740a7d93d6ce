#!/usr/bin/env bash
# deploy, plan and gate read pipeline/*.conf from the commit they deploy (issue 11): an
# uncommitted edit to the environment's file, the shared file or the required environment's
# file blocks (exit 3, listed) instead of being used; once committed it is used, and the
# changelog credits that commit. Environments with allow-dirty read the working tree.
source "$DD_SUPPORT/lib.sh"

staging=$(new_db cc_staging)
prod=$(new_db cc_prod)
dev=$(new_db cc_dev)
dev2=$(new_db cc_dev2)
proj=$PWD/proj
git_init "$proj"
mkdir -p "$proj/migrations"
printf '[database]\n\tlock-wait = 5s\n' >"$proj/pipeline.tmp"
write_env "$proj" staging "$staging"
write_env "$proj" prod "$prod" "[gate]" "	requires = staging" "[backup]" "	enabled = false"
write_env "$proj" dev "$dev" "[git]" "	allow-dirty = true" "[backup]" "	enabled = false"
mv "$proj/pipeline.tmp" "$proj/pipeline/dbdeploy.conf"
printf 'CREATE TABLE a (id int);\n' >"$proj/migrations/0001_a.sql"
printf '.dbdeploy/\n' >"$proj/.gitignore"
commit_all "$proj" "pipeline and a first migration"

# 1. [gate] requires commented out but not committed: blocked, naming the file; the gate is
#    not skipped and prod is untouched
sed -i 's/^\trequires = staging/#\trequires = staging/' "$proj/pipeline/prod.conf"
for cmd in deploy plan; do
  expect_rc 3 -C "$proj" "$cmd" prod
  assert_contains "$err" "1 uncommitted change to the configuration of prod" "$cmd: summary"
  assert_contains "$err" "modified: pipeline/prod.conf" "$cmd: file listed"
  assert_contains "$err" "hint: Commit (or stash)" "$cmd: hint"
  assert_not_contains "$out$err" "no [gate] requires" "$cmd: gate not skipped"
done
assert_eq "$(q "$prod" "select to_regclass('a') is null")" "t" "nothing applied on prod"

# the committed gate still holds: staging has nothing, so prod is blocked by the gate
git -C "$proj" checkout -q -- pipeline/prod.conf
expect_rc 3 -C "$proj" deploy prod
assert_contains "$err" "gate: 1 of 1 migration about to reach prod is not on staging" "committed gate used"

# 2. the shared file and (for the gate stage) the required environment's file count too
printf '\tstatement-timeout = 1h\n' >>"$proj/pipeline/dbdeploy.conf"
expect_rc 3 -C "$proj" deploy prod
assert_contains "$err" "modified: pipeline/dbdeploy.conf" "shared file listed"
git -C "$proj" checkout -q -- pipeline/dbdeploy.conf
expect_rc 0 -C "$proj" deploy staging
printf '[health]\n\turl = http://127.0.0.1:9/never\n' >>"$proj/pipeline/staging.conf"
expect_rc 3 -C "$proj" deploy prod
assert_contains "$err" "modified: pipeline/staging.conf" "required environment's file listed"
assert_contains "$err" "loading the gate environment 'staging'" "in the gate stage"
expect_rc 3 -C "$proj" gate staging
assert_contains "$err" "modified: pipeline/staging.conf" "gate command blocked too"
git -C "$proj" checkout -q -- pipeline/staging.conf
expect_rc 0 -C "$proj" gate staging

# an uncommitted allow-dirty on prod does not turn prod into a working-tree environment
printf '[git]\n\tallow-dirty = true\n' >>"$proj/pipeline/prod.conf"
expect_rc 3 -C "$proj" plan prod
assert_contains "$err" "modified: pipeline/prod.conf" "allow-dirty must be committed"
git -C "$proj" checkout -q -- pipeline/prod.conf

# 3. committed: used. The gate requirement is removed in a commit, prod deploys without it, and
#    the changelog credits the commit that holds that configuration.
printf 'CREATE TABLE b (id int);\n' >"$proj/migrations/0002_b.sql"
sed -i 's/^\trequires = staging/#\trequires = staging/' "$proj/pipeline/prod.conf"
commit_all "$proj" "b; prod no longer gated"
# staging does not have 0002: only the committed configuration without the gate lets prod deploy
expect_rc 0 -C "$proj" deploy prod
assert_eq "$(q "$staging" "select count(*) from dbdeploy.migrations where version = 2")" "0" "staging lacks 0002"
head=$(git -C "$proj" rev-parse HEAD)
assert_eq "$(q "$prod" "select git_commit from dbdeploy.migrations where version = 2")" "$head" "ledger commit"
git -C "$proj" show "$head:pipeline/prod.conf" | grep -q '^#.requires' || fail "the credited commit holds the configuration"
assert_contains "$(cat "$proj/changelog/prod/CHANGELOG.md")" "- Commit: \`$(git -C "$proj" rev-parse --short=7 HEAD)\`" \
  "changelog credits that commit"

# 4. an environment not committed at all is refused, unless it reads the working tree
write_env "$proj" qa "$prod"
expect_rc 3 -C "$proj" plan qa
assert_contains "$err" "pipeline/qa.conf is not in commit" "uncommitted environment"
assert_contains "$err" "untracked: pipeline/qa.conf" "listed"
rm "$proj/pipeline/qa.conf"

# 5. allow-dirty (committed): the working tree is read, configuration included
write_env "$proj" dev "$dev2" "[git]" "	allow-dirty = true" "[backup]" "	enabled = false"
expect_rc 0 -C "$proj" deploy dev
assert_eq "$(q "$dev2" "select count(*) from dbdeploy.migrations")" "2" "working-tree url used"
assert_eq "$(q "$dev" "select to_regclass('dbdeploy.migrations') is null")" "t" "committed url not used"
pass "deploy, plan and gate read the committed configuration; uncommitted edits block"
