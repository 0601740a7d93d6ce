#!/usr/bin/env bash
# The git baseline (issue 11): `init` leaves [git] protected-branch at its default, the remote's
# main branch, so `verify` on a local main compares with origin/main (not HEAD with itself),
# finds the edited migration, names the ref it used, and its restore hint works as printed.
# origin/HEAD pointing elsewhere (trunk) is followed; a base equal to HEAD is said out loud.
source "$DD_SUPPORT/lib.sh"

origin=$PWD/origin.git
git init -q --bare -b main "$origin"
seed=$PWD/seed
git_init "$seed"
mkdir -p "$seed/migrations"
printf 'CREATE TABLE a (id int);\n' >"$seed/migrations/0001_a.sql"
commit_all "$seed" "a"
git -C "$seed" push -q "$origin" main

proj=$PWD/proj
git clone -q "$origin" "$proj"
expect_rc 0 -C "$proj" init
if grep -qE '^[[:space:]]*protected-branch' "$proj/pipeline/dbdeploy.conf"; then
  fail "init must leave protected-branch at its default, wrote: $(grep protected-branch "$proj/pipeline/dbdeploy.conf")"
fi
commit_all "$proj" "dbdeploy init"
git -C "$proj" push -q origin main

# an edit of the published migration, committed on local main and not pushed yet
printf 'CREATE TABLE a (id bigint);\n' >"$proj/migrations/0001_a.sql"
commit_all "$proj" "widen a.id in place"
published=$(git -C "$proj" rev-parse --short=7 origin/main)
expect_rc 3 -C "$proj" verify
assert_contains "$err" "1 published migration problem between origin/main ($published) and HEAD" "compared with origin/main"
assert_contains "$err" "modified: migrations/0001_a.sql" "the edit is found"
assert_contains "$err" "verify: comparing HEAD with origin/main" "the ref used is named"
assert_contains "$err" "git checkout $published -- <file>" "hint names the published commit"
# the hint, as printed, restores the file
git -C "$proj" checkout -q "$published" -- migrations/0001_a.sql
commit_all "$proj" "restore a"
expect_rc 0 -C "$proj" verify
assert_contains "$out" "nothing published in origin/main ($published) was changed" "restored"
expect_rc 0 -C "$proj" --json verify
assert_eq "$(jq -r '.base + " " + .base_from' <<<"$out")" \
  "origin/main the default: the remote's main branch; set [git] protected-branch or pass --base to choose" "json base"

# HEAD is the base itself (everything pushed): said, not a silent pass
git -C "$proj" push -q origin main
expect_rc 0 -C "$proj" verify
assert_contains "$out" "HEAD is origin/main ($(git -C "$proj" rev-parse --short=7 HEAD)) itself or behind it" "base is HEAD: said"
assert_contains "$err" "warning" "and warned about"

# the remote's main branch is what origin/HEAD points to, whatever its name
git -C "$origin" branch -q -m main trunk
git -C "$origin" symbolic-ref HEAD refs/heads/trunk
trunk=$PWD/trunk
git clone -q "$origin" "$trunk"
[[ "$(git -C "$trunk" symbolic-ref refs/remotes/origin/HEAD)" == refs/remotes/origin/trunk ]] || fail "setup: origin/HEAD"
git -C "$trunk" checkout -q -b feature
printf 'CREATE TABLE a (id text);\n' >"$trunk/migrations/0001_a.sql"
commit_all "$trunk" "retype a.id"
expect_rc 3 -C "$trunk" verify
assert_contains "$err" "between origin/trunk" "origin/HEAD followed"
pass "verify defaults to the remote's main branch, names it, and its hint works"
