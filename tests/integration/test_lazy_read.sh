#!/usr/bin/env bash
# Committed migrations whose blob id the ledger recorded are listed, not read: status, gate and
# a no-op apply give exactly what reading and hashing every file gives (the same database seen
# through an allow-dirty environment, which reads the working tree), for applied, modified,
# renamed, missing and pending files; their bytes are read only when a plan or mark needs them.
source "$DD_SUPPORT/lib.sh"

url=$(new_db lazy)
proj=$PWD/proj
git_init "$proj"
write_env "$proj" ci "$url"
write_env "$proj" wt "$url" "[git]" "allow-dirty = true"
m=$proj/migrations
mkdir -p "$m"
echo 'CREATE TABLE a (id int);' >"$m/0001_a.up.sql"
echo 'DROP TABLE a;' >"$m/0001_a.down.sql"
echo 'CREATE TABLE b (id int);' >"$m/0002_b.sql"
printf -- '-- migrate:up\nCREATE TABLE c (id int);\nCREATE INDEX c_id ON c (id);\n\n-- migrate:down\nDROP TABLE c;\n' \
  >"$m/0003_c.sql"
commit_all "$proj" "three migrations"
expect_rc 0 -C "$proj" apply ci
echo 'CREATE TABLE d (id int);' >"$m/0004_d.up.sql"
commit_all "$proj" "a pending migration"

# same_view LABEL: status, status --json and gate of ci (committed, lazy) equal wt's (read and
# hashed), but for the environment's name and the commit only the committed one has
same_view() {
  local label=$1 cmd lazy full lrc
  for cmd in "status" "--json status" "gate" "--json gate"; do
    # shellcheck disable=SC2086
    run_dd -C "$proj" $cmd ci
    lazy=$(printf '%s\n%s' "$out" "$err" | sed -e 's/\bci\b/ENV/g' -e 's/"commit":"[0-9a-f]*"/"commit":null/' -e 's/of commit [0-9a-f]*$/of the working tree/') lrc=$rc
    # shellcheck disable=SC2086
    run_dd -C "$proj" $cmd wt
    full=$(printf '%s\n%s' "$out" "$err" | sed -e 's/\bwt\b/ENV/g')
    assert_eq "$lrc" "$rc" "$label: exit status of '$cmd'"
    [[ "$lazy" == "$full" ]] || {
      diff <(echo "$lazy") <(echo "$full") >&2 || true
      fail "$label: '$cmd' differs between the committed (lazy) and the working-tree environment"
    }
  done
}

same_view "applied and pending"
expect_rc 0 -C "$proj" status ci
assert_contains "$out" "3 applied, 1 pending" "the view compared is the expected one"

# modified: a committed edit of an applied file is read, hashed and reported
echo 'CREATE TABLE a (id bigint);' >"$m/0001_a.up.sql"
commit_all "$proj" "edit an applied migration"
same_view "modified"
expect_rc 0 -C "$proj" status ci
assert_contains "$out" "1 modified" "edit found"
git -C "$proj" revert --no-edit HEAD >/dev/null

# renamed: same blob under another name
git -C "$proj" mv migrations/0002_b.sql migrations/0002_bee.sql
commit_all "$proj" "rename an applied migration"
same_view "renamed"
expect_rc 0 -C "$proj" status ci
assert_contains "$out" "1 renamed" "rename found"
git -C "$proj" revert --no-edit HEAD >/dev/null

# missing
git -C "$proj" rm -q migrations/0003_c.sql
commit_all "$proj" "delete an applied migration"
same_view "missing"
expect_rc 0 -C "$proj" status ci
assert_contains "$out" "1 missing" "deletion found"
git -C "$proj" revert --no-edit HEAD >/dev/null
same_view "restored"

# the proof that applied files are not read: without the object of an applied file, status,
# gate and a no-op check still work; the rollback that needs its down section reads it
obj=$(git -C "$proj" rev-parse HEAD:migrations/0003_c.sql)
objfile=$proj/.git/objects/${obj:0:2}/${obj:2}
[[ -f "$objfile" ]] || fail "expected a loose object for 0003_c.sql"
mv "$objfile" "$PWD/saved-object"
expect_rc 0 -C "$proj" status ci
assert_contains "$out" "3 applied, 1 pending" "status without reading the applied file"
expect_rc 3 -C "$proj" gate ci
assert_contains "$out$err" "0004_d.up.sql" "the gate only misses the pending file"
expect_rc 1 -C "$proj" rollback ci --dry-run
assert_contains "$err" "reading 'migrations/0003_c.sql'" "rollback reads the file it reverts, naming it"
mv "$PWD/saved-object" "$objfile"

# read on demand: the dbmate down section is found, and mark records the real statement count
expect_rc 0 -C "$proj" rollback ci --dry-run
assert_contains "$out" "migrations/0003_c.sql" "dbmate down section found after a lazy read"
assert_not_contains "$out" "no down file" "dbmate file has its down section"
before=$(q "$url" "select transactional, statements_total from dbdeploy.migrations where version = 3")
expect_rc 0 -C "$proj" mark ci 0003 --applied
assert_eq "$(q "$url" "select transactional, statements_total from dbdeploy.migrations where version = 3")" \
  "$before" "mark --applied of an unread migration reads it first"
expect_rc 0 -C "$proj" rollback ci --steps 1
assert_eq "$(q "$url" "select to_regclass('c') is null")" "t" "down section of the lazily read file ran"
expect_rc 0 -C "$proj" apply ci
assert_eq "$(q "$url" "select count(*) from dbdeploy.migrations")" "4" "apply after all"
same_view "all applied"
pass "status, gate and apply read only files whose blob the ledger did not record, with the same results"

# the ledger is read with its changes column, and a ledger from before that column (read-only
# commands never upgrade it) still reads, without the changes
q "$url" "update dbdeploy.migrations set changes = '+table a' where version = 1" >/dev/null
expect_rc 0 -C "$proj" -v status ci
assert_contains "$out" "changes: +table a" "status -v shows the recorded changes"
q "$url" "alter table dbdeploy.migrations drop column changes" >/dev/null
expect_rc 0 -C "$proj" -v status ci
assert_contains "$out" "4 applied, 0 pending" "a ledger without the changes column reads"
assert_not_contains "$out" "changes:" "no changes column, no changes lines"
pass "ledger with and without the changes column"
