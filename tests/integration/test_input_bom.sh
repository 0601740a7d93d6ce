#!/usr/bin/env bash
# A UTF-8 byte-order mark at the start of a migration (some Windows editors write one) is
# skipped as psql skips it: the file applies, directives after the mark work, lint parses it,
# and the checksum still covers the exact bytes (removing the mark is an edit).
source "$DD_SUPPORT/lib.sh"

url=$(new_db bom)
proj=$PWD/proj
git_init "$proj"
write_env "$proj" dev "$url" "[git]" "allow-dirty = true"
m=$proj/migrations
mkdir -p "$m"
printf '\xef\xbb\xbfCREATE TABLE bom_a (id int, name text);\n' >"$m/0001_bom_a.sql"
printf '\xef\xbb\xbf-- dbdeploy:no-transaction\nCREATE INDEX CONCURRENTLY bom_a_name ON bom_a (name);\n' \
  >"$m/0002_bom_idx.sql"
# dbmate format: the marker line carries the mark
printf '\xef\xbb\xbf-- migrate:up\nCREATE TABLE bom_b (id int);\n-- migrate:down\nDROP TABLE bom_b;\n' \
  >"$m/0003_bom_b.sql"
# a mark alone before a blank line and a comment
printf '\xef\xbb\xbf\n-- plain comment\nCREATE TABLE bom_c (id int);\n' >"$m/0004_bom_c.sql"
commit_all "$proj" "migrations with a byte-order mark"

expect_rc 0 -C "$proj" lint
assert_contains "$err" "lint: 4 files" "lint reads all four"
assert_not_contains "$err$out" "syntax" "lint parses past the mark"
printf '\xef\xbb\xbfSELECT 1;\n' >"$PWD/plain.sql"
expect_rc 0 -C "$proj" lint "$PWD/plain.sql"
assert_not_contains "$err$out" "syntax" "lint of a plain file with a mark"

expect_rc 0 -C "$proj" apply dev
assert_eq "$(q "$url" "select to_regclass('bom_a') is not null, to_regclass('bom_b') is not null, to_regclass('bom_c') is not null")" "t|t|t" "applied"
assert_eq "$(q "$url" "select transactional from dbdeploy.migrations where version = 2")" "f" "directive after the mark honoured"
want=$(sha256sum "$m/0001_bom_a.sql" | cut -d' ' -f1)
assert_contains "$(q "$url" "select checksum from dbdeploy.migrations where version = 1")" "$want" "checksum of the exact bytes"

# removing the mark changes the bytes: an edit of an applied file
printf 'CREATE TABLE bom_a (id int, name text);\n' >"$m/0001_bom_a.sql"
expect_rc 3 -C "$proj" apply dev
assert_contains "$err" "modified: migrations/0001_bom_a.sql" "mark removal is an edit"

pass "byte-order mark skipped, checksum exact"
