#!/usr/bin/env bash
# Health-check time limits against a real server: a hanging endpoint is cut off at the overall
# deadline (wall time measured), a refused connection is retried until the deadline, 503s stop
# at the deadline before the retries run out, an early close is not retried, and SIGTERM stops
# a probe at once.
source "$DD_SUPPORT/lib.sh"

# health_env ENV URL [lines...]: pipeline/ENV.conf with a [health] section
health_env() {
  local env=$1 url=$2
  shift 2
  write_env proj "$env" "$DBDEPLOY_TEST_URL" '[health]' "	url = $url" "${@/#/	}"
}

now_ms() { date +%s%3N; }

# assert_between VALUE LOW HIGH MESSAGE. The upper bounds leave ~1.5 s for starting dbdeploy
# (slow under ASan on a loaded 2-core runner); without the deadline each case would take 10 s
# or more, so the bounds still fail when the deadline does not hold.
assert_between() {
  (($1 >= $2 && $1 <= $3)) || fail "$4: $1 is not within [$2, $3]"
}

json_attempts() { # the "attempts" count of a --json document on stdin
  python3 -c 'import json, sys; print(json.load(sys.stdin)["attempts"])'
}

mkdir -p proj

# An endpoint that accepts and never answers: requests time out (1s each, retried) and the
# whole probe ends at the 3s deadline: 0-1.0s, wait 0.2s, 1.2-2.2s, wait 0.4s, 2.6-3.0s (the
# last request clipped to the 0.4s left).
start_stub hang hang 30s
health_env prod "http://127.0.0.1:$stub_port/healthz" "timeout = 1s" "deadline = 3s" "backoff = 200ms"
t0=$(now_ms)
expect_rc 3 -C proj health prod
took=$(($(now_ms) - t0))
assert_contains "$err" "did not answer in time after 3 attempts in 3.0s (deadline 3s reached)" "hang message"
assert_contains "$err" "hint: The endpoint was not healthy before the deadline" "hang hint"
assert_between "$took" 2900 4500 "wall time of a 3s deadline"
echo "deadline 3s with a hanging endpoint took ${took}ms"
pass "a hanging endpoint ends at the deadline"

# The deadline also clips a per-request timeout longer than itself
health_env prod "http://127.0.0.1:$stub_port/healthz" "timeout = 10s" "deadline = 1500ms"
t0=$(now_ms)
expect_rc 3 -C proj --json health prod
took=$(($(now_ms) - t0))
assert_eq "$(printf '%s' "$out" | json_attempts)" 1 "one clipped attempt"
assert_contains "$out" '"timeout_ms":1500' "the request timeout was clipped to the deadline"
assert_between "$took" 1400 3000 "wall time of a 1.5s deadline with a 10s timeout"
echo "deadline 1.5s with a 10s request timeout took ${took}ms"
pass "request timeouts are clipped to the deadline"

# A server that closes without answering is not a timeout: it fails at once
start_stub early hang 300ms
health_env prod "http://127.0.0.1:$stub_port/healthz" "timeout = 5s"
expect_rc 3 -C proj health prod
assert_contains "$err" "failed after 1 attempt in 0.3s: empty reply from server" "an empty reply is not retried"
assert_eq "$(requests early)" 1 "one request for an empty reply"
pass "an empty reply fails immediately"

# Connection refused: nothing listens on the port of a stub we stopped. Retried with backoff
# (0.1, 0.2, 0.4, 0.8s, then the last wait shortened) until the 2s deadline.
start_stub gone 200
port=$stub_port
stop_stubs
health_env prod "http://127.0.0.1:$port/healthz" "timeout = 1s" "deadline = 2s" "backoff = 100ms"
t0=$(now_ms)
expect_rc 3 -C proj health prod
took=$(($(now_ms) - t0))
assert_contains "$err" "error: health check failed: GET http://127.0.0.1:$port/healthz refused the connection after" \
  "refused message"
assert_contains "$err" "(deadline 2s reached)" "refused until the deadline"
assert_between "$took" 1600 3500 "wall time of refused connections with a 2s deadline"
echo "refused connections with a 2s deadline took ${took}ms"
run_dd -C proj --json health prod
n=$(printf '%s' "$out" | json_attempts)
((n >= 5)) || fail "refused connections were retried only $n times"
pass "connection refused is retried until the deadline"

# 503 forever with more retries than the deadline allows: the deadline ends it
start_stub busy 503
health_env prod "http://127.0.0.1:$stub_port/healthz" "deadline = 2s" "retries = 100" "backoff = 200ms" \
  "max-backoff = 200ms"
t0=$(now_ms)
expect_rc 3 -C proj health prod
took=$(($(now_ms) - t0))
assert_contains "$err" "answered 503 after" "503 until the deadline"
assert_contains "$err" "(expected 2xx; deadline 2s reached)" "503 stopped by the deadline"
assert_between "$took" 1600 3500 "wall time of 503s with a 2s deadline"
n=$(requests busy)
((n >= 8 && n <= 11)) || fail "503 every 200ms for 2s made $n requests"
pass "the deadline stops retries of 503"

# SIGTERM during a probe stops it at once (the request in flight is aborted)
start_stub stuck hang 30s
health_env prod "http://127.0.0.1:$stub_port/healthz" "timeout = 20s" "deadline = 60s"
t0=$(now_ms)
"$DBDEPLOY_BIN" -C proj health prod >"$DD_PG_TMP/term.out" 2>"$DD_PG_TMP/term.err" &
probe=$!
sleep 1
kill -TERM "$probe"
set +e
wait "$probe"
rc=$?
set -e
took=$(($(now_ms) - t0))
assert_eq "$rc" 1 "exit status after SIGTERM"
assert_contains "$(cat "$DD_PG_TMP/term.err")" "interrupted after 1 attempt" "SIGTERM message"
assert_between "$took" 900 3000 "SIGTERM ends the probe promptly"
pass "SIGTERM stops a probe"
