#!/usr/bin/env bash
# dbdeploy hook install: writes hooks/pre-push into the hooks dir (core.hooksPath respected),
# is a no-op the second time, refuses to replace someone else's hook unless --force, keeps it
# running first with --chain, updates an older dbdeploy hook, and registers projects that live
# in subdirectories (dbdeploy-projects next to the hook) so the hook checks each of them.
source "$DD_SUPPORT/lib.sh"
export DBDEPLOY=$DBDEPLOY_BIN

# project NAME: bare remote NAME.git and clone NAME with one pushed migration (no hook yet)
project() {
  git init -q --bare -b main "$1.git"
  git_init "$1"
  git -C "$1" remote add origin "$PWD/$1.git"
  mkdir -p "$1/migrations"
  printf 'create table a (id int);\n' >"$1/migrations/0001_a.sql"
  commit_all "$1" "add a"
  git -C "$1" push -q origin main
}

# edit_a NAME: commit an edit of the published migration
edit_a() {
  printf 'create table a (id bigint);\n' >"$1/migrations/0001_a.sql"
  commit_all "$1" "widen a"
}

hook_src=$DBDEPLOY_SOURCE_DIR/hooks/pre-push

# help works for the command and the subcommand
expect_rc 0 hook --help
assert_contains "$out" "usage: dbdeploy hook install [--force | --chain] | pre-push REMOTE URL" "hook --help"
expect_rc 0 hook install --help
assert_contains "$out" "--chain" "hook install --help lists --chain"
expect_rc 2 hook frobnicate
assert_contains "$err" "error: 'frobnicate' is not a hook subcommand" "unknown subcommand"
pass "help and usage errors"

# outside a repository
mkdir plain
expect_rc 1 -C plain hook install
assert_contains "$err" "error: not a git repository: '" "not a repository"
assert_contains "$err" "hint: " "not a repository: hint"
pass "install outside a repository fails with a hint"

# fresh install, then a no-op
project fresh
expect_rc 0 -C fresh hook install
assert_contains "$err" "installed the pre-push hook in '.git/hooks/pre-push'" "fresh install"
cmp -s fresh/.git/hooks/pre-push "$hook_src" || fail "installed hook differs from hooks/pre-push"
assert_eq "$(cat fresh/.git/hooks/dbdeploy-projects)" "." "project listed next to the hook"
expect_rc 0 -C fresh hook install
assert_contains "$err" "already installed in '.git/hooks/pre-push'; nothing to do" "second install"
assert_eq "$(cat fresh/.git/hooks/dbdeploy-projects)" "." "project listed once"
pass "install, and install again is a no-op"

# core.hooksPath, relative to the top of the work tree, created when missing
project hookspath
git -C hookspath config core.hooksPath tools/hooks
expect_rc 0 -C hookspath hook install
assert_contains "$err" "installed the pre-push hook in 'tools/hooks/pre-push'" "hooksPath install"
[[ -x hookspath/tools/hooks/pre-push ]] || fail "hook not in core.hooksPath"
[[ ! -e hookspath/.git/hooks/pre-push ]] || fail "hook also written to .git/hooks"
edit_a hookspath
gpush hookspath origin main
[[ $prc != 0 ]] || fail "hook in core.hooksPath did not run"
assert_contains "$perr" "M migrations/0001_a.sql" "hooksPath: hook ran"
pass "core.hooksPath is respected"

# someone else's hook: refused without --force or --chain, untouched
project other
printf '#!/bin/sh\necho "lint hook ran" >&2\ncat >"%s/lint-stdin"\nexit 0\n' "$PWD" >other/.git/hooks/pre-push
chmod +x other/.git/hooks/pre-push
cp other/.git/hooks/pre-push other-hook.orig
expect_rc 3 -C other hook install
assert_contains "$err" "error: '.git/hooks/pre-push' is a different pre-push hook" "refuse: message"
assert_contains "$err" "hint: Run 'dbdeploy hook install --chain'" "refuse: hint"
cmp -s other/.git/hooks/pre-push other-hook.orig || fail "refused install changed the hook"
expect_rc 2 -C other hook install --force --chain
assert_contains "$err" "'--force' and '--chain' cannot be used together" "force+chain"
pass "a different hook is not replaced without --force or --chain"

# --chain: the old hook is kept, runs first with the same stdin, and the check still runs
expect_rc 0 -C other hook install --chain
assert_contains "$err" "the previous hook runs first as pre-push.chained" "chain: message"
cmp -s other/.git/hooks/pre-push.chained other-hook.orig || fail "chain: old hook not kept"
cmp -s other/.git/hooks/pre-push "$hook_src" || fail "chain: new hook not installed"
printf 'create table b (id int);\n' >other/migrations/0002_b.sql
commit_all other "add b"
gpush other origin main
assert_eq "$prc" 0 "chain: good push ($perr)"
assert_contains "$perr" "lint hook ran" "chain: old hook ran"
assert_eq "$(cat lint-stdin)" "refs/heads/main $(git -C other rev-parse HEAD) refs/heads/main $(git -C other rev-parse HEAD~1)" "chain: same stdin"
edit_a other
gpush other origin main
[[ $prc != 0 ]] || fail "chain: bad push accepted"
assert_contains "$perr" "lint hook ran" "chain: old hook ran on the bad push"
assert_contains "$perr" "M migrations/0001_a.sql" "chain: dbdeploy's check ran too"
# a failing chained hook stops the push before dbdeploy's check
git -C other reset -q --hard origin/main
printf '#!/bin/sh\necho "lint failed" >&2\nexit 7\n' >other/.git/hooks/pre-push.chained
printf 'create table c (id int);\n' >other/migrations/0003_c.sql
commit_all other "add c"
gpush other origin main
[[ $prc != 0 ]] || fail "chain: failing old hook did not stop the push"
assert_contains "$perr" "lint failed" "chain: failing hook's output"
assert_not_contains "$perr" "published migration" "chain: dbdeploy did not need to run"
# chaining again when pre-push.chained exists and pre-push is foreign: refused
printf '#!/bin/sh\nexit 0\n' >other/.git/hooks/pre-push
expect_rc 3 -C other hook install --chain
assert_contains "$err" "cannot chain the existing pre-push hook: '.git/hooks/pre-push.chained' already exists" "chain twice"
pass "--chain keeps the previous hook and runs it first"

# --force replaces
expect_rc 0 -C other hook install --force
assert_contains "$err" "replaced the existing pre-push hook in '.git/hooks/pre-push' (--force)" "force: message"
cmp -s other/.git/hooks/pre-push "$hook_src" || fail "force: hook not replaced"
pass "--force replaces a different hook"

# an older dbdeploy hook (recognised by its marker) is updated without --force
sed 's/^# Refuses/# (an older version) Refuses/' "$hook_src" >fresh/.git/hooks/pre-push
expect_rc 0 -C fresh hook install
assert_contains "$err" "updated the dbdeploy pre-push hook in '.git/hooks/pre-push'" "update: message"
cmp -s fresh/.git/hooks/pre-push "$hook_src" || fail "update: hook not updated"
pass "an older dbdeploy hook is updated in place"

# projects in subdirectories: each registered one is checked, with its own configuration
git init -q --bare -b main mono.git
git_init mono
git -C mono remote add origin "$PWD/mono.git"
mkdir -p mono/svc-a/migrations mono/svc-b/pipeline mono/svc-b/sql
printf 'create table a (id int);\n' >mono/svc-a/migrations/0001_a.sql
printf '[migrations]\n\tdir = sql\n' >mono/svc-b/pipeline/dbdeploy.conf
printf 'create table b (id int);\n' >mono/svc-b/sql/0001_b.sql
printf 'not a project\n' >mono/top.sql
commit_all mono "two services"
git -C mono push -q origin main
expect_rc 0 -C mono/svc-a hook install
expect_rc 0 -C mono/svc-b hook install
assert_contains "$err" "the pre-push hook in '.git/hooks/pre-push' now also checks project 'svc-b'" "second project"
assert_eq "$(tr '\n' ' ' <mono/.git/hooks/dbdeploy-projects)" "svc-a svc-b " "both projects listed"
printf 'create table b (id bigint);\n' >mono/svc-b/sql/0001_b.sql
commit_all mono "widen b"
gpush mono origin main
[[ $prc != 0 ]] || fail "mono: edit in svc-b accepted"
assert_contains "$perr" "error: push to 'origin' changes 1 published migration of project 'svc-b' on 'main'" "mono: project named"
assert_contains "$perr" "M sql/0001_b.sql" "mono: svc-b's file, relative to its project"
git -C mono reset -q --hard origin/main
printf 'create table a (id bigint);\n' >mono/svc-a/migrations/0001_a.sql
commit_all mono "widen a"
gpush mono origin main
[[ $prc != 0 ]] || fail "mono: edit in svc-a accepted"
assert_contains "$perr" "M migrations/0001_a.sql" "mono: svc-a's file"
git -C mono reset -q --hard origin/main
printf 'changed\n' >mono/top.sql
commit_all mono "not a migration"
gpush mono -q origin main
assert_eq "$prc" 0 "mono: file outside the projects ($perr)"
pass "projects in subdirectories are each checked"

# the hook without a dbdeploy to run blocks the push and says how to fix it
edit_a fresh
set +e
perr=$(env -u DBDEPLOY PATH=/usr/bin:/bin git -C fresh push origin main 2>&1 >/dev/null)
prc=$?
set -e
[[ $prc != 0 ]] || fail "push without dbdeploy accepted"
assert_contains "$perr" "pre-push: cannot run 'dbdeploy' to check the pushed migrations" "no binary: message"
assert_contains "$perr" "hint: Set DBDEPLOY" "no binary: hint"
pass "a missing dbdeploy blocks the push with a hint"
