#!/usr/bin/env bash
# A committed changelog/<env>/CHANGELOG.md that is a symlink is refused, never followed: before,
# a link to /proc/self/environ copied the whole environment (the password included) into the
# changelog. The error names the path and carries a hint.
source "$DD_SUPPORT/lib.sh"

prod=$(new_db app_prod)
proj=$PWD/proj
git_init "$proj"
mkdir -p "$proj/migrations" "$proj/changelog/prod"
write_env "$proj" prod "$prod"
printf '.dbdeploy/\n' >"$proj/.gitignore"
echo 'CREATE TABLE accounts (id int PRIMARY KEY);' >"$proj/migrations/0001_accounts.up.sql"
ln -s /proc/self/environ "$proj/changelog/prod/CHANGELOG.md"
commit_all "$proj" "migrations and a hostile changelog link"

export DD_HARDEN_SECRET=EnvSecretValue42
run_dd -C "$proj" deploy prod
[[ "$rc" != 0 ]] || fail "deploy through a symlinked changelog succeeded"
assert_contains "$err" "changelog/prod/CHANGELOG.md" "error names the path"
assert_contains "$err" "symbolic link" "error says why"
assert_contains "$err" "hint:" "error has a hint"
[[ -L "$proj/changelog/prod/CHANGELOG.md" ]] || fail "the link was replaced"
if grep -rqs EnvSecretValue42 "$proj" --exclude-dir=.git; then fail "environment copied into the project"; fi
assert_not_contains "$out$err" "EnvSecretValue42" "secret in output"

# regeneration refuses too
run_dd -C "$proj" changelog prod
[[ "$rc" != 0 ]] || fail "changelog regeneration through a symlink succeeded"
assert_contains "$err" "symbolic link" "changelog command refuses the link"
if grep -rqs EnvSecretValue42 "$proj" --exclude-dir=.git; then fail "environment copied by 'changelog'"; fi

# a linked directory is refused too: the file would land wherever it points
rm "$proj/changelog/prod/CHANGELOG.md"
rmdir "$proj/changelog/prod"
mkdir -p "$PWD/elsewhere"
ln -s "$PWD/elsewhere" "$proj/changelog/prod"
run_dd -C "$proj" changelog prod
[[ "$rc" != 0 ]] || fail "changelog regeneration into a linked directory succeeded"
assert_contains "$err" "changelog/prod': it is a symbolic link" "linked directory refused"
[[ -z $(ls -A "$PWD/elsewhere") ]] || fail "a file was written through the linked directory"
pass "symlinked changelog and changelog directory refused"
