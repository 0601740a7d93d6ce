#!/usr/bin/env bash
# `dbdeploy verify` and the pre-push hook blame the same commit for a published migration that a
# branch edited twice: the first commit after the base that changed it (engine_change_origin),
# with the later ones counted. Real repository, several commits, the hook run through git push.
source "$DD_SUPPORT/lib.sh"
export DBDEPLOY=$DBDEPLOY_BIN # the installed hook finds dbdeploy here

git init -q --bare -b main remote.git
git_init work
git -C work remote add origin "$PWD/remote.git"
mkdir -p work/migrations
printf 'create table a (id int);\n' >work/migrations/0001_a.sql
printf 'create table b (id int);\n' >work/migrations/0002_b.sql
commit_all work "published migrations"
expect_rc 0 -C work hook install
gpush work -q origin main
assert_eq "$prc" 0 "first push"
published=$(git -C work rev-parse --short origin/main)

# edit, unrelated commit, edit again, unrelated commit
edit() { # file, content, message, author
  printf '%s\n' "$2" >"work/migrations/$1"
  git -C work add -A
  GIT_AUTHOR_NAME="$4" git -C work commit -q -m "$3"
}
edit 0001_a.sql 'create table a (id bigint);' "widen a" "Eve Editor"
first=$(git -C work rev-parse --short HEAD)
edit 0003_c.sql 'create table c (id int);' "add c" "Carl Coder"
edit 0001_a.sql 'create table a (id bigint not null);' "tighten a" "Tom Tightener"
last=$(git -C work rev-parse --short HEAD)
edit 0004_d.sql 'create table d (id int);' "add d" "Dana Dev"
[[ $first != "$last" ]] || fail "setup: the two edits are one commit"

# verify (CI) names the first edit and counts the later one
expect_rc 3 -C work verify
verify_line=$(grep -F 'modified: migrations/0001_a.sql' <<<"$err") || fail "verify names the file: $err"
assert_contains "$verify_line" " in $first \"widen a\" (Eve Editor, " "verify blames the first edit"
assert_contains "$verify_line" "and 1 later commit" "verify counts the later edit"
assert_not_contains "$verify_line" "$last" "verify does not blame the newest edit"

# the hook (git push) names the same commit
gpush work origin main
[[ $prc != 0 ]] || fail "push of an edited migration succeeded"
hook_line=$(grep -F 'M migrations/0001_a.sql' <<<"$perr") || fail "hook names the file: $perr"
assert_contains "$hook_line" " in $first 'widen a' (Eve Editor, " "hook blames the first edit"
assert_contains "$hook_line" "and 1 later commit" "hook counts the later edit"
[[ "$(git -C remote.git rev-parse --short main)" == "$published" ]] || fail "the remote changed"

# the one rule, stated as an equation: both extract the same commit id
verify_commit=$(sed -E 's/.* in ([0-9a-f]+) .*/\1/' <<<"$verify_line")
hook_commit=$(sed -E 's/.* in ([0-9a-f]+) .*/\1/' <<<"$hook_line")
assert_eq "$verify_commit" "$hook_commit" "verify and the hook blame the same commit"
assert_eq "$verify_commit" "$first" "and it is the first commit that changed the published content"
pass "verify and the pre-push hook blame the same (first) commit"

# an edit that was reverted and made again is blamed on the edit still there
git -C work reset -q --hard origin/main
edit 0001_a.sql 'create table a (id text);' "try text" "Eve Editor"
edit 0001_a.sql 'create table a (id int);' "revert: back to int" "Eve Editor"
edit 0001_a.sql 'create table a (id numeric);' "numeric after all" "Nora Numeric"
again=$(git -C work rev-parse --short HEAD)
expect_rc 3 -C work verify
assert_contains "$err" "modified: migrations/0001_a.sql in $again \"numeric after all\"" "verify: the edit that is still there"
assert_not_contains "$err" "later commit" "verify: nothing after it"
gpush work origin main
assert_contains "$perr" "M migrations/0001_a.sql  in $again 'numeric after all'" "hook: the edit that is still there"
pass "a reverted edit is not blamed"
