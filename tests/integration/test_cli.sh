#!/usr/bin/env bash
# The command line itself: --help for every command, --version, usage errors (exit 2), config
# errors naming file/section/key, the password never printed, init and new.
source "$DD_SUPPORT/lib.sh"

expect_rc 0 --version
[[ "$out" =~ ^dbdeploy\ [0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "--version prints 'dbdeploy X.Y.Z', got '$out'"
expect_rc 0 --help
assert_contains "$out" "exit status: 0 success" "main help documents exit codes"
# every command in the help answers --help with its own usage
cmds=$(sed -n '/^commands:/,/^$/p' <<<"$out" | awk '/^  [a-z]/ {print $1}')
[[ $(wc -w <<<"$cmds") -ge 6 ]] || fail "too few commands listed: $cmds"
for c in $cmds; do
  expect_rc 0 "$c" --help
  assert_contains "$out" "usage: dbdeploy $c" "$c --help"
  assert_contains "$out" "-h, --help" "$c --help lists options"
done

expect_rc 2 frobnicate
assert_contains "$err" "error: 'frobnicate' is not a dbdeploy command, nor an environment (no pipeline/frobnicate.conf)" "unknown command"
expect_rc 2 --frob status
assert_contains "$err" "unknown global option '--frob'" "unknown global option"
expect_rc 2 status
assert_contains "$err" "'status' needs ENV" "missing argument"
expect_rc 2 status dev --bogus
assert_contains "$err" "unknown option '--bogus'" "unknown option"
assert_contains "$err" "hint: Run 'dbdeploy status --help'" "hint names --help"
expect_rc 2 rollback dev --steps=x
assert_contains "$err" "option '--steps' expects a non-negative number, not 'x'" "bad number"
expect_rc 2 -C /nonexistent status dev
assert_contains "$err" "cannot use directory '/nonexistent'" "bad -C"

# init scaffolds a commented, working skeleton and never overwrites
proj=$PWD/proj
git_init "$proj"
expect_rc 0 -C "$proj" init
assert_contains "$out" "created  pipeline/prod.conf" "init creates env files"
for f in pipeline/dbdeploy.conf pipeline/dev.conf pipeline/staging.conf pipeline/prod.conf migrations/README.md; do
  [[ -f "$proj/$f" ]] || fail "init did not create $f"
done
grep -q '^# ' "$proj/pipeline/prod.conf" || fail "prod.conf has no comments"
grep -qx '.dbdeploy/' "$proj/.gitignore" || fail ".gitignore does not ignore .dbdeploy/"
echo "# mine" >>"$proj/pipeline/dev.conf"
expect_rc 0 -C "$proj" init
assert_contains "$out" "exists   pipeline/dev.conf (left alone)" "second init leaves files alone"
grep -q '# mine' "$proj/pipeline/dev.conf" || fail "init overwrote dev.conf"
[[ $(grep -c '.dbdeploy/' "$proj/.gitignore") == 1 ]] || fail ".gitignore entry duplicated"

# every generated environment file is valid configuration (backups needs the config only)
for env in dev staging prod; do
  STAGING_DB_PASSWORD=x PROD_DB_PASSWORD=y expect_rc 0 -C "$proj" backups "$env"
done

# new: next version, padded to the width in use, both files
expect_rc 0 -C "$proj" new "Create users table"
assert_eq "$out" $'migrations/0001_create_users_table.up.sql\nmigrations/0001_create_users_table.down.sql' "first new"
echo 'CREATE TABLE users (id int);' >"$proj/migrations/0001_create_users_table.up.sql"
touch "$proj/migrations/000009_x.up.sql"
expect_rc 0 -C "$proj" new add-orders
assert_eq "$out" $'migrations/000010_add_orders.up.sql\nmigrations/000010_add_orders.down.sql' "width follows the newest"
rm "$proj"/migrations/0000*
touch "$proj/migrations/20240101120000_init.sql"
expect_rc 0 -C "$proj" --json new seed
v=$(jq -r .version <<<"$out")
[[ "$v" =~ ^20[0-9]{12}$ && "$v" > 20240101120000 ]] || fail "timestamp version expected, got $v"
assert_eq "$(jq -r '.files | length' <<<"$out")" "1" "plain set gets a plain file"
expect_rc 2 -C "$proj" new '!!!'
assert_contains "$err" "has no letters or digits" "bad name"

# config errors name file, section and key; exit 2
cfgp=$PWD/cfg
mkdir -p "$cfgp/pipeline" "$cfgp/migrations"
printf '[database]\n\turl = postgresql:///x\n\tlock-wiat = 5s\n' >"$cfgp/pipeline/prod.conf"
expect_rc 2 -C "$cfgp" status prod
assert_contains "$err" "error: pipeline/prod.conf: [database] lock-wiat: unknown setting" "unknown key"
printf '[database]\n\turl = postgresql:///x\n\tlock-wait = soon\n' >"$cfgp/pipeline/prod.conf"
expect_rc 2 -C "$cfgp" status prod
assert_contains "$err" "error: pipeline/prod.conf: [database] lock-wait: 'soon' is not a duration" "bad value"
expect_rc 2 -C "$cfgp" status staging
assert_contains "$err" "environment 'staging' is not defined" "undefined env"
assert_contains "$err" "Defined environments: prod." "lists envs"

# no url anywhere: an error once a command needs the database
printf '[git]\n\tallow-dirty = true\n' >"$cfgp/pipeline/nourl.conf"
(unset DATABASE_URL; expect_rc 2 -C "$cfgp" status nourl; assert_contains "$err" "pipeline/nourl.conf: [database] url is not set and DATABASE_URL is empty" "no url")

# the password never shows, even when the connection fails
export DD_TEST_PW='Pa55-w0rd-xyz'
printf '[database]\n\turl = postgresql://app:${DD_TEST_PW}@127.0.0.1:1/nodb\n[git]\n\tallow-dirty = true\n' >"$cfgp/pipeline/prod.conf"
expect_rc 1 -C "$cfgp" status prod
assert_contains "$err" "cannot connect to postgresql://app:***@127.0.0.1:1/nodb" "masked URL in the error"
assert_not_contains "$err$out" "$DD_TEST_PW" "password never printed"
expect_rc 1 -C "$cfgp" --json -v status prod
assert_not_contains "$err$out" "$DD_TEST_PW" "password never printed with -v/--json"
# with --json a failure still prints one document on stdout
expect_rc 2 -C "$cfgp" --json status staging
assert_eq "$(jq -r '.command, .exit_status' <<<"$out" | tr '\n' ' ')" "status 2 " "json error document"
assert_contains "$(jq -r .error.message <<<"$out")" "environment 'staging' is not defined" "json error message"
assert_contains "$(jq -r .error.hint <<<"$out")" "Defined environments" "json error hint"

# colour: never when stderr is not a terminal, --color=always forces it, NO_COLOR always wins
expect_rc 2 frobnicate
assert_not_contains "$err" $'\033[' "no colour off a terminal"
(unset NO_COLOR; expect_rc 2 --color=always frobnicate; assert_contains "$err" $'\033[31merror:' "forced colour")
(export NO_COLOR=1; expect_rc 2 --color=always frobnicate; assert_not_contains "$err" $'\033[' "NO_COLOR wins")
if command -v script >/dev/null; then
  tty_err=$(unset NO_COLOR; TERM=xterm script -qec "$DBDEPLOY_BIN frobnicate" /dev/null 2>&1 || true)
  assert_contains "$tty_err" $'\033[31merror:' "colour on a terminal"
  tty_err=$(TERM=xterm NO_COLOR=1 script -qec "$DBDEPLOY_BIN frobnicate" /dev/null 2>&1 || true)
  assert_not_contains "$tty_err" $'\033[' "NO_COLOR on a terminal"
fi
pass "help, usage errors, config errors, init, new, masking, colour"
