#!/usr/bin/env bash
# Protected environments ([environment] protected = true): apply, rollback, mark, adopt and
# restore refuse without a terminal and without --yes (exit 2, database unchanged), and with
# --yes each is done and on record: a ledger event (log --json: kind, user, git identity) and a
# changelog entry naming the user, which `changelog ENV` regenerates byte for byte.
source "$DD_SUPPORT/lib.sh"

url=$(new_db prod_app)
proj=$PWD/proj
git_init "$proj"
git -C "$proj" config user.name "Pat Protector"
git -C "$proj" config user.email pat@example.com
mkdir -p "$proj/migrations"
for i in 1 2 3; do
  printf 'CREATE TABLE t%s (id int);\n' "$i" >"$proj/migrations/000${i}_t$i.up.sql"
  printf 'DROP TABLE t%s;\n' "$i" >"$proj/migrations/000${i}_t$i.down.sql"
done
write_env "$proj" prod "$url" '[environment]' '	protected = true' '[backup]' '	dir = backups'
printf 'backups/\n' >"$proj/.gitignore"
commit_all "$proj" "three migrations"
me=$(id -un)
log=$proj/changelog/prod/CHANGELOG.md

# golang-migrate applied 0001 (as that tool records it): something to adopt
psql -X -q -d "$url" -f "$proj/migrations/0001_t1.up.sql"
q "$url" 'CREATE TABLE IF NOT EXISTS "schema_migrations" (version bigint not null primary key, dirty boolean not null)' >/dev/null
q "$url" "INSERT INTO schema_migrations (version, dirty) VALUES (1, false)" >/dev/null

# refused: exit 2, the database as it was, no ledger event, no changelog
refused() { # ARGS...: the command must refuse on the protected environment and change nothing
  local before after
  before=$(dump "$url")
  expect_rc 2 -C "$proj" "$@" </dev/null
  assert_contains "$err" "refusing to $1 without confirmation: standard input is not a terminal" "$1 refused"
  assert_contains "$err" "prod is protected: nothing was changed. Pass --yes" "$1 hint"
  after=$(dump "$url")
  [[ "$before" == "$after" ]] || fail "$1 without --yes changed the database"
}

expect_rc 0 -C "$proj" envs
assert_contains "$(grep '^prod ' <<<"$out")" " yes " "envs shows protection"
expect_rc 0 -C "$proj" --json envs
assert_eq "$(jq -r '.environments[0].protected' <<<"$out")" "true" "json protected"

refused adopt prod --from golang-migrate
assert_eq "$(q "$url" "select count(*) from pg_namespace where nspname = 'dbdeploy'")" "0" "no ledger created"
[[ ! -e "$log" ]] || fail "a refused command wrote a changelog"
# a dry run changes nothing: no confirmation needed
expect_rc 0 -C "$proj" adopt prod --from golang-migrate --dry-run </dev/null
expect_rc 0 -C "$proj" adopt prod --from golang-migrate --yes </dev/null
assert_contains "$out" "adopted 1 migration" "adopted with --yes"

refused apply prod
expect_rc 0 -C "$proj" apply prod --dry-run </dev/null
expect_rc 0 -C "$proj" apply prod --yes </dev/null
assert_contains "$out" "applied 2 migrations to prod" "applied with --yes"

expect_rc 0 -C "$proj" backup prod

refused rollback prod
expect_rc 0 -C "$proj" rollback prod --yes </dev/null
assert_eq "$(q "$url" "select to_regclass('t3') is null")" "t" "0003 rolled back"

refused mark prod 0003 --applied
expect_rc 0 -C "$proj" mark prod 0003 --applied -y </dev/null
assert_eq "$(q "$url" "select count(*) from dbdeploy.migrations where version = 3")" "1" "0003 marked"

# every change is on record: kind, OS user, git identity, commit, versions, result
head=$(git -C "$proj" rev-parse HEAD)
expect_rc 0 -C "$proj" --json log prod
assert_eq "$(jq -r '[.deployments[] | "\(.kind):\(.result):\(.versions | map(tostring) | join(","))"] | join(" ")' <<<"$out")" \
  "mark:marked:3 rollback:rolled-back:3 apply:applied:2,3 adopt:adopted:1" "ledger events, newest first"
assert_eq "$(jq -r '[.deployments[] | .deployed_by | startswith("'"$me"'@")] | all' <<<"$out")" "true" "OS user"
assert_eq "$(jq -r '[.deployments[] | .git_user] | unique | join(",")' <<<"$out")" "Pat Protector <pat@example.com>" "git identity"
assert_eq "$(jq -r '[.deployments[] | .commit] | unique | join(",")' <<<"$out")" "$head" "commit"
expect_rc 0 -C "$proj" log prod
assert_contains "$(sed -n 1p <<<"$out")" " mark     marked " "text log shows the kind before the result"

text=$(cat "$log")
for kind in adopt apply rollback mark; do
  assert_contains "$text" "- Command: \`dbdeploy $kind\`" "changelog entry of $kind"
done
assert_contains "$text" "— prod — rolled-back" "rollback title"
assert_contains "$text" "- Deployed by: $me@" "the user's name"
assert_not_contains "$text" "Deployed by: —" "never an unknown user"
assert_contains "$text" "- Git user: Pat Protector <pat@example.com>" "git identity in the changelog"
[[ $(grep -c '^## ' "$log") == 4 ]] || fail "four entries expected: $text"
cp "$log" "$PWD/incremental.md"
expect_rc 0 -C "$proj" changelog prod
assert_contains "$out" "unchanged (4 deployments)" "regeneration equals what the commands wrote"
rm "$log"
expect_rc 0 -C "$proj" changelog prod
cmp "$log" "$PWD/incremental.md" || fail "regenerated changelog differs from the one the commands wrote"

# restore: refused without --yes; with it the event is written into the restored ledger
refused restore prod latest
expect_rc 0 -C "$proj" restore prod latest --yes </dev/null
expect_rc 0 -C "$proj" --json log prod -n 1
assert_eq "$(jq -r '.deployments[0] | "\(.kind) \(.result) \(.archive | test("backups/prod/.*tar.zst$"))"' <<<"$out")" \
  "restore restored true" "restore event in the ledger after the restore"
first=$(grep -m1 '^## ' "$log")
[[ "$first" == *"— prod — restored" ]] || fail "newest changelog entry should be the restore: $first"
assert_contains "$(cat "$log")" "- Command: \`dbdeploy restore\`" "restore entry"
# the rollback and mark recorded after the backup are carried across: the whole file regenerates
expect_rc 0 -C "$proj" --json log prod
assert_eq "$(jq -r '[.deployments[] | .kind] | join(" ")' <<<"$out")" "restore mark rollback apply adopt" "history kept across the restore"
cp "$log" "$PWD/incremental.md"
expect_rc 0 -C "$proj" changelog prod
assert_contains "$out" "unchanged (5 deployments)" "regenerated byte for byte after the restore"
pass "protected: refusals change nothing; --yes changes are recorded in the ledger and the changelog"

# "Deployed by" of migrations applied outside any recorded change (a ledger from before events)
q "$url" "DELETE FROM dbdeploy.deployments" >/dev/null
expect_rc 0 -C "$proj" changelog prod
assert_contains "$(cat "$log")" "## Applied outside a deployment — prod" "outside section"
assert_contains "$(awk '/^## Applied outside/{f=1} f' "$log")" "- Deployed by: $me@" "the ledger's user, not —"
pass "changelog: migrations applied outside a deployment name who applied them"

# a failed apply is on record too, with its error
printf 'SELECT 1/0;\n' >"$proj/migrations/0004_broken.up.sql"
commit_all "$proj" "broken"
expect_rc 1 -C "$proj" apply prod --yes </dev/null
expect_rc 0 -C "$proj" --json log prod -n 1
assert_eq "$(jq -r '.deployments[0] | "\(.kind) \(.result) \(.versions | map(tostring) | join(","))"' <<<"$out")" "apply failed 4" "failed apply recorded"
assert_contains "$(jq -r '.deployments[0].error' <<<"$out")" "division by zero" "with its error"
first=$(grep -m1 '^## ' "$log")
[[ "$first" == *"— prod — failed" ]] || fail "newest changelog entry should be the failed apply: $first"
pass "a failed apply is recorded"

# init writes prod as a protected environment
fresh=$PWD/fresh
git_init "$fresh"
expect_rc 0 -C "$fresh" init
assert_eq "$(git config -f "$fresh/pipeline/prod.conf" --get environment.protected)" "true" "init protects prod"
assert_eq "$(git config -f "$fresh/pipeline/staging.conf" --get environment.protected || echo unset)" "unset" "staging is not"
pass "init: prod is protected"
