#!/usr/bin/env bash
# [notify]: a local receiver gets one start and one result notification per deployment (JSON),
# with no secret in either body (the database password, the webhook URL's password and its
# ${VAR} token); a failed deployment sends start then restored; a deployment with nothing to
# do sends nothing; a receiver that hangs or answers 500 is a warning, and the hang costs at
# most [notify] timeout per event, never the deployment.
source "$DD_SUPPORT/lib.sh"

now_ms() { date +%s%3N; }
assert_between() { (($1 >= $2 && $1 <= $3)) || fail "$4: $1 is not within [$2, $3]"; }
DB_PW=Db-Secret-9911 HOOK_PW=Hook-Pass-4242
export NOTIFY_TOKEN=tok-Secret-7788
no_secrets() { # TEXT WHAT
  local s
  for s in "$DB_PW" "$HOOK_PW" "$NOTIFY_TOKEN"; do assert_not_contains "$1" "$s" "$2"; done
}
bodies=$DD_PG_TMP/bodies
mkdir -p "$bodies"
nbodies() { find "$bodies" -name '*.body' | wc -l | tr -d ' '; }
body() { cat "$bodies/$(printf '%03d' "$1").body"; }
field() { # N KEY: a top-level field of body N, as JSON
  python3 -c 'import json, sys; print(json.dumps(json.load(open(sys.argv[1]))[sys.argv[2]]))' \
    "$bodies/$(printf '%03d' "$1").body" "$2"
}

createdb notify1
url="postgresql://postgres:$DB_PW@/notify1?host=$PGHOST&port=$PGPORT"
start_stub recv --bodies "$bodies" 200
recv_port=$stub_port
hook="http://hookuser:$HOOK_PW@127.0.0.1:$recv_port/hook/\${NOTIFY_TOKEN}"

proj=$PWD/proj
git_init "$proj"
write_env "$proj" prod "$url" "[backup]" "	enabled = false" "[notify]" "	url = $hook" "	timeout = 2s"
mkdir -p "$proj/migrations"
echo 'CREATE TABLE a (id int);' >"$proj/migrations/0001_a.sql"
echo 'CREATE TABLE b (id int);' >"$proj/migrations/0002_b.sql"
commit_all "$proj" "two migrations"
head=$(git -C "$proj" rev-parse HEAD)

# 1. one start and one result notification, JSON, no secrets
expect_rc 0 -C "$proj" deploy prod
assert_eq "$(nbodies)" 2 "two notifications for one deployment"
assert_eq "$(field 1 event)" '"start"' "first: start"
assert_eq "$(field 1 command)" '"deploy"' "the pipeline"
assert_eq "$(field 1 environment)" '"prod"' "environment"
assert_eq "$(field 1 commit)" "\"$head\"" "commit"
assert_eq "$(field 1 versions)" '[1, 2]' "versions"
assert_eq "$(field 1 result)" 'null' "no result at the start"
assert_eq "$(field 2 event)" '"success"' "second: success"
assert_eq "$(field 2 result)" '"applied"' "result"
assert_eq "$(field 2 applied)" '2' "applied count"
assert_contains "$(field 2 who)" "@" "who"
[[ $(field 2 duration_ms) =~ ^[0-9]+$ ]] || fail "duration_ms is not a number: $(field 2 duration_ms)"
assert_contains "$(field 2 text)" "dbdeploy: deployed 2 migrations to prod at ${head:0:7} in " "summary text"
no_secrets "$(body 1)$(body 2)" "notification bodies"
no_secrets "$out$err" "the deployment's output"
assert_eq "$(grep -c "^POST /hook/$NOTIFY_TOKEN " "$DD_PG_TMP/recv.log")" 2 "POSTed to the expanded webhook URL"
pass "one start and one result notification, no secret in either"

# 2. nothing to deploy: nothing sent
expect_rc 0 -C "$proj" deploy prod
assert_eq "$(nbodies)" 2 "no notification when up to date"
pass "an up-to-date deployment sends nothing"

# 3. a failed deployment (its error carries the password) sends start, then restored
cat >"$proj/migrations/0003_bad.sql" <<SQL
CREATE TABLE c (id int);
DO \$\$ BEGIN RAISE EXCEPTION 'boom with %', '$DB_PW'; END \$\$;
SQL
commit_all "$proj" "a failing migration"
expect_rc 4 -C "$proj" deploy prod
assert_eq "$(nbodies)" 4 "two more notifications"
assert_eq "$(field 3 event)" '"start"' "start of the failed deployment"
assert_eq "$(field 3 versions)" '[3]' "its versions"
assert_eq "$(field 4 event)" '"restored"' "the result: restored"
assert_eq "$(field 4 result)" '"restored"' "result restored"
assert_contains "$(field 4 error)" "boom with ***" "the error, masked"
no_secrets "$(body 3)$(body 4)" "failure notification bodies"
no_secrets "$out$err" "the failed deployment's output"
git -C "$proj" rm -q migrations/0003_bad.sql
commit_all "$proj" "drop the failing migration"
pass "a failed deployment sends start and restored, masked"

# 4. failure events only, as Slack messages
write_env "$proj" prod "$url" "[backup]" "	enabled = false" "[notify]" "	url = $hook" "	on = failure, restored" \
  "	format = slack"
commit_conf "$proj"
echo 'CREATE TABLE d (id int);' >"$proj/migrations/0004_d.sql"
commit_all "$proj" "d"
expect_rc 0 -C "$proj" deploy prod
assert_eq "$(nbodies)" 4 "on = failure, restored: a success sends nothing"
printf 'SELECT 1/0; -- <&>\n' >"$proj/migrations/0005_zero.sql"
commit_all "$proj" "division by zero"
expect_rc 4 -C "$proj" deploy prod
assert_eq "$(nbodies)" 5 "one Slack notification for the failure"
python3 - "$bodies/005.body" <<'PY' || fail "slack body: $(body 5)"
import json, sys
doc = json.load(open(sys.argv[1]))
assert list(doc) == ["text"], doc
assert doc["text"].startswith("dbdeploy: deployment to prod at "), doc
assert "division by zero" in doc["text"], doc
PY
git -C "$proj" rm -q migrations/0005_zero.sql
commit_all "$proj" "drop it"
pass "on filters the events; format = slack sends a Slack message"

# 5. a receiver that hangs and one that answers 500: warnings, never a failed or late deployment
start_stub hang hang 60s
hang_port=$stub_port
start_stub broken 500
broken_port=$stub_port
write_env "$proj" prod "$url" "[backup]" "	enabled = false" "[notify]" "	url = $hook" \
  "	url = http://127.0.0.1:$hang_port/slow/\${NOTIFY_TOKEN}" "	url = http://127.0.0.1:$broken_port/x" "	timeout = 1s"
commit_conf "$proj"
echo 'CREATE TABLE e (id int);' >"$proj/migrations/0006_e.sql"
commit_all "$proj" "e"
t0=$(now_ms)
expect_rc 0 -C "$proj" deploy prod
took=$(($(now_ms) - t0))
assert_contains "$err" "notify: http://127.0.0.1:$hang_port did not answer the start notification within 1.0s ([notify] timeout); the deployment goes on" "hang warning"
assert_contains "$err" "notify: http://127.0.0.1:$broken_port answered 500 to the success notification" "500 warning"
assert_eq "$(grep -c '^warning: notify:' <<<"$err")" 4 "one warning per failed webhook and event"
assert_eq "$(q "$url" "select to_regclass('e') is not null")" t "deployed"
assert_eq "$(nbodies)" 7 "the working receiver got start and success"
assert_eq "$(field 7 event)" '"success"' "success"
no_secrets "$out$err" "warnings"
# two events, each cut at the 1s notify deadline; without it the hang would last 60s each
assert_between "$took" 1900 6000 "deployment time with a hanging receiver"
echo "deploy with a hanging receiver (timeout 1s) took ${took}ms"
pass "a hanging or failing receiver is a warning and costs at most the notify timeout"

# 6. a change outside the pipeline (apply) sends its result too
write_env "$proj" prod "$url" "[backup]" "	enabled = false" "[notify]" "	url = $hook"
commit_conf "$proj"
echo 'CREATE TABLE f (id int);' >"$proj/migrations/0007_f.sql"
commit_all "$proj" "f"
n=$(nbodies)
expect_rc 0 -C "$proj" apply prod
assert_eq "$(nbodies)" $((n + 1)) "one notification for apply"
assert_eq "$(field $((n + 1)) command)" '"apply"' "command apply"
assert_eq "$(field $((n + 1)) event)" '"success"' "apply succeeded"
assert_eq "$(field $((n + 1)) versions)" '[7]' "apply's versions"
assert_contains "$(field $((n + 1)) text)" "dbdeploy: apply on prod at " "apply's summary"
no_secrets "$(body $((n + 1)))$out$err" "apply's notification"
pass "apply sends its result"

# 7. a deployment blocked before the lock (lint) sends its failure, with no start before it
printf 'DELETE FROM a;\n' >"$proj/migrations/0008_wipe.sql"
commit_all "$proj" "wipe"
n=$(nbodies)
expect_rc 3 -C "$proj" deploy prod
assert_eq "$(nbodies)" $((n + 1)) "one notification for a blocked deployment"
assert_eq "$(field $((n + 1)) event)" '"failure"' "blocked is a failure event"
assert_eq "$(field $((n + 1)) result)" '"blocked"' "result blocked"
pass "a blocked deployment sends one failure notification"
