#!/usr/bin/env bash
# Database URLs libpq would misread are refused when the configuration loads (exit 2, naming
# the file and setting, with a hint), before anything connects: other schemes, a missing '://',
# a bare word, and passwords with unencoded reserved characters, whose pieces libpq would quote
# in its errors ("could not translate host name "ss@127.0.0.1""). No fragment of the password
# is ever printed, on any output, in any format.
source "$DD_SUPPORT/lib.sh"

url=$(new_db urls)
proj=$PWD/proj
git_init "$proj"
mkdir -p "$proj/migrations"
echo 'CREATE TABLE t (id int);' >"$proj/migrations/0001_t.sql"
write_env "$proj" dev "$url"
commit_all "$proj" "one migration"

check() { # URL EXPECTED-MESSAGE HINT-WORDS FRAGMENT...
  local bad=$1 msg=$2 hint=$3 args
  shift 3
  write_env "$proj" dev "$bad"
  commit_conf "$proj" # deploy reads the committed configuration
  for args in "status dev" "--json -v apply dev" "-v deploy dev"; do
    # shellcheck disable=SC2086
    expect_rc 2 -C "$proj" $args
    assert_contains "$err$out" "pipeline/dev.conf: [database] url: $msg" "$bad: names the setting ($args)"
    assert_contains "$err$out" "$hint" "$bad: hint ($args)"
    for f in "$@"; do
      assert_not_contains "$err$out" "$f" "$bad: password fragment ($args)"
    done
  done
  assert_eq "$(q "$url" "select to_regclass('t') is null")" "t" "$bad: nothing ran"
}

check "mysql://localhost/db" "'mysql://' is not a PostgreSQL URL" "postgres://user@host:5432/dbname"
check "postgres//localhost/db" "not a postgres:// or postgresql:// URL, nor key=value conninfo" "key=value conninfo"
check "urls" "not a postgres:// or postgresql:// URL, nor key=value conninfo" "key=value conninfo"
check "postgres://u:Pw9x@Zq7k@127.0.0.1/urls" "the user name or password contains an unencoded '@'" \
  "'@' as %40" "Pw9x" "Zq7k" "Pw9x@Zq7k"
# (quoted: an unquoted '#' starts a comment in git-config syntax; then the port check catches it)
check '"postgres://u:Pw9x#Zq7k@127.0.0.1/urls"' "the user name or password contains an unencoded '#'" \
  "'#' as %23" "Pw9x" "Zq7k"
check "postgres://u:Pw9x#Zq7k@127.0.0.1/urls" "the port after the host is not a number" "'#' as %23" "Pw9x" "Zq7k"
check "postgres://u:Pw9x/Zq7k@127.0.0.1/urls" "the port after the host is not a number" "'/' as %2F" "Pw9x" "Zq7k"
check "host=$PGHOST dbname=urls password=Pw9x Zq7k" "conninfo is key=value pairs" "single quotes" "Pw9x" "Zq7k"

# DATABASE_URL is checked the same way when the file has no url
write_env "$proj" dev ""
DATABASE_URL="postgres://u:Pw9x@Zq7k@127.0.0.1/urls" expect_rc 2 -C "$proj" status dev
assert_contains "$err" "DATABASE_URL: the user name or password contains an unencoded '@'" "DATABASE_URL named"
assert_not_contains "$err$out" "Zq7k" "DATABASE_URL fragment"

# percent-encoded, the same password works (the role exists with it)
q "$url" "create role hyg login password 'Pw9x@Zq7k'" >/dev/null
write_env "$proj" dev "postgresql://hyg:Pw9x%40Zq7k@/urls?host=$PGHOST&port=$PGPORT"
q "$url" "grant all on schema public to hyg; grant create on database urls to hyg" >/dev/null
expect_rc 0 -C "$proj" apply dev
assert_not_contains "$err$out" "Zq7k" "no fragment on success"
assert_eq "$(q "$url" "select to_regclass('t') is not null")" "t" "applied with the encoded password"
pass "bad database URLs refused with exit 2, no password fragment shown"
