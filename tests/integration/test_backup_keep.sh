#!/usr/bin/env bash
# [backup] keep = N prunes the oldest archives after each successful backup; backups in the same
# second get distinct names; `backups` lists oldest first (text and --json); `restore ENV latest`
# takes the newest; a project outside git names its archives "nogit"; a terminal gets a progress
# line.
source "$DD_SUPPORT/lib.sh"

url=$(new_db app)
psql -X -q -v ON_ERROR_STOP=1 -d "$url" -c "create table t (n int)"
proj=$PWD/proj
git_init "$proj"
write_env "$proj" prod "$url" '[backup]' '	keep = 2' '	dir = backups'
envdir=$proj/backups/prod

made=()
for n in 1 2 3; do
  psql -X -q -d "$url" -c "insert into t values ($n)"
  expect_rc 0 -C "$proj" backup prod
  made+=("$out")
done
# an archive that is not ours, and a stale temporary file, are never touched
touch "$envdir/notes.txt" "$envdir/.20200101T000000Z-aaaaaaa.tar.zst.tmp-1"
expect_rc 0 -C "$proj" backup prod
made+=("$out")
assert_contains "$err" "pruned ${made[1]}" "pruning is reported"

mapfile -t left < <(cd "$envdir" && ls -1 ./*.tar.zst | sort)
assert_eq "${#left[@]}" "2" "two archives kept"
[[ ! -e ${made[0]} && ! -e ${made[1]} ]] || fail "the oldest archives were not pruned"
[[ -e ${made[2]} && -e ${made[3]} ]] || fail "the newest archives were pruned"
[[ -e $envdir/notes.txt && -e $envdir/.20200101T000000Z-aaaaaaa.tar.zst.tmp-1 ]] || fail "other files were touched"
names=$(printf '%s\n' "${made[@]}" | xargs -n1 basename | sort -u | wc -l)
assert_eq "$names" "4" "four distinct archive names, even within one second"

expect_rc 0 -C "$proj" backups prod
assert_contains "$out" "TIME (UTC)" "listing header"
[[ $(grep -c 'tar.zst' <<<"$out") == 2 ]] || fail "listing shows two archives: $out"
expect_rc 0 -C "$proj" --json backups prod
assert_eq "$(jq -r '.schema' <<<"$out")" "1" "json schema"
assert_eq "$(jq -r '.backups | length' <<<"$out")" "2" "json count"
assert_eq "$(jq -r '.backups[1].archive' <<<"$out")" "${made[3]}" "json newest last"
assert_eq "$(jq -r '.backups[1].database' <<<"$out")" "app" "json database"
assert_eq "$(jq -r '.backups[1].commit' <<<"$out")" "$(git -C "$proj" rev-parse HEAD)" "json commit"

# latest: the newest archive (t holds 1..3 there)
psql -X -q -d "$url" -c "insert into t values (99)"
expect_rc 0 -C "$proj" restore prod latest --yes
assert_eq "$(q "$url" "select string_agg(n::text, ',' order by n) from t")" "1,2,3" "latest restored"

# no repository: "nogit" in the name, null commit in the manifest
plain=$PWD/plain
write_env "$plain" prod "$url"
expect_rc 0 -C "$plain" backup prod
[[ $(basename "$out") =~ ^[0-9]{8}T[0-9]{6}Z-nogit\.tar\.zst$ ]] || fail "name without git: $out"
assert_eq "$(zstd -dc "$out" | tar -xOf - manifest.json | jq -r .git_commit)" "null" "no commit outside git"

# an empty environment lists nothing, and `latest` says so
write_env "$proj" empty "$url"
expect_rc 0 -C "$proj" backups empty
assert_contains "$out" "no backups of empty" "empty listing"
expect_rc 2 -C "$proj" restore empty latest --yes
assert_contains "$err" "there are no backups of empty" "latest without backups"
# on a terminal a progress line shows bytes, rate and elapsed time (a slow pg_dump makes sure one
# is drawn); without a terminal there is none
if command -v script >/dev/null; then
  psql -X -q -d "$url" -c "insert into t select generate_series(1, 200000)"
  mkdir -p "$PWD/bin"
  printf '#!/bin/bash\nif [[ $1 == --version ]]; then exec pg_dump --version; fi\npg_dump "$@" | { head -c 20000; sleep 1; cat; }\n' \
    >"$PWD/bin/slow_pg_dump"
  chmod +x "$PWD/bin/slow_pg_dump"
  write_env "$proj" slow "$url" '[backup]' "	pg-dump = $PWD/bin/slow_pg_dump"
  TERM=xterm script -qec "'$DBDEPLOY_BIN' -C '$proj' backup slow" /dev/null >"$PWD/tty.txt"
  tty_out=$(tr '\r' '\n' <"$PWD/tty.txt" | sed 's/\x1b\[K//g')
  grep -qE '^backup +[0-9.]+ [KMG]?i?B +[0-9.]+ [KMG]?i?B/s +[0-9]+s' <<<"$tty_out" || {
    printf '%s\n' "$tty_out" >&2
    fail "no progress line on a terminal"
  }
  expect_rc 0 -C "$proj" backup slow
  assert_not_contains "$err" "B/s" "no progress line without a terminal"
fi
pass "keep prunes the oldest archives"
