#!/usr/bin/env bash
# Deploys read migrations from the committed tree of HEAD, not the working tree: uncommitted
# changes block (exit 3, listed), the ledger records commit and blob id, and an applied file
# changed by a later commit is traced to that commit (id, subject, author, date).
source "$DD_SUPPORT/lib.sh"

url=$(new_db fromgit)
proj=$PWD/proj
git_init "$proj"
write_env "$proj" prod "$url"
m=$proj/migrations
mkdir -p "$m"
printf 'CREATE TABLE a (id int);\nCREATE TABLE b (id int);\n' >"$m/0001_ab.sql"
commit_all "$proj" "first migration"

# 1. the working tree differs from HEAD without being "dirty": with core.autocrlf the checkout
#    has CRLF line endings, the commit has LF. The committed bytes are what gets applied.
git -C "$proj" config core.autocrlf true
rm "$m/0001_ab.sql"
git -C "$proj" checkout -- migrations/0001_ab.sql
grep -q $'\r' "$m/0001_ab.sql" || fail "test setup: expected CRLF in the working tree"
[[ -z "$(git -C "$proj" status --porcelain)" ]] || fail "test setup: git should consider the tree clean"
expect_rc 0 -C "$proj" apply prod
head=$(git -C "$proj" rev-parse HEAD)
blob=$(git -C "$proj" rev-parse HEAD:migrations/0001_ab.sql)
committed_sum=$(git -C "$proj" cat-file blob "$blob" | sha256sum | cut -d' ' -f1)
worktree_sum=$(sha256sum <"$m/0001_ab.sql" | cut -d' ' -f1)
[[ "$committed_sum" != "$worktree_sum" ]] || fail "test setup: sums should differ"
assert_eq "$(q "$url" "select git_commit, git_blob, checksum from dbdeploy.migrations where version = 1")" \
  "$head|$blob|sha256:$committed_sum" "ledger records commit, blob and the committed bytes' checksum"
git -C "$proj" config core.autocrlf false
git -C "$proj" checkout -q -- . 2>/dev/null || true
git -C "$proj" reset -q --hard

# 2. uncommitted changes under migrations/ block, listed
echo 'CREATE TABLE c (id int);' >"$m/0002_c.sql"
echo '-- edited' >>"$m/0001_ab.sql"
expect_rc 3 -C "$proj" apply prod
assert_contains "$err" "2 uncommitted changes under migrations/: prod deploys committed migrations only" "summary"
assert_contains "$err" "modified: migrations/0001_ab.sql" "modified listed"
assert_contains "$err" "untracked: migrations/0002_c.sql" "untracked listed"
assert_eq "$(q "$url" "select to_regclass('c') is null")" "t" "nothing applied"
git -C "$proj" checkout -q -- migrations/0001_ab.sql
rm "$m/0002_c.sql"
# changes outside migrations/ do not matter
echo "notes" >"$proj/NOTES.txt"
expect_rc 0 -C "$proj" status prod

# 3. an applied migration edited in a later commit: the error names the commit
sed -i 's/CREATE TABLE b/CREATE TABLE bb/' "$m/0001_ab.sql"
git -C "$proj" add migrations
GIT_AUTHOR_NAME="Mallory Editor" GIT_AUTHOR_EMAIL="mallory@example.com" GIT_AUTHOR_DATE="2026-11-20T10:00:00Z" \
  git -C "$proj" commit -q -m "fix table name in place"
short=$(git -C "$proj" rev-parse --short HEAD)
expect_rc 3 -C "$proj" apply prod
assert_contains "$err" "modified: migrations/0001_ab.sql" "file named"
assert_contains "$err" "changed by commit $short \"fix table name in place\" (Mallory Editor <mallory@example.com>, 2026-11-20)" "commit, subject, author and date named"

# 4. deleted in a later commit: the deleting commit is named
git -C "$proj" checkout -q HEAD~1 -- migrations/0001_ab.sql
git -C "$proj" commit -q -m "restore the original file"
git -C "$proj" rm -q migrations/0001_ab.sql
git -C "$proj" commit -q -m "remove the first migration"
short=$(git -C "$proj" rev-parse --short HEAD)
expect_rc 3 -C "$proj" apply prod
assert_contains "$err" "missing: migrations/0001_ab.sql (version 1)" "deletion"
assert_contains "$err" "deleted by commit $short \"remove the first migration\"" "deleting commit named"

# 5. not a repository: a clear error unless the env allows the working tree
plain=$PWD/plain
mkdir -p "$plain/migrations"
write_env "$plain" prod "$url"
expect_rc 1 -C "$plain" status prod
assert_contains "$err" "not a git repository" "plain directory refused"
assert_contains "$err" "allow-dirty = true" "hint says how to deploy a plain directory"
pass "committed tree deployed; dirty trees blocked; edits traced to commits"
