#!/usr/bin/env bash
# dbdeploy health ENV against a real HTTP server (tests/support/http_stub): healthy, retried
# 503s, 503 forever, 404 and a wrong body (not retried), HEAD, expect-status, --json, and the
# config errors. The stub's --log counts the requests that really arrived.
source "$DD_SUPPORT/lib.sh"

# health_env ENV URL [lines...]: pipeline/ENV.conf with a [health] section
health_env() {
  local env=$1 url=$2
  shift 2
  write_env proj "$env" "$DBDEPLOY_TEST_URL" '[health]' "	url = $url" "${@/#/	}"
}

mkdir -p proj

# --help
expect_rc 0 health --help
assert_contains "$out" "usage: dbdeploy health ENV" "health --help"

# no [health] url: a config error naming the file and key
write_env proj nohealth "$DBDEPLOY_TEST_URL"
expect_rc 2 -C proj health nohealth
assert_contains "$err" "error: pipeline/nohealth.conf: [health] url is not set" "missing url"
assert_contains "$err" "hint: Add a [health] section" "missing url hint"

# an unknown environment is the config module's error
expect_rc 2 -C proj health nosuchenv
assert_contains "$err" "environment 'nosuchenv' is not defined" "unknown env"

# healthy at once
start_stub ok 200
health_env prod "http://127.0.0.1:$stub_port/healthz"
expect_rc 0 -C proj health prod
assert_eq "$out" "prod: healthy (GET http://127.0.0.1:$stub_port/healthz answered 200 in 0.0s, 1 attempt)" \
  "healthy result line"
assert_eq "$(requests ok)" 1 "one request when healthy"
assert_contains "$(cat "$DD_PG_TMP/ok.log")" "GET /healthz Host,User-Agent" "request logged by the stub"
pass "healthy endpoint"

# 503, 503, then 200: passes on the third attempt, with one -v line per attempt
start_stub flaky 503 503 200
health_env prod "http://127.0.0.1:$stub_port/healthz" "backoff = 100ms"
expect_rc 0 -C proj -v health prod
assert_contains "$out" "prod: healthy (GET http://127.0.0.1:$stub_port/healthz answered 200" "flaky result"
assert_contains "$out" "3 attempts)" "flaky attempt count"
assert_eq "$(requests flaky)" 3 "three requests reached the stub"
assert_contains "$err" "health: attempt 1/11 failed: GET answered 503 (expected 2xx) in" "-v attempt 1"
assert_contains "$err" "retrying in 100ms" "-v first backoff"
assert_contains "$err" "retrying in 200ms" "-v doubled backoff"
assert_contains "$err" "health: attempt 3/11 ok: GET answered 200" "-v attempt 3"
pass "503 then 200 passes after retries"

# 503 forever: every retry is used, then exit 1
start_stub down 503
health_env prod "http://127.0.0.1:$stub_port/healthz" "retries = 3" "backoff = 50ms"
expect_rc 3 -C proj health prod
assert_contains "$err" "error: health check failed: GET http://127.0.0.1:$stub_port/healthz answered 503 after 4 attempts in" \
  "503 forever message"
assert_contains "$err" "(expected 2xx)" "503 forever names the expected set"
assert_contains "$err" "hint: The endpoint kept failing" "503 forever hint"
assert_contains "$out" "prod: unhealthy (GET http://127.0.0.1:$stub_port/healthz: answered 503 (expected 2xx); 4 attempts" \
  "unhealthy result line"
assert_eq "$(requests down)" 4 "1 + retries requests"
pass "503 forever fails after 1 + retries attempts"

# --json, failing and passing
run_dd -C proj --json health prod
assert_eq "$rc" 3 "--json exit status when unhealthy"
printf '%s' "$out" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["schema"] == 1 and d["command"] == "health" and d["env"] == "prod", d
assert d["healthy"] is False and d["attempts"] == 4 and d["status"] == 503, d
assert d["stopped"] == "retries", d
assert [a["status"] for a in d["attempt_log"]] == [503] * 4, d
assert [a["wait_ms"] for a in d["attempt_log"]] == [50, 100, 200, 0], d
assert d["error"].startswith("health check failed: GET http://127.0.0.1:"), d
' || fail "--json document of a failure: $out"
start_stub jsonok 200
health_env prod "http://127.0.0.1:$stub_port/healthz"
expect_rc 0 -C proj --json health prod
printf '%s' "$out" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["healthy"] is True and d["attempts"] == 1 and d["status"] == 200 and d["error"] is None, d
assert isinstance(d["elapsed_ms"], int) and d["attempt_log"][0]["transfer"] == "ok", d
' || fail "--json document of a success: $out"
pass "--json documents"

# 404: fails at once, no retry
start_stub notfound 404
health_env prod "http://127.0.0.1:$stub_port/healthz" "backoff = 1s"
expect_rc 3 -C proj health prod
assert_contains "$err" "answered 404 after 1 attempt in 0.0s (expected 2xx)" "404 message"
assert_contains "$err" "hint: Only 408, 429 and 5xx answers are retried" "404 hint"
assert_eq "$(requests notfound)" 1 "404 is not retried"
pass "404 fails immediately"

# wrong body: fails at once; the right body passes
start_stub starting 200 --body 'status: starting'
health_env prod "http://127.0.0.1:$stub_port/healthz" "expect-body = \"status: up\""
expect_rc 3 -C proj health prod
assert_contains "$err" "answered 200 without 'status: up' in the body after 1 attempt" "wrong body message"
assert_contains "$err" "expect-body" "wrong body hint"
assert_eq "$(requests starting)" 1 "a wrong body is not retried"
start_stub up 200 --body '{"db":"ok","status: up":true}'
health_env prod "http://127.0.0.1:$stub_port/healthz" "expect-body = \"status: up\""
expect_rc 0 -C proj health prod
pass "expect-body"

# HEAD, and an expected set other than 2xx
start_stub head 204
health_env prod "http://127.0.0.1:$stub_port/healthz" "method = HEAD" "expect-status = 204,304"
expect_rc 0 -C proj health prod
assert_contains "$(cat "$DD_PG_TMP/head.log")" "HEAD /healthz" "HEAD request"
start_stub notexpected 200
health_env prod "http://127.0.0.1:$stub_port/healthz" "expect-status = 204"
expect_rc 3 -C proj health prod
assert_contains "$err" "answered 200 after 1 attempt in 0.0s (expected 204)" "status outside the set"
health_env prod "http://127.0.0.1:$stub_port/healthz" "method = HEAD" "expect-body = ok"
expect_rc 2 -C proj health prod
assert_contains "$err" "pipeline/prod.conf: [health] expect-body: cannot be checked with method HEAD" "HEAD with body"
health_env prod "ftp://127.0.0.1:$stub_port/healthz"
expect_rc 2 -C proj health prod
assert_contains "$err" "pipeline/prod.conf: [health] url: 'ftp://127.0.0.1:$stub_port/healthz' is not an http:// or https:// URL" \
  "non-http url"
pass "HEAD, expect-status and settings that cannot work"
