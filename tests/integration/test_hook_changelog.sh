#!/usr/bin/env bash
# The changelogs are the offline record of what is applied where: a migration that was never
# pushed, but was deployed from a branch (its changelog entry committed there), may not be
# edited before the branch is pushed. A real `git push` through the installed hook refuses it.
source "$DD_SUPPORT/lib.sh"
export DBDEPLOY=$DBDEPLOY_BIN

git init -q --bare -b main remote.git
git_init work
git -C work remote add origin "$PWD/remote.git"
mkdir -p work/migrations work/pipeline
printf '[database]\n\turl = postgresql:///unused\n' >work/pipeline/prod.conf
printf 'create table a (id int);\n' >work/migrations/0001_a.sql
commit_all work "first"
expect_rc 0 -C work hook install
gpush work -q origin main
assert_eq "$prc" 0 "main pushed"

# a hotfix deployed to prod from a local branch: the deploy committed the changelog entry
git -C work checkout -q -b hotfix
printf 'create table hot (id int);\n' >work/migrations/0002_hot.sql
sum=$(sha256sum work/migrations/0002_hot.sql | cut -d' ' -f1)
mkdir -p work/changelog/prod
printf '# Deployments to prod\n\n<!-- dbdeploy:applied env=prod version=2 checksum=sha256:%s file=migrations/0002_hot.sql -->\n' "$sum" \
  >work/changelog/prod/CHANGELOG.md
commit_all work "hotfix, deployed to prod"

# then edited before anyone pushed it: refused, naming the changelog
printf 'create table hot (id bigint);\n' >work/migrations/0002_hot.sql
commit_all work "tweak the hotfix"
gpush work -q origin hotfix
[[ $prc != 0 ]] || fail "push of an edited, changelog-recorded migration succeeded"
assert_contains "$perr" "migrations/0002_hot.sql: changelog/prod/CHANGELOG.md records it as applied to prod with other content" "names the changelog"
[[ -z "$(git -C remote.git branch --list hotfix)" ]] || fail "the remote got the branch"

# restored to the applied bytes, the same branch pushes fine
printf 'create table hot (id int);\n' >work/migrations/0002_hot.sql
commit_all work "restore the hotfix"
gpush work -q origin hotfix
assert_eq "$prc" 0 "push with the recorded content"
pass "the hook enforces what only the changelog records as applied"
