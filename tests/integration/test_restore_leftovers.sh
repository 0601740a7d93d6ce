#!/usr/bin/env bash
# What a killed run leaves is swept by the next command on that environment, which says so:
# SIGKILL during a backup leaves a password file (with the password) and a partial archive;
# SIGKILL during a restore's pg_restore leaves a password file and a half-loaded side database.
source "$DD_SUPPORT/lib.sh"

secret='Sw33p-me'
user=sweep_user
new_db app >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -d app -c "create role $user login superuser password '$secret'" \
  -c "create table t as select g from generate_series(1, 100) g" -c "alter database app owner to $user"
url="postgresql://$user:$secret@/app?host=$PGHOST&port=$PGPORT"
proj=$PWD/proj
git_init "$proj"
bin=$PWD/bin
mkdir -p "$bin"
# pg_dump / pg_restore that stop (after saying so) before doing their work, so dbdeploy can be
# killed while they run
for tool in pg_dump pg_restore; do
  cat >"$bin/slow_$tool" <<SH
#!/bin/sh
[ "\$1" = --version ] && exec $tool --version
echo \$\$ >"$PWD/$tool.pid"
sleep 30
exec $tool "\$@"
SH
  chmod +x "$bin/slow_$tool"
done
write_env "$proj" dev "$url"
expect_rc 0 -C "$proj" backup dev
archive=$(ls "$proj"/.dbdeploy/backups/dev/*.tar.zst | tail -1)
write_env "$proj" dev "$url" "[backup]" "pg-dump = $bin/slow_pg_dump" "pg-restore = $bin/slow_pg_restore"
tmp=$proj/.dbdeploy/backups/.tmp

kill_when_started() { # TOOL PID: wait for the slow tool to start, then SIGKILL dbdeploy and it
  local _
  for _ in $(seq 1 300); do [[ -s "$PWD/$1.pid" ]] && break; sleep 0.1; done
  [[ -s "$PWD/$1.pid" ]] || fail "$1 never started"
  kill -KILL "$2"
  wait "$2" 2>/dev/null || true
  kill -KILL "$(cat "$PWD/$1.pid")" 2>/dev/null || true
  rm -f "$PWD/$1.pid"
}

# 1. killed during a backup
"$DBDEPLOY_BIN" -C "$proj" backup dev >/dev/null 2>&1 &
kill_when_started pg_dump $!
[[ "$(stat -c %a "$tmp")" == 700 ]] || fail "$tmp is not 0700"
passfile=$(ls "$tmp"/pg-*/pgpass)
grep -q "$secret" "$passfile" || fail "the killed run's password file does not hold the password (test setup)"
partial=$(ls -A "$proj/.dbdeploy/backups/dev" | grep '\.tmp-' || true)
[[ -n $partial ]] || fail "no partial archive left by the killed backup (test setup)"
expect_rc 0 -C "$proj" status dev
assert_contains "$err" "removed the password file of a killed dbdeploy" "passfile sweep reported"
assert_contains "$err" "removed the partial archive" "partial archive sweep reported"
[[ -z $(ls -A "$tmp") ]] || fail "password file left: $(ls -A "$tmp")"
[[ -z $(ls -A "$proj/.dbdeploy/backups/dev" | grep '\.tmp-' || true) ]] || fail "partial archive left"
expect_rc 0 -C "$proj" status dev
assert_not_contains "$err" "removed" "nothing left to sweep"
pass "killed backup swept"

# 2. killed during a restore's pg_restore: the side database is in state 'loading'
"$DBDEPLOY_BIN" -C "$proj" restore dev "$archive" --yes >/dev/null 2>&1 &
kill_when_started pg_restore $!
assert_eq "$(q postgres "select count(*) from pg_database where datname like 'app\\_dbdeploy\\_new\\_%' and shobj_description(oid, 'pg_database') like '%role=new; state=loading%'")" "1" "a marked side database is left"
[[ -n $(ls -A "$tmp") ]] || fail "no password file left by the killed restore (test setup)"
expect_rc 0 -C "$proj" status dev
assert_contains "$err" "removed the password file of a killed dbdeploy" "passfile sweep reported"
assert_contains "$err" "was killed before it switched" "side database sweep reported"
assert_eq "$(q postgres "select count(*) from pg_database where datname like 'app\\_dbdeploy\\_%'")" "0" "side database dropped"
[[ -z $(ls -A "$tmp") ]] || fail "password file left: $(ls -A "$tmp")"
assert_eq "$(q "$url" "select count(*) from t")" "100" "app untouched"
pass "killed restore swept"

# 3. a live run's files are not touched: a password file of a running process stays
mkdir -p "$tmp/pg-$$.keepme"
expect_rc 0 -C "$proj" status dev
[[ -d "$tmp/pg-$$.keepme" ]] || fail "the sweep removed a live process's directory"
rmdir "$tmp/pg-$$.keepme"
pass "live files kept"
