#!/usr/bin/env bash
# TLS verification against a real TLS server (openssl s_server with a throwaway self-signed
# certificate for 127.0.0.1): an untrusted certificate fails at once and is not retried, ca-file
# makes it trusted, a missing ca-file and a name mismatch fail too. Verification cannot be off.
source "$DD_SUPPORT/lib.sh"

if ! command -v openssl >/dev/null 2>&1; then
  echo "skip: the openssl command is not installed" >&2
  exit 77
fi

server_pid=
trap '[[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null; true' EXIT

health_env() { # ENV URL [lines...]
  local env=$1 url=$2
  shift 2
  write_env proj "$env" "$DBDEPLOY_TEST_URL" '[health]' "	url = $url" "${@/#/	}"
}

mkdir -p proj tls
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -keyout tls/key.pem -out tls/cert.pem -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null ||
  fail "cannot make a test certificate"
openssl s_server -accept 127.0.0.1:0 -cert tls/cert.pem -key tls/key.pem -www >tls/server.out 2>&1 &
server_pid=$!
port=
for _ in $(seq 200); do
  port=$(sed -n 's/^ACCEPT 127\.0\.0\.1:\([0-9]*\)$/\1/p' tls/server.out)
  [[ -n "$port" ]] && break
  kill -0 "$server_pid" 2>/dev/null || fail "openssl s_server exited: $(cat tls/server.out)"
  sleep 0.05
done
[[ -n "$port" ]] || fail "openssl s_server did not print its port"

# untrusted (self-signed, not in the system bundle): fails at once, not retried
health_env prod "https://127.0.0.1:$port/" "retries = 3" "backoff = 1s"
expect_rc 3 -C proj health prod
assert_contains "$err" "error: health check failed: GET https://127.0.0.1:$port/ failed after 1 attempt in" \
  "untrusted certificate"
assert_contains "$err" "TLS error:" "TLS reason"
assert_contains "$err" "hint: Set [health] ca-file in pipeline/prod.conf to the CA bundle" "TLS hint"
pass "an untrusted certificate fails without retries"

# trusted through ca-file
health_env prod "https://127.0.0.1:$port/" "ca-file = $PWD/tls/cert.pem"
expect_rc 0 -C proj health prod
assert_contains "$out" "prod: healthy (GET https://127.0.0.1:$port/ answered 200" "trusted with ca-file"
pass "ca-file makes the certificate trusted"

# the certificate names 127.0.0.1, not localhost: the host check is on too
health_env prod "https://localhost:$port/" "ca-file = $PWD/tls/cert.pem" "retries = 3" "backoff = 1s"
expect_rc 3 -C proj health prod
assert_contains "$err" "failed after 1 attempt in" "name mismatch is not retried"
assert_contains "$err" "TLS error:" "name mismatch is a TLS failure"
assert_contains "$err" "hint: The server's certificate does not name the host" "name mismatch hint"
pass "the host name is verified"

# a ca-file that does not exist is a config error, before any request
health_env prod "https://127.0.0.1:$port/" "ca-file = $PWD/tls/missing.pem"
expect_rc 2 -C proj health prod
assert_contains "$err" "error: pipeline/prod.conf: [health] ca-file: cannot read '$PWD/tls/missing.pem': No such file or directory" \
  "missing ca-file"
pass "a missing ca-file is a config error"
