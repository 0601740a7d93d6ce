#!/usr/bin/env bash
# Pre-push hook, force pushes: rewriting history is checked like any push (what the remote has
# must survive unchanged); a force push over commits we never fetched is refused with a hint to
# fetch first, because there is nothing local to compare with.
source "$DD_SUPPORT/lib.sh"
export DBDEPLOY=$DBDEPLOY_BIN


git init -q --bare -b main remote.git
git_init work
git -C work remote add origin "$PWD/remote.git"
mkdir -p work/migrations
printf 'create table a (id int);\n' >work/migrations/0001_a.sql
commit_all work "add a"
printf 'create table b (id int);\n' >work/migrations/0002_b.sql
commit_all work "add b"
expect_rc 0 -C work hook install
git -C work push -q origin main
published=$(git -C remote.git rev-parse main)

# amending the published commit that added b, with b changed: the rewritten commit is blamed
printf 'create table b (id bigint);\n' >work/migrations/0002_b.sql
git -C work commit -q -a --amend -m "add b (amended)"
amended=$(commit_line work)
gpush work --force origin main
[[ $prc != 0 ]] || fail "force push rewriting b was accepted"
assert_contains "$perr" "error: push to 'origin' changes 1 published migration on 'main'" "amend: message"
assert_contains "$perr" "  M migrations/0002_b.sql  in $amended" "amend: file and rewritten commit"
assert_eq "$(git -C remote.git rev-parse main)" "$published" "amend: remote unchanged"
pass "a force push that rewrites a published migration is refused"

# dropping the published commit altogether deletes its migration
git -C work reset -q --hard "$published~1"
gpush work --force origin main
[[ $prc != 0 ]] || fail "force push dropping b was accepted"
assert_contains "$perr" "  D migrations/0002_b.sql  (no pushed commit changed it: the push rewinds the branch)" "drop: deletion reported"
pass "a force push that drops a published migration is refused"

# rewriting history without touching migrations (rewording a commit) is fine
git -C work reset -q --hard "$published"
git -C work commit -q --amend -m "add b, reworded"
gpush work -q --force origin main
assert_eq "$prc" 0 "reword-only force push ($perr)"
published=$(git -C remote.git rev-parse main)
pass "a force push that keeps every migration passes"

# someone else pushed; we force push over commits we never fetched
git clone -q remote.git other
printf 'create table c (id int);\n' >other/migrations/0003_c.sql
commit_all other "add c elsewhere"
git -C other push -q origin main
unseen=$(git -C remote.git rev-parse main)
printf 'create table d (id int);\n' >work/migrations/0004_d.sql
commit_all work "add d"
gpush work --force origin main
[[ $prc != 0 ]] || fail "force push over unfetched commits was accepted"
assert_contains "$perr" "error: cannot check the push to 'main': the remote's commit '${unseen:0:7}' is not in this repository" "unfetched: message"
assert_contains "$perr" "hint: The remote has commits you have not fetched; run 'git fetch origin'" "unfetched: hint"
assert_eq "$(git -C remote.git rev-parse main)" "$unseen" "unfetched: remote unchanged"
run_dd -C work hook pre-push origin "$PWD/remote.git" <<<"refs/heads/main $(git -C work rev-parse HEAD) refs/heads/main $unseen"
assert_eq "$rc" 3 "unfetched: exit status"
pass "a force push over unfetched commits asks to fetch first"

# after fetching, the same force push is judged on content: it would delete c
git -C work fetch -q origin
gpush work --force origin main
[[ $prc != 0 ]] || fail "force push deleting c was accepted"
assert_contains "$perr" "  D migrations/0003_c.sql" "after fetch: deletion of c reported"
# rebasing onto what was fetched keeps c and passes
git -C work rebase -q origin/main
gpush work -q origin main
assert_eq "$prc" 0 "after rebase ($perr)"
pass "after fetching, a force push is checked like any other"
