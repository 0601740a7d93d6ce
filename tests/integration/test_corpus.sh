#!/usr/bin/env bash
# Every real-world migration set in ../shared/corpus applies with `dbdeploy apply` and produces
# exactly the schema psql produced (expected-schema.sql). For up/down sets, `rollback --to 0`
# ends where psql's down pass ended, and a broken upstream down file stops the rollback at that
# same file with a clear error and a consistent ledger.
source "$DD_SUPPORT/lib.sh"

corpus=${DBDEPLOY_CORPUS:-$DBDEPLOY_SOURCE_DIR/../shared/corpus}
[[ -d "$corpus" ]] || fail "corpus not found at $corpus (set DBDEPLOY_CORPUS)"

# pg_dump of a database as the corpus README prescribes, minus version lines and our ledger
schema_of() {
  pg_dump --schema-only --no-owner --no-privileges --restrict-key=dbdeploycorpus --exclude-schema=dbdeploy -d "$1" |
    normalize
}
normalize() {
  grep -vE '^\\(un)?restrict |^-- Dumped (from|by) '
}


for set in openmeter pocket-id lakefs svix rauthy ftl; do
  dir=$corpus/$set
  db=corpus_${set//-/_}
  url=$(new_db "$db")
  proj=$PWD/$set
  git_init "$proj"
  mkdir -p "$proj/migrations"
  cp "$dir"/migrations/* "$proj/migrations/"
  write_env "$proj" test "$url" "[database]" "lock-wait = 5s"
  commit_all "$proj" "import $set"
  # upstream keeps deliberate no-op migrations (pocket-id, rauthy): dbdeploy refuses a migration
  # without a statement (exit 2, naming it) until the file says -- dbdeploy:allow empty, as its hint says
  while run_dd -C "$proj" apply test --dry-run && [[ $rc == 2 && $err == *": the migration has no SQL statement"* ]]; do
    f=${err#error: } && f=${f%%: the migration has no SQL statement*}
    printf -- '-- dbdeploy:allow empty (a no-op upstream)\n' >>"$proj/$f"
    commit_all "$proj" "allow empty: $f"
  done

  expect_rc 0 -C "$proj" apply test
  if ! diff -u <(normalize <"$dir/expected-schema.sql") <(schema_of "$url") >"$PWD/$set.diff"; then
    head -40 "$PWD/$set.diff" >&2
    fail "$set: schema differs from expected-schema.sql"
  fi
  nfiles=$(q "$url" "select count(*) from dbdeploy.migrations")
  echo "ok [$set]: $nfiles migrations applied, schema identical"

  # the no-transaction file of svix ran without a transaction, automatically
  if [[ $set == svix ]]; then
    assert_contains "$err" "runs without a transaction: CREATE INDEX CONCURRENTLY" "svix no-transaction file detected"
  fi
  [[ $set == rauthy ]] && continue # up-only set: no down pass

  run_dd -C "$proj" rollback test --to 0 --allow-missing-down
  case $set in
    pocket-id) bad=20250412000000_add_user_disabled_field.down.sql ;;
    svix) bad=20220428190104_message_expiration.down.sql ;;
    *) bad= ;;
  esac
  if [[ -n "$bad" ]]; then
    [[ "$rc" == 1 ]] || fail "$set: rollback should fail at $bad (exit $rc)"
    assert_contains "$err" "error: migrations/$bad:" "$set: names the broken down file"
    assert_contains "$err" "does not exist" "$set: with the server's message"
    # consistent ledger: the failing version is still applied, everything newer is gone
    v=${bad%%_*}
    assert_eq "$(q "$url" "select max(version) from dbdeploy.migrations")" "$((10#$v))" "$set: ledger stops at the failing version"
  else
    [[ "$rc" == 0 ]] || { echo "$err" >&2; fail "$set: rollback --to 0 failed"; }
    assert_eq "$(q "$url" "select count(*) from dbdeploy.migrations")" "0" "$set: ledger empty after rollback"
  fi
  if [[ -f "$dir/after-down-residue.sql" ]]; then
    normalize <"$dir/after-down-residue.sql" >"$PWD/$set.want"
  elif [[ $set == ftl ]]; then
    normalize <"$dir/expected-schema.sql" >"$PWD/$set.want" # every dbmate down section is empty
  else
    createdb "${db}_empty"
    schema_of "postgresql:///${db}_empty?host=$PGHOST&port=$PGPORT&user=postgres" >"$PWD/$set.want"
  fi
  if ! diff -u "$PWD/$set.want" <(schema_of "$url") >"$PWD/$set.down.diff"; then
    head -40 "$PWD/$set.down.diff" >&2
    fail "$set: schema after rollback differs from psql's down pass"
  fi
  echo "ok [$set]: rollback ends where psql's down pass ends"
done
pass "all corpus sets"
