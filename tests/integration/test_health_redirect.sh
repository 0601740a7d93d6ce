#!/usr/bin/env bash
# Redirects against a real server: not followed by default (302 fails at once, one request),
# followed with follow-redirects = true, never to another protocol, and at most 5 in a row.
source "$DD_SUPPORT/lib.sh"

# health_env ENV URL [lines...]: pipeline/ENV.conf with a [health] section
health_env() {
  local env=$1 url=$2
  shift 2
  write_env proj "$env" "$DBDEPLOY_TEST_URL" '[health]' "	url = $url" "${@/#/	}"
}

mkdir -p proj

# not followed by default: the 302 is the answer, and it is not retried
start_stub redir redirect /ready 200
health_env prod "http://127.0.0.1:$stub_port/healthz"
expect_rc 3 -C proj health prod
assert_contains "$err" "answered 302 after 1 attempt in 0.0s (expected 2xx; redirects are not followed)" \
  "redirect not followed"
assert_contains "$err" "hint: The endpoint redirects; point [health] url at the final address, or set follow-redirects = true in pipeline/prod.conf." \
  "redirect hint"
assert_eq "$(requests redir)" 1 "one request when redirects are not followed"
pass "a redirect is not followed by default"

# followed when allowed: the stub's second entry (200) answers the redirected request
start_stub follow redirect /ready 200
health_env prod "http://127.0.0.1:$stub_port/healthz" "follow-redirects = true"
expect_rc 0 -C proj health prod
assert_contains "$out" "prod: healthy" "redirect followed"
assert_eq "$(cut -d' ' -f1-2 "$DD_PG_TMP/follow.log" | tr '\n' ' ')" "GET /healthz GET /ready " \
  "the redirect was followed to /ready"
pass "a redirect is followed with follow-redirects = true"

# a 302 that is expected is simply a pass
start_stub moved redirect /elsewhere
health_env prod "http://127.0.0.1:$stub_port/healthz" "expect-status = 302"
expect_rc 0 -C proj health prod
pass "an expected 302 passes"

# never to another protocol, even when following
start_stub ftp redirect "ftp://127.0.0.1:$stub_port/x"
health_env prod "http://127.0.0.1:$stub_port/healthz" "follow-redirects = true" "backoff = 1s"
expect_rc 3 -C proj health prod
assert_contains "$err" "failed after 1 attempt in 0.0s: unusable URL:" "redirect to ftp refused"
assert_eq "$(requests ftp)" 1 "a redirect to another protocol is not retried"
pass "redirects stay on http and https"

# a redirect loop stops after 5 redirects (6 requests) and is not retried
start_stub loop redirect /again
health_env prod "http://127.0.0.1:$stub_port/healthz" "follow-redirects = true" "backoff = 1s"
expect_rc 3 -C proj health prod
assert_contains "$err" "failed after 1 attempt in 0.0s: more than 5 redirects" "redirect loop"
assert_eq "$(requests loop)" 6 "the first request and 5 redirects"
pass "redirect chains are bounded"
