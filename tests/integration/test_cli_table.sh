#!/usr/bin/env bash
# The command table drives the command line: global options after the command, 'help CMD',
# 'version', "did you mean", usage lines, every --json document carrying exit_status (init and
# hook install included), and a deploy's JSON never saying "restored" beside "restored": false.
source "$DD_SUPPORT/lib.sh"

db=$(new_db app_table)
proj=$PWD/proj
git_init "$proj"
write_env "$proj" prod "$db" $'[git]\n\tallow-dirty = true\n[backup]\n\tenabled = false'
mkdir -p "$proj/migrations"
echo 'CREATE TABLE a (id int);' >"$proj/migrations/0001_a.up.sql"
commit_all "$proj" "a"

# global options after the command, in any order, and with a command option between them
expect_rc 0 -C "$proj" status prod --json
assert_eq "$(jq -r '.command, .env, .exit_status' <<<"$out" | tr '\n' ' ')" "status prod 0 " "--json after the command"
expect_rc 0 status prod -C "$proj" -q --json
assert_eq "$(jq -r .exit_status <<<"$out")" "0" "-C and -q after the command"
expect_rc 0 apply prod -C "$proj" --dry-run --color=never -v
assert_contains "$out" "0001" "-v and --color after a command option"
# '--' still ends the options: what follows is an argument, even if it looks global
expect_rc 2 -C "$proj" status -- --json
assert_contains "$err" "'--json' is not a valid environment name" "'--' ends the options"
expect_rc 2 -C "$proj" status prod --color=purple
assert_contains "$err" "--color takes auto, always or never" "bad global option value after the command"

# help CMD is the command's --help; usage lines have no trailing space
expect_rc 0 help status
help_status=$out
expect_rc 0 status --help
assert_eq "$out" "$help_status" "help status = status --help"
expect_rc 0 --help status
assert_eq "$out" "$help_status" "--help status = help status"
expect_rc 0 help hook install
assert_contains "$out" "usage: dbdeploy hook install [--force | --chain]" "help of a subcommand"
expect_rc 0 init --help
assert_eq "$(head -1 <<<"$out")" "usage: dbdeploy init" "init usage line"
expect_rc 0 help version
assert_eq "$(head -1 <<<"$out")" "usage: dbdeploy version" "version usage line"
expect_rc 2 help frobnicate
assert_contains "$err" "'frobnicate' is not a dbdeploy command" "help of an unknown command"
# one formatter: no help line wider than 79 columns, for any command
expect_rc 0 --help
cmds=$(sed -n '/^commands:/,/^$/p' <<<"$out" | awk '/^  [a-z]/ {print $1}')
for c in $cmds; do
  expect_rc 0 help "$c"
  wide=$(awk 'length > 79' <<<"$out")
  assert_eq "$wide" "" "help $c wraps at 79 columns"
  grep -q ' $' <<<"$out" && fail "help $c has trailing spaces"
done

# version and --version
expect_rc 0 version
[[ "$out" =~ ^dbdeploy\ [0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "version prints 'dbdeploy X.Y.Z', got '$out'"
version=$out
expect_rc 0 --version
assert_eq "$out" "$version" "--version = version"
expect_rc 0 version --json
assert_eq "$(jq -r '.command, .exit_status' <<<"$out" | tr '\n' ' ')" "version 0 " "version --json"

# did you mean: commands, and environments of the project
expect_rc 2 statsu prod
assert_contains "$err" "'statsu' is not a dbdeploy command, nor an environment" "still says what it is not"
assert_contains "$err" "hint: Did you mean 'status'?" "suggests the command"
expect_rc 2 -C "$proj" prdo
assert_contains "$err" "Did you mean 'prod'?" "suggests the environment"
expect_rc 2 xyzzy
assert_not_contains "$err" "Did you mean" "no suggestion for a word close to nothing"

# --json: one document with exit_status, success and failure, for every kind of command
fresh=$PWD/fresh
git_init "$fresh"
expect_rc 0 -C "$fresh" init --json
assert_eq "$(jq -r '.command, .exit_status' <<<"$out" | tr '\n' ' ')" "init 0 " "init --json"
assert_eq "$(jq -r '.files[] | select(.path == "pipeline/prod.conf") | .action' <<<"$out")" "created" "init lists files"
expect_rc 0 -C "$fresh" --json init
assert_eq "$(jq -r '[.files[].action] | unique | join(",")' <<<"$out")" "exists" "second init: all exist"
expect_rc 0 -C "$fresh" hook install --json
assert_eq "$(jq -r '.command, .exit_status, .error' <<<"$out" | tr '\n' ' ')" "hook install 0 null " "hook install --json"
assert_contains "$(jq -r '.messages[0]' <<<"$out")" "installed the pre-push hook" "hook install says what it did"
expect_rc 2 -C "$fresh" hook install --json --chain --force
assert_eq "$(jq -r '.command, .exit_status' <<<"$out" | tr '\n' ' ')" "hook install 2 " "hook install failure document"
for args in "status nowhere" "apply nowhere" "gate nowhere" "backups nowhere" "frobnicate" "hook bogus"; do
  run_dd -C "$proj" --json $args
  [[ $rc != 0 ]] || fail "$args should fail"
  assert_eq "$(jq -r .exit_status <<<"$out")" "$rc" "$args: exit_status is the exit status"
  [[ $(jq -r .error.message <<<"$out") != null ]] || fail "$args: the document has the error"
done
for args in "status prod" "apply prod --dry-run" "apply prod" "gate prod" "backups prod" "verify" "new add_b"; do
  expect_rc 0 -C "$proj" --json $args
  assert_eq "$(jq -r .exit_status <<<"$out")" "0" "$args: exit_status 0 on success"
done
expect_rc 0 -C "$proj" backups prod --json
assert_eq "$(jq -r '.schema, .command' <<<"$out" | tr '\n' ' ')" "1 backups " "backups names its command"
expect_rc 0 -C "$proj" --json completion bash
assert_contains "$(jq -r .output <<<"$out")" "complete -F _dbdeploy dbdeploy" "text output wrapped in the document"

# a deploy whose first migration fails in its transaction: nothing committed, result restored
# (exit 4), and "restored" says so too
echo 'CREATE TABLE b (id int); SELECT 1/0;' >"$proj/migrations/0002_b.up.sql"
rm -f "$proj"/migrations/*add_b*
expect_rc 4 -C "$proj" deploy prod --json
assert_eq "$(jq -r '.result, .restored, .restore_ran, .exit_status' <<<"$out" | tr '\n' ' ')" "restored true false 4 " \
  "result and restored agree"
pass "global options anywhere, help, version, did you mean, json exit_status, usage lines"
