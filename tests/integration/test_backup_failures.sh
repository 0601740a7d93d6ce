#!/usr/bin/env bash
# Every way a backup fails — pg_dump missing, too old, failing, killed midway, an unwritable
# directory, a file-size limit, an interrupt — exits non-zero with the cause, leaves no archive
# and no temporary file, and changes nothing in the database.
source "$DD_SUPPORT/lib.sh"

url=$(new_db app)
# about 25 MB of dump: failures happen after several parts were already written
psql -X -q -v ON_ERROR_STOP=1 -d "$url" -c "create table big as select g as id,
  md5(g::text) || md5((g * 7)::text) as h, decode(md5(g::text), 'hex') as b from generate_series(1, 250000) g"
proj=$PWD/proj
git_init "$proj"
write_env "$proj" prod "$url"
envdir=$proj/.dbdeploy/backups/prod
before=$(dump "$url")
bin=$PWD/bin
mkdir -p "$bin"

# nothing_left WHAT: no archive, no temporary file, the database as it was
nothing_left() {
  if [[ -d $envdir && -n $(ls -A "$envdir") ]]; then
    ls -la "$envdir" >&2
    fail "$1: files were left in $envdir"
  fi
  [[ "$(dump "$url")" == "$before" ]] || fail "$1: the database changed"
}

# run_env VAR=value... -- ARGS: dbdeploy with a changed environment; sets $out, $err, $rc
run_env() {
  local vars=()
  while [[ $1 != -- ]]; do vars+=("$1"); shift; done
  shift
  set +e
  out=$(env "${vars[@]}" "$DBDEPLOY_BIN" "$@" 2>"$PWD/stderr.txt")
  rc=$?
  set -e
  err=$(cat "$PWD/stderr.txt")
}

with_pg_dump() { # PROGRAM: use it as [backup] pg-dump
  write_env "$proj" prod "$url" '[backup]' "	pg-dump = $1"
}

# pg_dump not on PATH
run_env PATH=/nonexistent -- -C "$proj" backup prod
assert_eq "$rc" "1" "missing pg_dump exit status"
assert_contains "$err" "error: cannot run 'pg_dump': not found on PATH" "missing pg_dump message"
assert_contains "$err" "hint: Install the PostgreSQL client programs" "missing pg_dump hint"
nothing_left "pg_dump missing"

# a pg_dump older than the server is refused before anything is written
cat >"$bin/old_pg_dump" <<'SH'
#!/bin/sh
if [ "$1" = --version ]; then echo "pg_dump (PostgreSQL) 9.6.24"; exit 0; fi
exec pg_dump "$@"
SH
chmod +x "$bin/old_pg_dump"
with_pg_dump "$bin/old_pg_dump"
expect_rc 2 -C "$proj" backup prod
assert_contains "$err" "pg_dump 9.6.24 ('$bin/old_pg_dump') is older than the server (PostgreSQL 15." "old pg_dump"
assert_contains "$err" "hint: Install pg_dump 15 or newer" "old pg_dump hint"
nothing_left "old pg_dump"

# pg_dump fails with an error of its own: its stderr is quoted
cat >"$bin/failing_pg_dump" <<'SH'
#!/bin/sh
if [ "$1" = --version ]; then exec pg_dump --version; fi
exec pg_dump "$@" --table=no_such_table
SH
chmod +x "$bin/failing_pg_dump"
with_pg_dump "$bin/failing_pg_dump"
expect_rc 1 -C "$proj" backup prod
assert_contains "$err" "exited with status 1: pg_dump: error: no matching tables were found" "pg_dump's own error"
assert_contains "$err" "while backing up database 'app' of prod" "context line"
nothing_left "pg_dump failing"

# pg_dump killed midway, after two parts were written
cat >"$bin/killed_pg_dump" <<'SH'
#!/bin/bash
if [[ $1 == --version ]]; then exec pg_dump --version; fi
pg_dump "$@" | head -c 9000000
kill -KILL $$
SH
chmod +x "$bin/killed_pg_dump"
with_pg_dump "$bin/killed_pg_dump"
expect_rc 1 -C "$proj" backup prod
assert_contains "$err" "error: killed_pg_dump was killed by signal 9" "killed pg_dump"
nothing_left "pg_dump killed"

# dbdeploy itself interrupted midway (SIGTERM) cleans up too
cat >"$bin/slow_pg_dump" <<'SH'
#!/bin/bash
if [[ $1 == --version ]]; then exec pg_dump --version; fi
pg_dump "$@" | { head -c 6000000; exec sleep 5; }
SH
chmod +x "$bin/slow_pg_dump"
with_pg_dump "$bin/slow_pg_dump"
"$DBDEPLOY_BIN" -C "$proj" backup prod >/dev/null 2>"$PWD/stderr.txt" &
pid=$!
for _ in $(seq 100); do
  [[ -n $(find "$envdir" -name '.*.tmp-*' -size +100k 2>/dev/null) ]] && break
  sleep 0.1
done
[[ -n $(find "$envdir" -name '.*.tmp-*' 2>/dev/null) ]] || fail "the interrupted backup never started writing"
kill -TERM "$pid"
set +e
wait "$pid"
rc=$?
set -e
assert_eq "$rc" "1" "interrupted backup exit status"
assert_contains "$(cat "$PWD/stderr.txt")" "interrupted by signal 15" "interrupt message"
nothing_left "interrupted"

write_env "$proj" prod "$url"

# a file-size limit hit while writing: EFBIG, not a crash, and no partial file
set +e
out=$(ulimit -f 4096 && "$DBDEPLOY_BIN" -C "$proj" backup prod 2>"$PWD/stderr.txt")
rc=$?
set -e
err=$(cat "$PWD/stderr.txt")
assert_eq "$rc" "1" "file-size limit exit status"
assert_contains "$err" "File too large" "file-size limit message"
nothing_left "file-size limit"

# an unwritable directory (as root, permissions only bind another user)
as_user=()
if [[ $(id -u) -eq 0 ]]; then
  as_user=(runuser -u "${DD_PG_USER:-postgres}" --)
fi
mkdir -p "$envdir"
chmod 755 "$proj/.dbdeploy" "$proj/.dbdeploy/backups" # reachable, but the env directory is read-only
chmod 555 "$envdir"
set +e
out=$("${as_user[@]}" "$DBDEPLOY_BIN" -C "$proj" backup prod 2>"$PWD/stderr.txt")
rc=$?
set -e
err=$(cat "$PWD/stderr.txt")
assert_eq "$rc" "1" "unwritable directory exit status"
assert_contains "$err" "cannot create '$envdir/." "unwritable directory message"
assert_contains "$err" "Permission denied" "unwritable directory cause"
assert_contains "$err" "hint: Check [backup] dir, or give this user write access to '$envdir'." "unwritable hint"
chmod 755 "$envdir"
nothing_left "unwritable directory"

# a directory that cannot be created
write_env "$proj" prod "$url" '[backup]' "	dir = $PWD/afile/backups"
echo "in the way" >"$PWD/afile"
expect_rc 1 -C "$proj" backup prod
assert_contains "$err" "cannot create directory '$PWD/afile': a file is in the way" "directory creation failure"
nothing_left "directory in the way"

# and the same database backs up fine once the causes are gone
write_env "$proj" prod "$url"
expect_rc 0 -C "$proj" backup prod
expect_rc 0 -C "$proj" backup --verify "$out"
pass "failed backups leave nothing behind"
