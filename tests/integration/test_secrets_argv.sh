#!/usr/bin/env bash
# Secrets that used to get through: a conninfo with spaces around '=' ("password = x"), a URL
# password with '?' and '#' (percent-encoded; the decoded form is what libpq uses), and
# sslpassword, which was printed by -v and sat on pg_dump's and pg_restore's argv (readable by
# every user in /proc/PID/cmdline). No secret may appear in any output or on any child's argv.
source "$DD_SUPPORT/lib.sh"

user=argv_user
pw='Hunter2Secret'
qpw='Qm?Pass#W0rd'
sslpw='SslPw-S3cret'
new_db app >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -d app -c "create role $user login superuser password '$pw'" \
  -c "create role ${user}2 login superuser password '$qpw'" -c "create table t as select 1 as x"
hba=$DD_PG_TMP/pg-main/data/pg_hba.conf
{ printf 'local all %s scram-sha-256\nlocal all %s2 scram-sha-256\n' "$user" "$user"; cat "$hba"; } >"$hba.new"
cat "$hba.new" >"$hba"
psql -X -q -c "select pg_reload_conf()" >/dev/null

# a pg_dump / pg_restore wrapper that records its argv exactly as /proc/<pid>/cmdline shows it
mkdir -p bin logs
for tool in pg_dump pg_restore; do
  cat >"bin/$tool" <<SH
#!/bin/sh
tr '\0' ' ' </proc/\$\$/cmdline >>"$PWD/logs/$tool.cmdline"
echo >>"$PWD/logs/$tool.cmdline"
exec "$(command -v $tool)" "\$@"
SH
  chmod +x "bin/$tool"
done

proj=$PWD/proj
git_init "$proj"
mkdir -p "$proj/migrations"
echo 'CREATE TABLE m (id int);' >"$proj/migrations/0001_m.sql"
write_env "$proj" spaces "host=$PGHOST port=$PGPORT user=$user password = $pw dbname=app sslpassword = $sslpw" \
  "[backup]" "pg-dump = $PWD/bin/pg_dump" "pg-restore = $PWD/bin/pg_restore"
enc=$(jq -rn --arg s "$qpw" '$s|@uri')
write_env "$proj" query "postgresql://${user}2:$enc@/app?host=$PGHOST&port=$PGPORT&sslpassword=$sslpw" \
  "[backup]" "pg-dump = $PWD/bin/pg_dump" "pg-restore = $PWD/bin/pg_restore"
commit_all "$proj" "envs"

n=0
for env in spaces query; do
  for args in "-v status $env" "--json -v status $env" "-v backup $env" "-v deploy $env" "-v backup $env"; do
    n=$((n + 1))
    # shellcheck disable=SC2086
    run_dd -C "$proj" $args
    printf '%s\n%s\n' "$out" "$err" >"logs/run$n.txt"
    [[ "$rc" == 0 ]] || { cat "logs/run$n.txt" >&2; fail "dbdeploy $args exited $rc"; }
  done
  run_dd -C "$proj" -v restore "$env" latest --yes
  printf '%s\n%s\n' "$out" "$err" >"logs/restore-$env.txt"
  [[ "$rc" == 0 ]] || { cat "logs/restore-$env.txt" >&2; fail "restore $env exited $rc"; }
done
grep -q -- '--dbname' logs/pg_dump.cmdline || fail "the pg_dump wrapper did not run"
grep -q -- '--dbname' logs/pg_restore.cmdline || fail "the pg_restore wrapper did not run"
for f in logs/* "$proj"/changelog/*/*; do
  if grep -aqF -e "$pw" -e "$qpw" -e "$enc" -e "$sslpw" "$f"; then
    grep -aF -e "$pw" -e "$qpw" -e "$enc" -e "$sslpw" "$f" >&2
    fail "a secret appears in $f"
  fi
done
pass "no secret in any output or on any child's command line"
