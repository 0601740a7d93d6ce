#!/usr/bin/env bash
# Two branches that took the same version (issue 11): staging was deployed from feature-a (its
# 0010_add_feature_a); main has 0010_add_feature_b. status and preflight name the clash and the
# fix (renumber), instead of calling 0010 "modified" and blaming feature-b's commit. A file
# renamed and edited on this branch stays "modified".
source "$DD_SUPPORT/lib.sh"

url=$(new_db clash)
proj=$PWD/proj
git_init "$proj"
write_env "$proj" staging "$url" "[backup]" "	enabled = false"
mkdir -p "$proj/migrations"
printf 'CREATE TABLE base (id int);\n' >"$proj/migrations/0001_base.sql"
commit_all "$proj" "base"

git -C "$proj" checkout -q -b feature-a
printf 'CREATE TABLE feature_a (id int);\n' >"$proj/migrations/0010_add_feature_a.sql"
commit_all "$proj" "feature a"
a_short=$(git -C "$proj" rev-parse --short=7 HEAD)
expect_rc 0 -C "$proj" deploy staging

git -C "$proj" checkout -q main
printf 'CREATE TABLE feature_b (id int);\n' >"$proj/migrations/0010_add_feature_b.sql"
commit_all "$proj" "feature b"
want="staging has a different 0010 (add_feature_a, applied from $a_short, not on this branch): renumber yours"

expect_rc 0 -C "$proj" status staging
assert_contains "$out" "$want" "status names the clash"
assert_contains "$out" "clash" "state"
assert_not_contains "$out" "modified" "not called modified"
expect_rc 0 --json -C "$proj" status staging
assert_eq "$(jq -r '.migrations[] | select(.version == 10) | .state' <<<"$out")" "clash" "status --json says clash"

for cmd in deploy plan; do
  expect_rc 3 -C "$proj" "$cmd" staging
  assert_contains "$err" "1 migration version here is already taken on staging by another branch" "$cmd: summary"
  assert_contains "$err" "$want, migrations/0010_add_feature_b.sql" "$cmd: the clash and the file"
  assert_contains "$err" "hint: Give your file a version above 10" "$cmd: hint says renumber"
  assert_not_contains "$err" "modified:" "$cmd: not called modified"
  assert_not_contains "$err" "feature b" "$cmd: feature-b's commit not blamed"
done
assert_eq "$(q "$url" "select to_regclass('feature_b') is null")" "t" "nothing applied"

# renumbered: deploys
git -C "$proj" mv migrations/0010_add_feature_b.sql migrations/0011_add_feature_b.sql
commit_all "$proj" "renumber b"
git -C "$proj" merge -q --no-edit feature-a
expect_rc 0 -C "$proj" deploy staging
assert_eq "$(q "$url" "select to_regclass('feature_b') is not null")" "t" "renumbered migration applied"

# renamed and edited on this branch (the applied commit is an ancestor): still an edit
git -C "$proj" mv migrations/0010_add_feature_a.sql migrations/0010_add_feature_x.sql
printf -- '-- edited\n' >>"$proj/migrations/0010_add_feature_x.sql"
commit_all "$proj" "rename and edit a"
expect_rc 3 -C "$proj" deploy staging
assert_contains "$err" "modified: migrations/0010_add_feature_x.sql" "an edit on this branch stays modified"
assert_not_contains "$err" "renumber yours" "not a clash"
pass "version clashes between branches are named, with the fix"
