#!/usr/bin/env bash
# --wait DURATION: a command started while the database is down waits (one progress line) and
# goes on once the server accepts connections; when the time runs out it exits 3 with one clear
# error and a hint; a wrong password is not "not up yet" and fails at once; without --wait a
# stopped server fails at once with exit 1, as before.
source "$DD_SUPPORT/lib.sh"

now_ms() { date +%s%3N; }
assert_between() { (($1 >= $2 && $1 <= $3)) || fail "$4: $1 is not within [$2, $3]"; }

# a cluster of its own, which the test stops and starts; password authentication for 'app'
wurl=$(pg_start w)
wdir=$DD_PG_TMP/pg-w
sock=$wdir/sock
bindir=$(pg_bindir)
psql -X -q -d "$wurl" -c "CREATE ROLE app LOGIN PASSWORD 'Right-Pass-5150'" -c "CREATE DATABASE appdb OWNER app"
hba=$wdir/data/pg_hba.conf
{ echo "local all app scram-sha-256"; cat "$hba"; } >"$hba.new"
cat "$hba.new" >"$hba"
psql -X -q -d "$wurl" -c "SELECT pg_reload_conf()" >/dev/null
cluster_stop() { _pg_as_owner "$bindir/pg_ctl" -D "$wdir/data" -m fast -w -t 30 stop >/dev/null; }
cluster_start() {
  _pg_as_owner "$bindir/pg_ctl" -D "$wdir/data" -l "$wdir/server.log" -w -t 60 \
    -o "-k $sock -p 5432 -c listen_addresses='' -c fsync=off" start >/dev/null
}

proj=$PWD/proj
git_init "$proj"
write_env "$proj" prod "postgresql://app:Right-Pass-5150@/appdb?host=$sock&port=5432"
write_env "$proj" bad "postgresql://app:Wrong-Pass-6262@/appdb?host=$sock&port=5432"
mkdir -p "$proj/migrations"
echo 'CREATE TABLE t (id int);' >"$proj/migrations/0001_t.sql"
commit_all "$proj" "m"
expect_rc 0 -C "$proj" apply prod
pass "the database is reachable with the right password"

# 1. without --wait a stopped server fails at once, with the usual connection error (exit 1)
cluster_stop
t0=$(now_ms)
expect_rc 1 -C "$proj" status prod
assert_contains "$err" "cannot connect to" "the plain connection error"
assert_between $(($(now_ms) - t0)) 0 3000 "without --wait nothing waits"
pass "without --wait a stopped server fails at once"

# 2. started while the server is down, it waits and succeeds once the server is up (3 s later)
t0=$(now_ms)
"$DBDEPLOY_BIN" -C "$proj" status prod --wait 30s >"$PWD/w.out" 2>"$PWD/w.err" &
waiter=$!
sleep 3
kill -0 $waiter 2>/dev/null || fail "status --wait did not wait: $(cat "$PWD/w.err")"
cluster_start
set +e
wait $waiter
wrc=$?
set -e
took=$(($(now_ms) - t0))
[[ $wrc == 0 ]] || fail "status --wait exited $wrc: $(cat "$PWD/w.err")"
assert_contains "$(cat "$PWD/w.out")" "0001_t.sql" "the status after the wait"
assert_eq "$(grep -c 'waiting up to 30s for .* to accept connections' "$PWD/w.err")" 1 "one progress line"
assert_eq "$(wc -l <"$PWD/w.err" | tr -d ' ')" 1 "nothing else on stderr"
assert_not_contains "$(cat "$PWD/w.err")" "Right-Pass-5150" "the password is masked in the progress line"
assert_between "$took" 3000 15000 "waited for the server"
echo "status --wait 30s succeeded after ${took}ms (server started after 3s)"
pass "--wait waits for the server, then proceeds"

# 3. a short wait that runs out: exit 3, one error line and a hint, after about the wait
cluster_stop
t0=$(now_ms)
expect_rc 3 -C "$proj" --wait 2s status prod
took=$(($(now_ms) - t0))
assert_contains "$err" "error: postgresql://app:***@/appdb" "the masked url"
assert_contains "$err" "did not accept connections within 2s (--wait): no server answered" "the reason"
assert_contains "$err" "hint: Nothing was changed; start the database server" "the hint"
assert_eq "$(grep -c '^error:' <<<"$err")" 1 "one error line"
assert_not_contains "$err" "Right-Pass-5150" "no password"
assert_between "$took" 1900 5000 "gave up after the wait"
echo "--wait 2s gave up after ${took}ms"
pass "a wait that runs out exits 3 with a clear error"

# 4. a wrong password is not a server that is starting: it fails at once, not after 30 s
cluster_start
t0=$(now_ms)
expect_rc 1 -C "$proj" status bad --wait 30s
took=$(($(now_ms) - t0))
assert_contains "$err" "password authentication failed" "the authentication error"
assert_not_contains "$err" "waiting up to" "no waiting for an up server"
assert_not_contains "$err" "Wrong-Pass-6262" "no password"
assert_between "$took" 0 4000 "a wrong password fails at once"
pass "a wrong password fails at once with --wait"

# 5. bad values are usage errors; --wait works on every command that connects (deploy, apply)
expect_rc 2 -C "$proj" status prod --wait soon
assert_contains "$err" "option '--wait' expects a duration, not 'soon'" "bad duration"
expect_rc 2 -C "$proj" status prod --wait
assert_contains "$err" "option '--wait' needs a duration" "missing duration"
echo 'CREATE TABLE t2 (id int);' >"$proj/migrations/0002_t2.sql"
commit_all "$proj" "m2"
cluster_stop
"$DBDEPLOY_BIN" -C "$proj" apply prod --wait=30s >"$PWD/a.out" 2>"$PWD/a.err" &
waiter=$!
sleep 2
cluster_start
set +e
wait $waiter
wrc=$?
set -e
[[ $wrc == 0 ]] || fail "apply --wait exited $wrc: $(cat "$PWD/a.err")"
assert_eq "$(PGPASSWORD=Right-Pass-5150 psql -X -At -d "postgresql://app@/appdb?host=$sock&port=5432" -c "select to_regclass('t2') is not null")" t "applied after the wait"
pass "apply --wait=30s applies once the server is up"
