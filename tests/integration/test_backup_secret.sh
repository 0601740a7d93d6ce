#!/usr/bin/env bash
# The database password (from the URL) reaches pg_dump and pg_restore only through a private
# password file: it appears in no byte of the archive (compressed or not), of stdout or of
# stderr (even with -v, which prints the child command lines), and the password file is gone
# afterwards. A wrong PGPASSWORD in the environment does not reach the children either.
source "$DD_SUPPORT/lib.sh"

secret='S3cr3t-pa55:word\x'
user=secret_user
new_db app >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -d app -c "create role $user login superuser password '$secret'" \
  -c "create table t as select g, md5(g::text) from generate_series(1, 1000) g" -c "alter database app owner to $user"
# password authentication for that role, so a missing password really fails
hba=$DD_PG_TMP/pg-main/data/pg_hba.conf
{ printf 'local all %s scram-sha-256\n' "$user"; cat "$hba"; } >"$hba.new"
cat "$hba.new" >"$hba"
psql -X -q -c "select pg_reload_conf()" >/dev/null
if PGPASSWORD=wrong psql -X -q -U "$user" -d app -c "select 1" >/dev/null 2>&1; then
  fail "the server accepts $user without the right password"
fi

enc=$(jq -rn --arg s "$secret" '$s|@uri')
url="postgresql://$user:$enc@/app?host=$PGHOST&port=$PGPORT"
proj=$PWD/proj
git_init "$proj"
write_env "$proj" prod "$url"
export TMPDIR=$PWD/tmp PGPASSWORD=wrong-password-from-env
mkdir -p "$TMPDIR"

logs=$PWD/logs
mkdir -p "$logs"
run() { # NAME ARGS...: run dbdeploy, keep stdout and stderr, require success
  local name=$1
  shift
  if ! "$DBDEPLOY_BIN" "$@" >"$logs/$name.out" 2>"$logs/$name.err"; then
    cat "$logs/$name.err" >&2
    fail "dbdeploy $* failed"
  fi
}
run backup -v -C "$proj" backup prod
archive=$(cat "$logs/backup.out")
run backups -v -C "$proj" --json backups prod
run verify -v -C "$proj" backup --verify "$archive"
psql -X -q -d app -c "insert into t values (-1, 'after')" 2>/dev/null || true
run restore -v -C "$proj" restore prod "$archive" --yes
run restore-json -C "$proj" --json restore prod latest --yes
assert_eq "$(PGPASSWORD=$secret psql -X -At -U "$user" -d app -c "select count(*) from t where g = -1")" "0" "restored"
assert_contains "$(cat "$logs/backup.err")" "running " "verbose output shows the child command"
assert_contains "$(cat "$logs/backup.err")" "$user:***@" "verbose output shows the masked URL"

zstd -dc "$archive" >"$PWD/archive.tar"
for f in "$archive" "$PWD/archive.tar" "$logs"/*; do
  if grep -aqF -e "$secret" -e "$enc" "$f"; then
    fail "the password appears in $f"
  fi
done
[[ -z $(ls -A "$TMPDIR") ]] || { ls -laR "$TMPDIR" >&2; fail "temporary files (a password file?) were left in TMPDIR"; }
pass "the password never leaves the password file"
