#!/usr/bin/env bash
# Restores that must not happen: a corrupt archive, a truncated one, an archive of another
# environment or database, no confirmation, a pg_restore too old for the dump, and a pg_restore
# that fails halfway. Each exits non-zero with the cause, changes nothing in the database and
# leaves no side database behind. --force and a confirmed prompt do restore.
source "$DD_SUPPORT/lib.sh"

prod_url=$(new_db app)
staging_url=$(new_db app_staging)
for u in "$prod_url" "$staging_url"; do
  psql -X -q -v ON_ERROR_STOP=1 -d "$u" -c "create table t as select g as id, md5(g::text) as h
    from generate_series(1, 200000) g" -c "create sequence s" -c "select setval('s', 42)"
done
psql -X -q -v ON_ERROR_STOP=1 -d "$staging_url" -c "insert into t values (-1, 'only in staging')"
proj=$PWD/proj
git_init "$proj"
write_env "$proj" prod "$prod_url"
write_env "$proj" staging "$staging_url"
expect_rc 0 -C "$proj" backup prod
good=$out
expect_rc 0 -C "$proj" backup staging
staging_archive=$out

# the database changes after the backup; a refused restore must leave it like this
psql -X -q -v ON_ERROR_STOP=1 -d "$prod_url" -c "create table after_backup (x int)" -c "delete from t where id < 100"
current=$(dump "$prod_url")

unchanged() { # WHAT
  [[ "$(dump "$prod_url")" == "$current" ]] || fail "$1: the database changed"
  assert_eq "$(q "$prod_url" "select count(*) from pg_database where datname like '%dbdeploy%'")" "0" \
    "$1: no side database left"
}

# a corrupt archive: bytes flipped in the middle
corrupt=$PWD/corrupt.tar.zst
cp "$good" "$corrupt"
size=$(stat -c %s "$corrupt")
printf '\xde\xad\xbe\xef\xde\xad\xbe\xef' | command dd of="$corrupt" bs=1 seek=$((size / 2)) conv=notrunc status=none
expect_rc 2 -C "$proj" backup --verify "$corrupt"
assert_contains "$err" "error: '$corrupt'" "verify names the damaged archive"
expect_rc 3 -C "$proj" restore prod "$corrupt" --yes
assert_contains "$err" "'$corrupt'" "restore names the damaged archive"
assert_contains "$err" "hint: Nothing was changed." "corrupt archive hint"
unchanged "corrupt archive"

# a truncated archive: the first 60%
truncated=$PWD/truncated.tar.zst
head -c $((size * 6 / 10)) "$good" >"$truncated"
expect_rc 2 -C "$proj" backup --verify "$truncated"
assert_contains "$err" "truncated" "verify says truncated"
expect_rc 3 -C "$proj" restore prod "$truncated" --yes
assert_contains "$err" "truncated" "restore says truncated"
unchanged "truncated archive"

# an archive cut right after its header: refused on the header's promise alone
headonly=$PWD/headonly.tar.zst
mkdir -p "$PWD/x"
(cd "$PWD/x" && zstd -dc "$good" | tar -xf - header.json && tar -cf - header.json | zstd -q >"$headonly")
expect_rc 3 -C "$proj" restore prod "$headonly" --yes
assert_contains "$err" "without manifest.json: it is truncated" "header-only archive"
unchanged "header-only archive"

# an archive of another environment, and of another database
expect_rc 3 -C "$proj" restore prod "$staging_archive" --yes
assert_contains "$err" "error: the archive is a backup of environment 'staging', not 'prod'" "wrong env"
assert_contains "$err" "hint: Pass --force" "wrong env hint"
unchanged "wrong environment"
expect_rc 3 -C "$proj" restore staging "$good" --yes
assert_contains "$err" "backup of environment 'prod', not 'staging'" "wrong env the other way"
staging_now=$(dump "$staging_url")
write_env "$proj" prod "$staging_url" # prod pointed at another database
expect_rc 3 -C "$proj" restore prod "$good" --yes
assert_contains "$err" "the archive is a backup of database 'app', but prod uses database 'app_staging'" "wrong db"
[[ "$(dump "$staging_url")" == "$staging_now" ]] || fail "wrong database: the database changed"
write_env "$proj" prod "$prod_url"
unchanged "wrong database"

# no terminal and no --yes: refused; a terminal that does not confirm: refused
expect_rc 3 -C "$proj" restore prod "$good" </dev/null
assert_contains "$err" "standard input is not a terminal" "no tty"
assert_contains "$err" "hint: Pass --yes" "no tty hint"
unchanged "no confirmation"
if command -v script >/dev/null; then
  printf 'no\n' | script -qec "'$DBDEPLOY_BIN' -C '$proj' restore prod '$good'; echo \"rc=\$?\"" /dev/null >"$PWD/tty.txt" || true
  assert_contains "$(cat "$PWD/tty.txt")" "type 'prod' to go ahead" "prompt shown on a terminal"
  assert_contains "$(cat "$PWD/tty.txt")" "rc=3" "declined prompt exit status"
  unchanged "declined prompt"
fi

# pg_restore too old for the dump
bin=$PWD/bin
mkdir -p "$bin"
printf '#!/bin/sh\nif [ "$1" = --version ]; then echo "pg_restore (PostgreSQL) 9.6.24"; exit 0; fi\nexec pg_restore "$@"\n' \
  >"$bin/old_pg_restore"
chmod +x "$bin/old_pg_restore"
write_env "$proj" prod "$prod_url" '[backup]' "	pg-restore = $bin/old_pg_restore"
expect_rc 3 -C "$proj" restore prod "$good" --yes
assert_contains "$err" "pg_restore 9.6.24 ('$bin/old_pg_restore') cannot read a dump made by pg_dump 15." "old pg_restore"
unchanged "old pg_restore"

# pg_restore failing halfway (a role the dump needs does not exist in this cluster)
other=$(pg_start other)
psql -X -q -v ON_ERROR_STOP=1 -d "$other" -c "create role only_there" \
  -c "create table owned (x int)" -c "alter table owned owner to only_there" -c "insert into owned values (1)"
write_env "$proj" other "$other"
expect_rc 0 -C "$proj" backup other
foreign=$out
write_env "$proj" prod "$prod_url"
expect_rc 1 -C "$proj" restore prod "$foreign" --yes --force
assert_contains "$err" "role \"only_there\" does not exist" "pg_restore's own error"
assert_contains "$err" "(the database was not changed)" "failure context"
unchanged "pg_restore failure"

# what is allowed does happen: --force restores another environment's archive
expect_rc 0 -C "$proj" restore prod "$staging_archive" --yes --force
assert_eq "$(q "$prod_url" "select h from t where id = -1")" "only in staging" "forced restore"
# and a confirmed prompt restores
if command -v script >/dev/null; then
  printf 'prod\n' | script -qec "'$DBDEPLOY_BIN' -C '$proj' restore prod '$good'; echo \"rc=\$?\"" /dev/null >"$PWD/tty.txt" || true
  assert_contains "$(cat "$PWD/tty.txt")" "rc=0" "confirmed prompt exit status"
  assert_eq "$(q "$prod_url" "select count(*) from t where id = -1")" "0" "confirmed restore"
fi
pass "refused restores change nothing"
