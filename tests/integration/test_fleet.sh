#!/usr/bin/env bash
# Fleets: 20 databases deployed in waves (1, 25%, 100%) four at a time; one broken target stops
# the rollout in its wave, later targets are untouched, the summary and --json say so per
# target and the exit status is the worst target's. Also: targets --json for CI matrices,
# --target, [targets] file and query, status/log over the fleet, and a fleet's catalog url is
# never a deploy target.
source "$DD_SUPPORT/lib.sh"

proj=$PWD/proj
git_init "$proj"
mkdir -p "$proj/migrations"
cat >"$proj/migrations/0001_accounts.sql" <<'SQL'
CREATE TABLE accounts (id bigint PRIMARY KEY, email text NOT NULL);
SQL
commit_all "$proj" "accounts"

catalog=$(new_db fleetcat)
names=()
lines=()
for i in $(seq -w 1 20); do
  n=f$i
  names+=("$n")
  u=$(new_db "$n")
  # a password in some urls: it must never be printed (trust auth ignores it)
  if (( 10#$i % 3 == 0 )); then u="$u&password=sekrit$i"; fi
  lines+=("	url = $u")
done
# f07 is broken: a table of the same name already exists there, so the migration fails
q "postgresql:///f07?host=$PGHOST&port=$PGPORT&user=postgres" "CREATE TABLE accounts (x int)" >/dev/null

write_env "$proj" prod "$catalog" "[backup]" "	enabled = false" "[targets]" "${lines[@]}" \
  "[rollout]" "	waves = 1, 25%, 100%" "	parallel = 4" "	halt = first-failure"
commit_conf "$proj"

db() { echo "postgresql:///$1?host=$PGHOST&port=$PGPORT&user=postgres"; }
deployed() { q "$(db "$1")" "select count(*) from pg_namespace where nspname = 'dbdeploy'"; }

# --- the list, for CI matrices -------------------------------------------------------------
expect_rc 0 -C "$proj" targets prod --json
assert_not_contains "$out" "sekrit" "no password in the target list"
assert_eq "$(jq -r '.names | length' <<<"$out")" "20" "twenty names"
assert_eq "$(jq -c '.waves | map(length)' <<<"$out")" "[1,4,15]" "1, 25%, 100% of 20"
assert_eq "$(jq -r '.waves[0][0]' <<<"$out")" "f01" "the canary is the first target"
assert_contains "$(jq -r '.targets[2].database' <<<"$out")" "***" "masked url"
expect_rc 0 -C "$proj" targets prod
assert_contains "$out" "f20" "text list"
assert_not_contains "$out$err" "sekrit" "no password in the text list"

# the CI templates turn that list into a canary job and a matrix of the rest, gated on it
ci=$DBDEPLOY_SOURCE_DIR/pipeline/ci
mkdir -p bin && ln -sf "$DBDEPLOY_BIN" bin/dbdeploy
gh_script=$(python3 -c 'import sys, yaml; d = yaml.safe_load(open(sys.argv[1]))
print([s for s in d["jobs"]["targets"]["steps"] if s.get("id") == "list"][0]["run"])' "$ci/github-actions-fleet.yml")
gl_script=$(python3 -c 'import sys, yaml; print("\n".join(yaml.safe_load(open(sys.argv[1]))["targets"]["script"]))' \
  "$ci/gitlab-ci-fleet.yml")
(cd "$proj" && PATH="$OLDPWD/bin:$PATH" GITHUB_OUTPUT=$OLDPWD/gh.out bash --noprofile --norc -eo pipefail -c "$gh_script")
assert_eq "$(grep '^canary=' gh.out)" 'canary=["f01"]' "GitHub: the canary matrix"
assert_eq "$(sed -n 's/^rest=//p' gh.out | jq -c 'length, .[0], .[18]' | paste -sd' ')" '19 "f02" "f20"' "GitHub: the rest"
(cd "$proj" && PATH="$OLDPWD/bin:$PATH" bash --noprofile --norc -eo pipefail -c "$gl_script" && mv fleet-pipeline.yml "$OLDPWD/")
python3 -c 'import sys, yaml; d = yaml.safe_load(open(sys.argv[1]))
assert d["stages"] == ["canary", "rollout"], d["stages"]
assert d["canary"]["parallel"]["matrix"] == [{"TARGET": ["f01"]}], d["canary"]
assert len(d["rollout"]["parallel"]["matrix"][0]["TARGET"]) == 19
assert "dbdeploy deploy prod --target" in d["rollout"]["script"][0]' fleet-pipeline.yml || fail "GitLab child pipeline"
rm -f "$proj/targets.json"

# a fleet's [database] url is its catalog: commands that need one database must be told which
expect_rc 2 -C "$proj" apply prod
assert_contains "$err" "is a fleet: name one of its databases with --target NAME" "apply without --target"
assert_eq "$(q "$catalog" "select count(*) from pg_namespace where nspname = 'dbdeploy'")" "0" "catalog untouched"

# --- the rollout that hits the broken target ----------------------------------------------
run_dd -C "$proj" deploy prod
printf '%s\n' "$out" >"$PWD/rollout1.txt"
[[ "$rc" == 4 || "$rc" == 1 ]] || { printf '%s\n%s\n' "$out" "$err" >&2; fail "exit $rc, expected the broken target's status"; }
assert_not_contains "$out$err" "sekrit" "no password in the summary"
for n in f01 f02 f03 f04 f05; do
  assert_eq "$(q "$(db "$n")" "select count(*) from dbdeploy.migrations where version = 1")" "1" "$n deployed (canary and first wave)"
  assert_contains "$out" "$n" "$n in the summary"
done
assert_contains "$(grep '^  f01 ' <<<"$out")" "applied" "canary line says applied"
assert_contains "$(grep '^  f07 ' <<<"$out")" "exit $rc" "f07's line carries the worst exit status"
assert_contains "$(grep '^  f07 ' <<<"$out")" "already exists" "f07's line says why"
assert_eq "$(q "$(db f07)" "select count(*) from information_schema.columns where table_name = 'accounts'")" "1" \
  "f07 still has only its own table"
assert_contains "$out" "rollout of prod stopped after wave 3 of 3: 1 target failed" "verdict"
skipped=$(grep -E '^  f[0-9]+ .* skipped' <<<"$out" | awk '{print $1}')
(( $(wc -w <<<"$skipped") >= 6 )) || fail "expected most of wave 3 untouched, skipped: $skipped"
for n in $skipped; do
  assert_eq "$(deployed "$n")" "0" "$n (skipped) has no ledger"
  assert_eq "$(q "$(db "$n")" "select to_regclass('accounts') is null")" "t" "$n (skipped) has no accounts table"
done
assert_eq "$(deployed f20)" "0" "the last target is untouched"
[[ -f "$proj/changelog/prod/f01/CHANGELOG.md" ]] || fail "each target keeps its own changelog"

# the same rollout again, as JSON: the first wave is up to date, f07 fails again, the rest wait
run_dd -C "$proj" --json deploy prod
[[ "$rc" == 4 || "$rc" == 1 ]] || fail "json rollout exit $rc"
assert_eq "$(jq -r '.exit_status' <<<"$out")" "$rc" "document carries the exit status"
assert_eq "$(jq -r '.result' <<<"$out")" "halted" "result halted"
assert_eq "$(jq -r '.targets | length' <<<"$out")" "20" "one object per target"
assert_eq "$(jq -r '.targets[0].result' <<<"$out")" "up-to-date" "canary up to date"
assert_eq "$(jq -r '.targets[] | select(.name == "f07") | .exit_status' <<<"$out")" "$rc" "f07 is the worst"
assert_eq "$(jq -r '.targets[] | select(.name == "f07") | .report.command' <<<"$out")" "deploy" "f07's own report"
assert_eq "$(jq -r '.targets[] | select(.name == "f20") | .result' <<<"$out")" "skipped" "f20 skipped"
assert_eq "$(jq -r '.targets[] | select(.name == "f20") | .phase' <<<"$out")" "null" "f20 never ran"
assert_not_contains "$out" "sekrit" "no password in the JSON summary"

# --- one target by name --------------------------------------------------------------------
q "$(db f07)" "DROP TABLE accounts" >/dev/null
expect_rc 0 -C "$proj" deploy prod --target f07 --accept-drift "dropped the stray accounts table"
assert_eq "$(q "$(db f07)" "select count(*) from dbdeploy.migrations")" "1" "f07 deployed alone"
assert_eq "$(deployed f20)" "0" "--target touched no other target"
expect_rc 0 -C "$proj" --json log prod --target f07
assert_eq "$(jq -r '.deployments | length' <<<"$out")" "3" "f07's ledger: two failed rollouts and the success"
expect_rc 2 -C "$proj" deploy prod --target nope
assert_contains "$err" "--target nope: environment 'prod' has no such target" "unknown target"

# --- the whole fleet, clean ----------------------------------------------------------------
expect_rc 0 -C "$proj" deploy prod
assert_contains "$out" "rollout of prod done: 20 targets in 3 waves" "done"
for n in "${names[@]}"; do
  assert_eq "$(q "$(db "$n")" "select count(*) from dbdeploy.migrations")" "1" "$n deployed"
done
expect_rc 0 -C "$proj" status prod
assert_contains "$out" "== f01 (" "status per target"
assert_contains "$out" "== f20 (" "status per target (last)"
expect_rc 0 -C "$proj" --json status prod
assert_eq "$(jq -r '[.targets[].report.counts.applied] | add' <<<"$out")" "20" "every target applied 1"
expect_rc 0 -C "$proj" log prod -n 1
assert_eq "$(grep -c '^== ' <<<"$out")" "20" "log per target"
assert_not_contains "$out$err" "sekrit" "no password in status or log"

# --- [targets] file ------------------------------------------------------------------------
cat >"$proj/tenants.txt" <<EOF
# name url
alpha $(db f01)

$(db f02)
EOF
write_env "$proj" tenants "" "[targets]" "	file = tenants.txt"
commit_all "$proj" "tenants"
expect_rc 0 -C "$proj" --json targets tenants
assert_eq "$(jq -c '.names' <<<"$out")" '["alpha","f02"]' "file: named and database-named targets"
expect_rc 0 -C "$proj" deploy tenants --target alpha
assert_contains "$out" "up to date" "alpha is f01, already deployed"

# --- [targets] query on the catalog --------------------------------------------------------
q "$catalog" "CREATE TABLE tenants (name text, url text)" >/dev/null
q "$catalog" "INSERT INTO tenants VALUES ('west', '$(db qw)'), (NULL, '$(db qe)')" >/dev/null
createdb qw
createdb qe
write_env "$proj" cat "$catalog" "[targets]" "	query = SELECT name, url FROM tenants ORDER BY name NULLS LAST" \
  "[rollout]" "	parallel = 2"
commit_conf "$proj"
expect_rc 0 -C "$proj" --json targets cat
assert_eq "$(jq -c '.names' <<<"$out")" '["west","qe"]' "query: named and database-named targets"
expect_rc 0 -C "$proj" deploy cat
assert_eq "$(q "$(db qw)" "select count(*) from dbdeploy.migrations")" "1" "query target deployed"
assert_eq "$(q "$(db qe)" "select count(*) from dbdeploy.migrations")" "1" "query target deployed (2)"

# --- halt = N-failures: failures below N do not stop the rollout ----------------------------
for n in h1 h2 h3; do createdb "$n"; done
for n in h1 h2; do q "$(db "$n")" "CREATE TABLE accounts (x int)" >/dev/null; done
write_env "$proj" shards "$catalog" "[backup]" "	enabled = false" "[targets]" "	url = $(db h1)" "	url = $(db h2)" \
  "	url = $(db h3)" "[rollout]" "	halt = 3-failures"
commit_conf "$proj"
run_dd -C "$proj" --json deploy shards
[[ "$rc" == 4 || "$rc" == 1 ]] || fail "two failed targets: exit $rc"
assert_eq "$(jq -r '.result' <<<"$out")" "done-with-failures" "below the halt rule the rollout goes on"
assert_eq "$(jq -c '[.targets[].result]' <<<"$out" | tr -d '"')" "[$(jq -r '.targets[0].result' <<<"$out"),$(jq -r '.targets[1].result' <<<"$out"),applied]" "h3 deployed after the canary failed"
assert_eq "$(q "$(db h3)" "select count(*) from dbdeploy.migrations")" "1" "h3 deployed"
write_env "$proj" shards "$catalog" "[backup]" "	enabled = false" "[targets]" "	url = $(db h1)" "	url = $(db h2)" \
  "	url = $(db h3)" "[rollout]" "	halt = 2-failures"
commit_conf "$proj"
run_dd -C "$proj" deploy shards
[[ "$rc" == 4 || "$rc" == 1 ]] || fail "halt at two: exit $rc"
assert_contains "$(grep '^  h3 ' <<<"$out")" "skipped" "the second failure halts the rest"
assert_contains "$out" "rollout of shards stopped after wave 2 of 2: 2 targets failed, 1 not touched" "verdict"

# --- bad settings name the key -------------------------------------------------------------
write_env "$proj" bad "$catalog" "[targets]" "	url = $(db f01)" "[rollout]" "	waves = 5, 3"
commit_conf "$proj"
expect_rc 2 -C "$proj" targets bad
assert_contains "$err" "pipeline/bad.conf: [rollout] waves: '5, 3' is not a list of waves" "bad waves"

# --- each target's changelog: regenerated byte for byte, and read by verify --------------------
cp "$proj/changelog/prod/f01/CHANGELOG.md" before.md
expect_rc 0 -C "$proj" changelog prod --target f01
cmp -s before.md "$proj/changelog/prod/f01/CHANGELOG.md" || fail "changelog --target regenerates the target's own file"
git -C "$proj" add changelog
git -C "$proj" commit -q -m "changelogs"
echo '-- an edit after the fact' >>"$proj/migrations/0001_accounts.sql"
commit_all "$proj" "edit an applied migration"
run_dd -C "$proj" verify --base HEAD
[[ "$rc" != 0 ]] || fail "verify passed an edit of a migration the fleet's changelogs record as applied"
assert_contains "$out$err" "changelog/prod/f07/CHANGELOG.md" "verify reads the targets' changelogs"

pass "fleet rollout in waves, halt on the broken target, per-target summary, targets/--target/file/query"
