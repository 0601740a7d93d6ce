#!/usr/bin/env bash
# Health-check headers against a real server that requires one: the right token passes, a
# missing or different one gets 401 and is not retried, a malformed header is a config error,
# and the token (set through ${HEALTH_TOKEN}, also in the URL's query) never appears in
# anything dbdeploy prints: stdout, stderr, --json, -v, success or failure.
source "$DD_SUPPORT/lib.sh"

# health_env ENV URL [lines...]: pipeline/ENV.conf with a [health] section
health_env() {
  local env=$1 url=$2
  shift 2
  write_env proj "$env" "$DBDEPLOY_TEST_URL" '[health]' "	url = $url" "${@/#/	}"
}

mkdir -p proj
export HEALTH_TOKEN=hT0ken-5ecret-4f9a2c
all_output=""
# grab_dd RC ARGS...: expect_rc, and keep everything dbdeploy wrote for the secret grep
grab_dd() {
  expect_rc "$@"
  all_output+="$out"$'\n'"$err"$'\n'
}

start_stub auth 200 --require-header "Authorization: Bearer $HEALTH_TOKEN"
port=$stub_port
# shellcheck disable=SC2016 # the config file expands ${HEALTH_TOKEN}, not the shell
auth_header='header = Authorization: Bearer ${HEALTH_TOKEN}'

# the right token passes; the stub saw the header (by name)
health_env prod "http://127.0.0.1:$port/healthz" "$auth_header" 'header = X-Probe: dbdeploy'
grab_dd 0 -C proj health prod
grab_dd 0 -C proj -v health prod
grab_dd 0 -C proj -v --json health prod
assert_contains "$(cat "$DD_PG_TMP/auth.log")" "GET /healthz Host,User-Agent,Accept,Authorization,X-Probe" \
  "the configured headers were sent"
pass "the required header passes"

# no header: 401 at once, no retry
health_env prod "http://127.0.0.1:$port/healthz" "backoff = 1s"
: >"$DD_PG_TMP/auth.log"
grab_dd 3 -C proj health prod
assert_contains "$err" "answered 401 after 1 attempt in 0.0s (expected 2xx)" "missing header"
assert_contains "$err" "hint: The endpoint rejected the request; check the [health] header lines" "401 hint"
assert_eq "$(requests auth)" 1 "401 is not retried"
pass "a missing header fails with 401 without retries"

# a different token: 401 at once, and neither token is printed
health_env prod "http://127.0.0.1:$port/healthz" "$auth_header" "backoff = 1s"
: >"$DD_PG_TMP/auth.log"
real_token=$HEALTH_TOKEN
export HEALTH_TOKEN=wr0ng-t0ken-77d1e
grab_dd 3 -C proj -v health prod
assert_contains "$err" "answered 401 after 1 attempt" "different token"
assert_eq "$(requests auth)" 1 "a rejected token is not retried"
grab_dd 3 -C proj -v --json health prod
assert_contains "$out" '"status":401' "--json status of a rejected token"
assert_not_contains "$all_output" "$HEALTH_TOKEN" "the wrong token"
export HEALTH_TOKEN=$real_token
pass "a different header value fails with 401 without retries"

# the token in the URL's query too (a variable named like a credential is masked everywhere),
# on failure (-v, --json) and on success
start_stub down 503 --require-header "Authorization: Bearer $HEALTH_TOKEN"
health_env prod "http://127.0.0.1:$stub_port/healthz?token=\${HEALTH_TOKEN}" "$auth_header" "retries = 1" \
  "backoff = 10ms"
grab_dd 3 -C proj -v health prod
assert_contains "$err" "healthz?token=***" "the token in the URL is masked"
grab_dd 3 -C proj -v --json health prod
health_env prod "http://127.0.0.1:$port/healthz?token=\${HEALTH_TOKEN}" "$auth_header"
grab_dd 0 -C proj -v health prod
grab_dd 0 -C proj --json health prod
assert_contains "$out" '"url":"http://127.0.0.1:'"$port"'/healthz?token=***"' "--json url masked"

# the secret grep: every byte dbdeploy wrote, and the stub's own request log
assert_not_contains "$all_output" "$HEALTH_TOKEN" "dbdeploy output"
assert_not_contains "$(cat "$DD_PG_TMP"/*.log)" "$HEALTH_TOKEN" "the stub's request log"
pass "the health token never appears in stdout, stderr or --json"

# a header that cannot be sent is a config error naming it (by name only)
# shellcheck disable=SC2016
health_env prod "http://127.0.0.1:$port/healthz" 'header = Bad Name: ${HEALTH_TOKEN}'
grab_dd 2 -C proj health prod
assert_contains "$err" "error: pipeline/prod.conf: [health] header #1: 'Bad Name' is not a valid header name" \
  "invalid header name"
assert_not_contains "$all_output" "$HEALTH_TOKEN" "config error output"
pass "a malformed header is a config error"
