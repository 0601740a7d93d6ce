#!/usr/bin/env bash
# [deploy] branches = main release/*: a deploy from a commit that no matching branch (local or
# remote-tracking) contains exits 3 naming the branches, before anything changes; a commit on
# main, on a release branch, or a detached HEAD at such a commit (as CI checks out) deploys.
source "$DD_SUPPORT/lib.sh"

url=$(new_db live)
proj=$PWD/proj
git_init "$proj"
git -C "$proj" config user.name "Dee Ployer"
git -C "$proj" config user.email dee@example.com
mkdir -p "$proj/migrations"
write_env "$proj" live "$url" '[deploy]' '	branches = main release/*' '[backup]' '	enabled = false'
printf "changelog/\n" >"$proj/.gitignore" # deploys here write it; the branch switches must not trip on it
echo 'CREATE TABLE a (id int);' >"$proj/migrations/0001_a.sql"
commit_all "$proj" "a"

# a feature branch: refused, nothing applied, no ledger
git -C "$proj" checkout -q -b feature-x
echo 'CREATE TABLE x (id int);' >"$proj/migrations/0002_x.sql"
commit_all "$proj" "x"
expect_rc 3 -C "$proj" deploy live
assert_contains "$err" "live may only be deployed from a commit on main release/* ([deploy] branches in pipeline/live.conf)" "names the branches"
assert_contains "$err" "hint: Nothing was changed." "hint"
assert_eq "$(q "$url" "select count(*) from pg_namespace where nspname = 'dbdeploy'")" "0" "nothing changed"
# --dry-run still shows what would happen
expect_rc 0 -C "$proj" deploy live --dry-run

# main: deployed
git -C "$proj" checkout -q main
expect_rc 0 -C "$proj" deploy live
assert_eq "$(q "$url" "select string_agg(version::text, ',' order by version) from dbdeploy.migrations")" "1" "main deployed"
expect_rc 0 -C "$proj" --json log live
assert_eq "$(jq -r '.deployments[0] | "\(.kind) \(.git_user)"' <<<"$out")" "deploy Dee Ployer <dee@example.com>" "a deployment records the git identity too"

# detached HEAD at a commit of main (CI): deployed
echo 'CREATE TABLE b (id int);' >"$proj/migrations/0002_b.sql"
commit_all "$proj" "b"
git -C "$proj" checkout -q --detach main
expect_rc 0 -C "$proj" deploy live
assert_eq "$(q "$url" "select string_agg(version::text, ',' order by version) from dbdeploy.migrations")" "1,2" "detached HEAD at main deployed"

# a release branch known only as a remote-tracking branch (a fresh CI clone has no local one)
remote=$PWD/remote.git
git init -q --bare "$remote"
git -C "$proj" remote add origin "$remote"
git -C "$proj" checkout -q -b release/1.0 main
echo 'CREATE TABLE c (id int);' >"$proj/migrations/0003_c.sql"
commit_all "$proj" "c on the release branch"
git -C "$proj" push -q origin release/1.0
git -C "$proj" checkout -q --detach release/1.0
git -C "$proj" branch -q -D release/1.0
git -C "$proj" fetch -q origin
expect_rc 0 -C "$proj" deploy live
assert_eq "$(q "$url" "select string_agg(version::text, ',' order by version) from dbdeploy.migrations")" "1,2,3" "origin/release/1.0 deployed"

# the same commit once origin no longer has it: refused again
git -C "$proj" push -q origin --delete release/1.0
git -C "$proj" fetch -q --prune origin
expect_rc 3 -C "$proj" deploy live
assert_contains "$err" "HEAD is on none of them" "not on any branch"
pass "deploy branches: feature refused, main, detached HEAD and remote release branches accepted"
