#!/usr/bin/env bash
# The recovery ladder undoes a failed deployment by the least destructive means while another
# session keeps writing to a table the deployment does not touch:
#   (i)   SQL error in the 3rd of 5, one transaction: rolled back, no restore, writer's rows kept, exit 4
#   (ii)  health-after fails, every migration has a down file: the downs run, writer's rows kept, exit 4
#   (iii) health-after fails, no down files: the backup is NOT restored (foreign writes), exit 5,
#         the writer's table is named; 'restore --discard-writes' then restores the archive exactly
#   (iv)  the same without a writer: the backup is restored, pg_dump equal to before, exit 4
source "$DD_SUPPORT/lib.sh"

url=$(new_db ladder)
start_stub health_ok 200
ok_port=$stub_port
proj=$PWD/proj
git_init "$proj"
printf '.dbdeploy/\n' >"$proj/.gitignore"
env_conf() { # HEALTH_PORT [extra lines]
  local port=$1
  shift
  write_env "$proj" prod "$url" "[health]" "url = http://127.0.0.1:$port/healthz" "timeout = 1s" "deadline = 2s" \
    "backoff = 100ms" "$@"
  commit_conf "$proj"
}
env_conf "$stub_port"
mkdir -p "$proj/migrations"
printf 'CREATE TABLE events (id bigserial PRIMARY KEY, note text);\nCREATE TABLE counter (n int);\nINSERT INTO counter VALUES (0);\n' \
  >"$proj/migrations/0000_app.up.sql"
commit_all "$proj" "app tables"
expect_rc 0 -C "$proj" deploy prod

# the writer: separate sessions inserting, updating and deleting, logging what committed
writer_log=$PWD/writer.log
start_writer() {
  : >"$writer_log"
  rm -f "$PWD/writer.stop"
  q "$url" "DELETE FROM events; UPDATE counter SET n = 0" >/dev/null
  (
    i=0
    while [[ ! -e $PWD/writer.stop ]]; do
      i=$((i + 1))
      id=$(psql -X -q -At -d "$url" -c "INSERT INTO events (note) VALUES ('w$i') RETURNING id") && echo "ins $id" >>"$writer_log"
      psql -X -q -At -d "$url" -c "UPDATE counter SET n = n + 1" >/dev/null && echo "upd" >>"$writer_log"
      if ((i % 3 == 0)); then
        psql -X -q -At -d "$url" -c "DELETE FROM events WHERE id = $id" >/dev/null && echo "del $id" >>"$writer_log"
      fi
    done
  ) &
  writer_pid=$!
  wait_for "$url" "select count(*) >= 3 from events"
}
stop_writer() {
  touch "$PWD/writer.stop"
  wait "$writer_pid"
}
check_writer() { # every write the writer committed is there
  local ins del upd
  ins=$(awk '$1 == "ins" {print $2}' "$writer_log" | sort)
  del=$(awk '$1 == "del" {print $2}' "$writer_log" | sort)
  upd=$(grep -c '^upd' "$writer_log")
  [[ $(wc -l <"$writer_log") -gt 5 ]] || fail "the writer committed too little to prove anything"
  assert_eq "$(q "$url" "select n from counter")" "$upd" "$1: every UPDATE of the writer is there"
  assert_eq "$(q "$url" "select string_agg(id::text, ' ' order by id) from events")" \
    "$(comm -23 <(echo "$ins") <(echo "$del") | sort -n | tr '\n' ' ' | sed 's/ $//')" "$1: every INSERT and DELETE of the writer is there"
}

# (i) one transaction, SQL error in the 3rd of 5
five_migrations "$proj"
printf 'CREATE TABLE t3 (id int);\nSELECT 1/0;\n' >"$proj/migrations/0003_t3.up.sql"
commit_all "$proj" "five, the third fails"
start_writer
expect_rc 4 -C "$proj" deploy prod
stop_writer
assert_contains "$err" "in one transaction; on failure: roll back the transaction" "the plan names the rung"
assert_contains "$err" "migrations/0003_t3.up.sql:2:1: division by zero" "error located"
assert_contains "$err" "transaction was rolled back" "says the transaction was rolled back"
assert_not_contains "$err" "restored from" "no backup restore"
assert_contains "$out" "the transaction was rolled back" "report"
assert_eq "$(q "$url" "select count(*) from dbdeploy.migrations where version > 0")" "0" "none of the five remains"
assert_eq "$(q "$url" "select to_regclass('t1') is null and to_regclass('t3') is null")" "t" "no table of the five"
assert_eq "$(q "$url" "select recovery from dbdeploy.deployments order by id desc limit 1")" "transaction" "recorded method"
check_writer "(i)"

# (ii) all five commit, health-after fails; every one has a down file
printf 'CREATE TABLE t3 (id int PRIMARY KEY, note text);\nINSERT INTO t3 VALUES (3, %s);\n' "'row 3'" >"$proj/migrations/0003_t3.up.sql"
commit_all "$proj" "third fixed"
start_stub flap_down 200 503
env_conf "$stub_port"
start_writer
expect_rc 4 -C "$proj" deploy prod
stop_writer
assert_contains "$err" "run the down files of 0001..0005" "the plan names the down files"
assert_contains "$err" "health-after" "health-after named"
assert_contains "$err" "down files" "says the downs ran"
assert_not_contains "$err" "restored from" "no backup restore"
assert_eq "$(q "$url" "select count(*) from dbdeploy.migrations where version > 0")" "0" "ledger rewound by the downs"
assert_eq "$(q "$url" "select to_regclass('t1') is null and to_regclass('t5') is null")" "t" "tables dropped by the downs"
assert_eq "$(q "$url" "select recovery from dbdeploy.deployments order by id desc limit 1")" "down" "recorded method"
check_writer "(ii)"

# (iii) no down files: a restore would discard the writer's rows, so none happens
rm "$proj"/migrations/000[1-5]_*.down.sql
commit_all "$proj" "no downs"
start_stub flap_nodown 200 503
env_conf "$stub_port"
start_writer
expect_rc 5 -C "$proj" --json deploy prod
stop_writer
assert_contains "$err" "not restored" "says not restored"
assert_contains "$err" "public.events" "names the writer's table"
assert_contains "$err" "--discard-writes" "gives the command that restores anyway"
assert_contains "$out" '"method":"refused"' "--json recovery method"
assert_contains "$out" '"table":"public.events"' "--json names the table"
assert_eq "$(q "$url" "select string_agg(version::text, ',' order by version) from dbdeploy.migrations")" "0,1,2,3,4,5" "left as it is"
assert_eq "$(q "$url" "select result, recovery from dbdeploy.deployments order by id desc limit 1")" "not-restored|refused" "recorded"
check_writer "(iii)"
archive=$(ls "$proj"/.dbdeploy/backups/prod/*.tar.zst | tail -1)
expect_rc 0 -C "$proj" restore prod "$archive" --yes --discard-writes
# the archive restored by hand (tar, zstd, pg_restore) into a scratch database is the reference
copy=$(new_db ladder_copy)
tar --zstd -xOf "$archive" dump | pg_restore -d "$copy" --no-owner --exit-on-error
dumpdb() { pg_dump --no-owner --no-privileges --restrict-key=dbdeploytest "$@" | grep -vE '^-- Dumped (from|by)'; }
# the deployment recorded after the backup is carried across and the restore records itself;
# apart from those ledger rows the database is the archive
in_archive=$(q "$copy" "select max(id) from dbdeploy.deployments")
assert_eq "$(q "$url" "select string_agg(result || '/' || coalesce(kind, 'deploy'), ',' order by id) from dbdeploy.deployments where id > $in_archive")" \
  "not-restored/deploy,restored/restore" "history carried and the restore recorded"
q "$url" "DELETE FROM dbdeploy.deployments WHERE id > $in_archive; SELECT setval('dbdeploy.deployments_id_seq', $in_archive)" >/dev/null
diff -u <(dumpdb -d "$copy") <(dumpdb -d "$url") >&2 || fail "the restore differs from the archive"

# (iv) nobody else writes: the backup is restored, exactly as before
start_stub flap_alone 200 503
env_conf "$stub_port"
assert_eq "$(q "$url" "select string_agg(version::text, ',') from dbdeploy.migrations")" "0" "the restore rewound the ledger"
dumpdb --exclude-table-data='dbdeploy.deployment*' -d "$url" >"$PWD/before.sql"
expect_rc 4 -C "$proj" deploy prod
assert_contains "$err" "The database was restored from" "backup restored"
dumpdb --exclude-table-data='dbdeploy.deployment*' -d "$url" >"$PWD/after.sql"
diff -u "$PWD/before.sql" "$PWD/after.sql" >&2 || fail "prod differs from its pre-deploy dump"
assert_eq "$(q "$url" "select recovery from dbdeploy.deployments order by id desc limit 1")" "backup" "recorded method"

# (v) one row written by another session a few seconds before the failure (the file sleeps 5 s so
# that a loaded machine keeps the order) is enough to refuse;
# a restore of that archive then needs --discard-writes
env_conf "$ok_port" "[apply]" "transaction = per-migration"
rm -f "$proj"/migrations/000[2-5]_*
printf 'CREATE TABLE slow (id int);\nSELECT pg_sleep(5);\nSELECT 1/0;\n' >"$proj/migrations/0002_slow.up.sql"
commit_all "$proj" "the second fails after a while"
for write in "INSERT INTO events (note) VALUES ('one')" "UPDATE counter SET n = n + 1" "DELETE FROM events WHERE id = (SELECT min(id) FROM events)"; do
  "$DBDEPLOY_BIN" -C "$proj" deploy prod >"$PWD/v.out" 2>"$PWD/v.err" &
  dpid=$!
  for _ in $(seq 1 150); do
    [[ $(q "$url" "select exists (select 1 from pg_stat_activity where pid <> pg_backend_pid() and query like '%pg_sleep(5)%' and state = 'active')") == t ]] && break
    kill -0 "$dpid" 2>/dev/null || fail "the deploy ended early: $(cat "$PWD/v.err")"
    sleep 0.1
  done
  sleep 1
  q "$url" "$write" >/dev/null
  rc=0
  wait "$dpid" || rc=$?
  err=$(cat "$PWD/v.err")
  assert_eq "$rc" "5" "one row ($write): exit 5"
  assert_contains "$err" "not restored: 1 transaction of other sessions committed after the backup" "one row ($write): refused"
  assert_eq "$(q "$url" "select to_regclass('t1') is not null")" "t" "one row ($write): left as it is"
  expect_rc 3 -C "$proj" restore prod latest --yes
  assert_contains "$err" "--discard-writes" "a plain restore of that archive is refused"
  expect_rc 0 -C "$proj" restore prod latest --yes --discard-writes
done
assert_contains "$(cat "$proj/changelog/prod/CHANGELOG.md")" "Recovery: NOT restored" "changelog names the method"
pass "transaction rollback, down files, refused restore with foreign writes, backup restore without"
