#!/usr/bin/env bash
# Pre-push hook, new branches: with no remote commit to compare against, the pushed branch is
# checked against its merge base with the protected branch (origin/main by default, or
# [git] protected-branch), in the configured migrations directory ([migrations] dir).
source "$DD_SUPPORT/lib.sh"
export DBDEPLOY=$DBDEPLOY_BIN


git init -q --bare -b main remote.git
git_init work
git -C work remote add origin "$PWD/remote.git"
mkdir -p work/migrations
printf 'create table a (id int);\n' >work/migrations/0001_a.sql
commit_all work "add a"
expect_rc 0 -C work hook install
git -C work push -q origin main

# a new branch that only adds migrations passes
git -C work checkout -q -b add-only
printf 'create table b (id int);\n' >work/migrations/0002_b.sql
commit_all work "add b"
gpush work -q origin add-only
assert_eq "$prc" 0 "new branch adding a migration ($perr)"
pass "a new branch adding a migration passes"

# a new branch editing a migration that main has is refused, blaming the branch's commit
git -C work checkout -q -b edits main
printf 'create table z (id int);\n' >work/migrations/0009_z.sql
commit_all work "add z"
printf 'create table a (id bigint);\n' >work/migrations/0001_a.sql
commit_all work "widen a on a branch"
edit=$(commit_line work)
gpush work origin edits
[[ $prc != 0 ]] || fail "new branch editing a published migration was pushed"
assert_contains "$perr" "error: push to 'origin' changes 1 published migration on 'edits'" "new branch: message"
assert_contains "$perr" "  M migrations/0001_a.sql  in $edit" "new branch: file and commit"
assert_not_contains "$perr" "0009_z" "new branch: added file not reported"
[[ -z "$(git -C remote.git branch --list edits)" ]] || fail "the refused branch reached the remote"
pass "a new branch is checked against the merge base with origin/main"

# the merge base is what counts: a file main added after the branch forked is not the branch's to keep
git -C work checkout -q main
printf 'create table c (id int);\n' >work/migrations/0003_c.sql
commit_all work "add c on main"
git -C work push -q origin main
git -C work checkout -q -b old-fork "main~1"
printf 'create table d (id int);\n' >work/migrations/0004_d.sql
commit_all work "add d on an old fork"
gpush work -q origin old-fork
assert_eq "$prc" 0 "branch forked before a migration was added ($perr)"
pass "files added to main after the fork point are not required on the branch"

# a branch merged from main and then editing one of main's files is refused too
git -C work checkout -q -b merged main~1
git -C work merge -q --no-edit main
printf 'create table c (id text);\n' >work/migrations/0003_c.sql
commit_all work "retype c after merging main"
gpush work origin merged
[[ $prc != 0 ]] || fail "merged branch editing c was pushed"
assert_contains "$perr" "M migrations/0003_c.sql  in $(commit_line work)" "merged branch: file and commit"
pass "a branch that merged main is checked against the new merge base"

# configuration: another protected branch and migrations directory. release has a migration
# that main never had, so only a check against origin/release sees the edit below.
git -C work checkout -q -b release-line main
mkdir -p work/pipeline work/db/migrations
printf 'create table r (id int);\n' >work/db/migrations/0001_r.sql
commit_all work "release layout"
git -C work push -q origin release-line:release
git -C work fetch -q origin
git -C work checkout -q -b from-release origin/release
printf '[git]\n\tprotected-branch = origin/release\n[migrations]\n\tdir = db/migrations\n' >work/pipeline/dbdeploy.conf
printf 'create table r (id bigint);\n' >work/db/migrations/0001_r.sql
printf 'create table a (id uuid);\n' >work/migrations/0001_a.sql # no longer the migrations dir
commit_all work "edit r"
gpush work origin from-release
[[ $prc != 0 ]] || fail "configured dir: edit of db/migrations/0001_r.sql was pushed"
assert_contains "$perr" "changes 1 published migration on 'from-release'" "configured dir: message"
assert_contains "$perr" "M db/migrations/0001_r.sql  in $(commit_line work)" "configured dir: file"
assert_not_contains "$perr" "migrations/0001_a.sql" "configured dir: the old directory is not checked"
pass "protected-branch and migrations dir come from pipeline/dbdeploy.conf"

# a configured protected branch that does not exist is a configuration error, not a silent pass
printf '[git]\n\tprotected-branch = origin/nope\n' >work/pipeline/dbdeploy.conf
run_dd -C work hook pre-push origin "$PWD/remote.git" <<<"refs/heads/x $(git -C work rev-parse HEAD) refs/heads/x 0000000000000000000000000000000000000000"
assert_eq "$rc" 2 "missing protected branch exit status"
assert_contains "$err" "error: [git] protected-branch 'origin/nope' is not in this repository" "missing protected branch"
assert_contains "$err" "hint: " "missing protected branch hint"
pass "a missing configured protected branch is reported"

# a bad configuration file stops the hook with the config error
printf '[git\n' >work/pipeline/dbdeploy.conf
run_dd -C work hook pre-push origin "$PWD/remote.git" <<<"refs/heads/x $(git -C work rev-parse HEAD) refs/heads/x 0000000000000000000000000000000000000000"
assert_eq "$rc" 2 "bad config exit status"
assert_contains "$err" "pipeline/dbdeploy.conf" "bad config names the file"
rm work/pipeline/dbdeploy.conf

# malformed input on stdin
run_dd -C work hook pre-push origin url <<<"refs/heads/main not-a-sha refs/heads/main 123"
assert_eq "$rc" 2 "malformed stdin exit status"
assert_contains "$err" "error: stdin line 1: expected '<local ref> <local sha> <remote ref> <remote sha>'" "malformed stdin"
pass "bad configuration and bad input are reported"
