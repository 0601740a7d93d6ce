#!/usr/bin/env bash
# Pre-push hook, pushes to an existing branch: adding migrations passes; editing, deleting or
# renaming a published one is refused by a real `git push`, naming the file and the commit; a
# CRLF-only or whitespace-only edit is still an edit; several refs in one push are all checked.
source "$DD_SUPPORT/lib.sh"
export DBDEPLOY=$DBDEPLOY_BIN # the installed hook finds dbdeploy here

expect_refused() { # what
  [[ $prc != 0 ]] || fail "$1: git push succeeded"
  assert_contains "$perr" "hint: A pushed migration may already have run somewhere" "$1: hint"
  assert_contains "$perr" "'dbdeploy new NAME'" "$1: hint names the command"
  [[ "$(git -C remote.git rev-parse main)" == "$published" ]] || fail "$1: the remote changed"
}

git init -q --bare -b main remote.git
git_init work
git -C work remote add origin "$PWD/remote.git"
mkdir -p work/migrations
printf 'create table a (id int);\n' >work/migrations/0001_a.sql
printf 'create table b (id int);\n' >work/migrations/0002_b.sql
printf 'notes\n' >work/migrations/README.md
commit_all work "first migrations"
expect_rc 0 -C work hook install
assert_contains "$err" "installed the pre-push hook in '.git/hooks/pre-push'" "install message"
[[ -x work/.git/hooks/pre-push ]] || fail "hook is not executable"
cmp -s work/.git/hooks/pre-push "$DBDEPLOY_SOURCE_DIR/hooks/pre-push" || fail "installed hook differs from hooks/pre-push"

gpush work -q origin main
assert_eq "$prc" 0 "first push of main"
assert_eq "$perr" "" "a passing hook prints nothing"
published=$(git -C remote.git rev-parse main)
pass "first push passes silently"

# adding migrations (and editing a non-migration file in the directory) passes
printf 'create table c (id int);\n' >work/migrations/0003_c.sql
commit_all work "add c"
printf 'more notes\n' >work/migrations/README.md
commit_all work "notes"
gpush work -q origin main
assert_eq "$prc" 0 "push adding a migration"
assert_eq "$perr" "" "push adding a migration prints nothing"
published=$(git -C remote.git rev-parse main)
pass "adding a migration passes"

# editing a published migration
printf 'create table a (id bigint);\n' >work/migrations/0001_a.sql
commit_all work "widen a"
edit=$(commit_line work)
printf 'create table d (id int);\n' >work/migrations/0004_d.sql
commit_all work "add d"
gpush work origin main
expect_refused "edit"
assert_contains "$perr" "error: push to 'origin' changes 1 published migration on 'main'" "edit: message"
assert_contains "$perr" "  M migrations/0001_a.sql  in $edit" "edit: file and commit"
assert_contains "$perr" "'git checkout ${published:0:7} -- migrations/0001_a.sql'" "edit: restore command"
# the same check run directly exits 3 (blocked before any change)
run_dd -C work hook pre-push origin "$PWD/remote.git" <<<"refs/heads/main $(git -C work rev-parse HEAD) refs/heads/main $published"
assert_eq "$rc" 3 "hook pre-push exit status"
assert_contains "$err" "M migrations/0001_a.sql  in $edit" "direct run names the commit"
# two later commits touching the file: the first one is blamed, the count of later ones shown
printf 'create table a (id bigint not null);\n' >work/migrations/0001_a.sql
commit_all work "tighten a"
gpush work origin main
expect_refused "edit twice"
assert_contains "$perr" "M migrations/0001_a.sql  in $edit and 1 later commit" "edit twice: first commit and count"
pass "editing a published migration is refused with file and commit"

# restoring the file makes the push pass again
git -C work checkout -q "$published" -- migrations/0001_a.sql
commit_all work "restore a"
gpush work -q origin main
assert_eq "$prc" 0 "push after restoring ($perr)"
published=$(git -C remote.git rev-parse main)
pass "restoring the file lets the push through"

# deleting
git -C work rm -q migrations/0002_b.sql
git -C work commit -q -m "drop b"
del=$(commit_line work)
gpush work origin main
expect_refused "delete"
assert_contains "$perr" "  D migrations/0002_b.sql  in $del" "delete: file and commit"
git -C work reset -q --hard "$published"
pass "deleting a published migration is refused"

# renaming
git -C work mv migrations/0002_b.sql migrations/0005_b.sql
git -C work commit -q -m "renumber b"
ren=$(commit_line work)
gpush work origin main
expect_refused "rename"
assert_contains "$perr" "  R migrations/0002_b.sql -> migrations/0005_b.sql  in $ren" "rename: both paths and commit"
git -C work reset -q --hard "$published"
pass "renaming a published migration is refused"

# line endings only, and whitespace only: still edits, and the message says so
printf 'create table b (id int);\r\n' >work/migrations/0002_b.sql
commit_all work "crlf b"
crlf=$(commit_line work)
gpush work origin main
expect_refused "crlf"
assert_contains "$perr" "M migrations/0002_b.sql  in $crlf; only whitespace or line endings differ" "crlf: explained"
git -C work reset -q --hard "$published"
printf 'create table b (id int); \n\n' >work/migrations/0002_b.sql
commit_all work "trailing blanks in b"
gpush work origin main
expect_refused "whitespace"
assert_contains "$perr" "M migrations/0002_b.sql  in $(commit_line work); only whitespace" "whitespace: explained"
git -C work reset -q --hard "$published"
pass "CRLF-only and whitespace-only edits are refused"

# several refs in one push: each is checked, problems are labelled with their ref
git -C work branch -q feature "$published"
git -C work push -q origin feature
git -C work checkout -q feature
printf 'create table a (id text);\n' >work/migrations/0001_a.sql
commit_all work "retype a on feature"
feature_edit=$(commit_line work)
git -C work checkout -q main
git -C work rm -q migrations/0003_c.sql
git -C work commit -q -m "drop c on main"
gpush work origin main feature
expect_refused "two refs"
# git orders the ref lines itself
msg=$(grep '^error: push to' <<<"$perr" | head -1)
assert_contains "$msg" "changes 2 published migrations on '" "two refs: message"
assert_contains "$msg" "'main'" "two refs: message names main"
assert_contains "$msg" "'feature'" "two refs: message names feature"
assert_contains "$perr" "D migrations/0003_c.sql  in $(commit_line work)  [main]" "two refs: main's problem"
assert_contains "$perr" "M migrations/0001_a.sql  in $feature_edit  [feature]" "two refs: feature's problem"
# one good ref and one bad ref: still refused, only the bad one reported
git -C work reset -q --hard "$published"
printf 'create table e (id int);\n' >work/migrations/0005_e.sql
commit_all work "add e"
gpush work origin main feature
[[ $prc != 0 ]] || fail "good+bad refs: git push succeeded"
assert_contains "$perr" "changes 1 published migration on 'feature'" "good+bad refs: only feature"
assert_not_contains "$perr" "0005_e" "good+bad refs: the added file is fine"
pass "several refs in one push are each checked"

# deleting a branch is fine even though its migrations "disappear"
gpush work -q origin --delete feature
assert_eq "$prc" 0 "deleting a branch ($perr)"
pass "deleting a branch passes"

# a tag pointing at a commit that edits a published migration is checked like a new branch
git -C work checkout -q -b tagged "$published"
printf 'create table a (id uuid);\n' >work/migrations/0001_a.sql
commit_all work "uuid a"
git -C work tag -a v1 -m "release"
gpush work origin v1
[[ $prc != 0 ]] || fail "tag push succeeded"
assert_contains "$perr" "changes 1 published migration on 'v1'" "tag: message"
pass "a pushed tag is checked against the merge base with main"
