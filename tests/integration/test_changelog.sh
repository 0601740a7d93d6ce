#!/usr/bin/env bash
# changelog/<env>/CHANGELOG.md: an entry after a successful deploy and after a restored failure,
# authors and subjects from the real history, regeneration byte-identical to what deployments
# wrote and idempotent, --commit records it in git without pushing.
source "$DD_SUPPORT/lib.sh"

prod=$(new_db app_prod)
proj=$PWD/proj
git_init "$proj"
mkdir -p "$proj/migrations"
write_env "$proj" prod "$prod"
printf '.dbdeploy/\n' >"$proj/.gitignore"
git -C "$proj" add .gitignore pipeline
git -C "$proj" commit -q -m "pipeline"
author_commit() { # NAME EMAIL SUBJECT
  git -C "$proj" add -A
  GIT_AUTHOR_NAME="$1" GIT_AUTHOR_EMAIL="$2" git -C "$proj" commit -q -m "$3"
}
echo 'CREATE TABLE accounts (id int PRIMARY KEY);' >"$proj/migrations/0001_accounts.up.sql"
author_commit "Alice Able" alice@example.com "add accounts | the first table"
echo 'CREATE TABLE orders (id int PRIMARY KEY);' >"$proj/migrations/0002_orders.up.sql"
author_commit "Bob Baker" bob@example.com "add orders"

expect_rc 0 -C "$proj" deploy prod
log=$proj/changelog/prod/CHANGELOG.md
[[ -f "$log" ]] || fail "no changelog after a deploy"
text=$(cat "$log")
assert_contains "$text" "# Deployments to prod" "header"
assert_contains "$text" "— prod — applied" "entry title"
assert_contains "$text" "- Commit: \`$(git -C "$proj" rev-parse --short=7 HEAD)\`" "commit"
assert_contains "$text" "| 1 | accounts | Alice Able | add accounts \\| the first table | \`sha256:" "author and subject of the introducing commit, pipe escaped"
assert_contains "$text" "| 2 | orders | Bob Baker | add orders |" "second author"
sum=$(sha256sum "$proj/migrations/0002_orders.up.sql" | cut -d' ' -f1)
assert_contains "$text" "<!-- dbdeploy:applied env=prod version=2 checksum=sha256:$sum file=migrations/0002_orders.up.sql -->" "machine-readable line"

# a restored failure is recorded too, newest first
printf 'CREATE TABLE t3 (id int);\nSELECT 1/0;\n' >"$proj/migrations/0003_broken.up.sql"
author_commit "Carol Coder" carol@example.com "broken on purpose"
expect_rc 4 -C "$proj" deploy prod
text=$(cat "$log")
first=$(grep -m1 '^## ' "$log")
[[ "$first" == *"— prod — restored" ]] || fail "newest entry should be the restored failure, got: $first"
assert_contains "$text" "| 3 | broken | Carol Coder | broken on purpose |" "failed migration listed"
assert_contains "$text" "| failed |" "status failed"
assert_contains "$text" "- Error: migrations/0003_broken.up.sql:2:1: division by zero" "error line"
assert_not_contains "$text" "dbdeploy:applied env=prod version=3" "a failed migration is not recorded as applied"
[[ $(grep -c '^## ' "$log") == 2 ]] || fail "two entries expected"

# regeneration from the ledger reproduces exactly what the deployments wrote
cp "$log" "$PWD/incremental.md"
expect_rc 0 -C "$proj" changelog prod
assert_contains "$out" "changelog/prod/CHANGELOG.md: unchanged (2 deployments)" "regeneration equals the incremental file"
cmp "$log" "$PWD/incremental.md" || fail "regenerated file differs"
rm "$log"
expect_rc 0 -C "$proj" changelog prod
cmp "$log" "$PWD/incremental.md" || fail "regenerated file differs from the one the deployments wrote"

# migrations applied outside the pipeline appear in a section of their own; idempotent
git -C "$proj" rm -q migrations/0003_broken.up.sql
git -C "$proj" commit -q -m "drop the broken one"
echo 'CREATE TABLE notes (id int);' >"$proj/migrations/0004_notes.up.sql"
author_commit "Dan Dev" dan@example.com "notes"
expect_rc 0 -C "$proj" apply prod
expect_rc 0 -C "$proj" changelog prod
assert_contains "$out" "regenerated" "changed"
assert_contains "$(cat "$log")" "## Applied outside a deployment — prod" "outside section"
assert_contains "$(cat "$log")" "| 4 | notes | Dan Dev | notes |" "author of a migration applied outside"
cp "$log" "$PWD/second.md"
expect_rc 0 -C "$proj" changelog prod
assert_contains "$out" "unchanged" "second run changes nothing"
cmp "$log" "$PWD/second.md" || fail "not idempotent"

# --commit: one commit with a clear message, nothing pushed, only that file
echo "scratch" >"$proj/scratch.txt"
expect_rc 0 -C "$proj" changelog prod --commit
assert_contains "$out" "committed as" "commit made"
assert_eq "$(git -C "$proj" log -1 --format=%s)" "changelog: prod deployment history (2 deployments)" "commit subject"
assert_eq "$(git -C "$proj" show --name-only --format= HEAD)" "changelog/prod/CHANGELOG.md" "only the changelog committed"
assert_eq "$(git -C "$proj" status --porcelain)" "?? scratch.txt" "other files untouched"
expect_rc 0 -C "$proj" changelog prod --commit
assert_contains "$out" "nothing to commit" "second --commit is a no-op"
pass "changelog entries, authors, regeneration, idempotence, --commit"
