#!/usr/bin/env bash
# The emergency restore in docs/backup.md works as written: the commands between its
# emergency-restore markers are run verbatim, with only tar, zstd, sha256sum and the PostgreSQL
# client programs, and the database ends up equal to what was backed up. A damaged archive
# stops them at the checksum, before anything is restored.
source "$DD_SUPPORT/lib.sh"

doc=$DBDEPLOY_SOURCE_DIR/docs/backup.md
steps=$PWD/emergency.sh
sed -n '/<!-- emergency-restore:begin -->/,/<!-- emergency-restore:end -->/p' "$doc" | sed '/^<!--/d; /^```/d' >"$steps"
[[ $(wc -l <"$steps") -gt 5 ]] || fail "no emergency restore steps found in $doc"

url=$(new_db shop)
psql -X -q -v ON_ERROR_STOP=1 -d "$url" >/dev/null <<'SQL'
CREATE SCHEMA sales;
CREATE TABLE sales.orders (id serial PRIMARY KEY, note text, doc oid, raw bytea);
INSERT INTO sales.orders (note, raw) SELECT 'order ' || g, decode(md5(g::text), 'hex') FROM generate_series(1, 50000) g;
UPDATE sales.orders SET doc = lo_from_bytea(0, 'attached') WHERE id = 7;
SQL
proj=$PWD/proj
git_init "$proj"
write_env "$proj" prod "$url"
before=$(dump "$url")
expect_rc 0 -C "$proj" backup prod
archive=$out
psql -X -q -d "$url" -c "create table sales.later (x int)" -c "truncate sales.orders cascade"

# a damaged copy is stopped at the checksum
bad=$PWD/bad.tar.zst
zstd -dc "$archive" | tar -xf - -C "$PWD"
printf 'x' | command dd of="$PWD/dump/part-000001" bs=1 seek=1000 conv=notrunc status=none
(cd "$PWD" && tar -cf - header.json dump manifest.json | zstd -q >"$bad")
if ARCHIVE=$bad DB=shop bash "$steps" >"$PWD/bad.out" 2>&1; then
  fail "the emergency steps restored a damaged archive"
fi
assert_contains "$(cat "$PWD/bad.out")" "checksum mismatch" "damaged archive stopped"
assert_eq "$(q "$url" "select count(*) from sales.orders")" "0" "nothing restored from the damaged archive"

if ! ARCHIVE=$archive DB=shop bash "$steps" >"$PWD/good.out" 2>&1; then
  cat "$PWD/good.out" >&2
  fail "the emergency steps failed"
fi
after=$(dump "$url")
[[ "$after" == "$before" ]] || { diff <(echo "$before") <(echo "$after") | head -20 >&2; fail "manual restore differs"; }
assert_eq "$(q "$url" "select count(*) from pg_database where datname like 'shop_%'")" "0" "no side databases left"
pass "the documented emergency restore works"
