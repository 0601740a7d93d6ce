#!/usr/bin/env bash
# Redirects to another origin: custom headers (X-Api-Key, Authorization) are dropped when the
# redirect leaves the origin (scheme, host, port) they were configured for, and kept on the
# same origin; a redirect from https down to http is refused with a clear error.
source "$DD_SUPPORT/lib.sh"

health_env() { # ENV URL [lines...]
  local env=$1 url=$2
  shift 2
  write_env proj "$env" "$DBDEPLOY_TEST_URL" '[health]' "	url = $url" "${@/#/	}"
}
mkdir -p proj
export HEALTH_API_KEY=KeyValue-s3cret

# same origin: the header goes along
start_stub same redirect /ready 200
health_env prod "http://127.0.0.1:$stub_port/healthz" "follow-redirects = true" 'header = X-Api-Key: ${HEALTH_API_KEY}'
expect_rc 0 -C proj health prod
assert_eq "$(grep -c 'X-Api-Key' "$DD_PG_TMP/same.log")" 2 "the header follows a same-origin redirect"

# another origin (another port): the second server never sees the header
start_stub other 200
other_port=$stub_port
start_stub first redirect "http://127.0.0.1:$other_port/ready"
health_env prod "http://127.0.0.1:$stub_port/healthz" "follow-redirects = true" 'header = X-Api-Key: ${HEALTH_API_KEY}' \
  'header = Authorization: Bearer ${HEALTH_API_KEY}'
expect_rc 0 -C proj health prod
assert_contains "$(cat "$DD_PG_TMP/first.log")" "X-Api-Key" "the first origin gets the header"
assert_eq "$(requests other)" 1 "the redirect was followed to the other origin"
assert_not_contains "$(cat "$DD_PG_TMP/other.log")" "X-Api-Key" "custom header carried to another origin"
assert_not_contains "$(cat "$DD_PG_TMP/other.log")" "Authorization" "Authorization carried to another origin"
pass "custom headers stay with their origin"

# https -> http: refused, the http server is never asked
if ! command -v openssl >/dev/null 2>&1; then
  echo "skip: the openssl command is not installed" >&2
  exit 77
fi
mkdir -p tls
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -keyout tls/key.pem -out tls/cert.pem -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null ||
  fail "cannot make a test certificate"
start_stub plain 200
# a real TLS server that answers every request with a redirect to the plain http stub
python3 - "$PWD/tls" "http://127.0.0.1:$stub_port/ready" >tls/port 2>tls/err <<'PY' &
import http.server, ssl, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(302)
        self.send_header("Location", sys.argv[2])
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *a):
        pass
srv = http.server.HTTPServer(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1] + "/cert.pem", sys.argv[1] + "/key.pem")
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print(srv.server_address[1], flush=True)
srv.serve_forever()
PY
stub_pids+=($!)
for _ in $(seq 200); do [[ -s tls/port ]] && break; sleep 0.05; done
[[ -s tls/port ]] || fail "the TLS redirect server did not start: $(cat tls/err)"
health_env prod "https://127.0.0.1:$(cat tls/port)/healthz" "follow-redirects = true" "ca-file = $PWD/tls/cert.pem" \
  'header = X-Api-Key: ${HEALTH_API_KEY}'
expect_rc 3 -C proj health prod
assert_contains "$err" "refusing a redirect from https to http" "downgrade refused"
assert_contains "$err" "hint:" "downgrade hint"
assert_eq "$(requests plain)" 0 "the http server was never asked"
assert_not_contains "$out$err" "KeyValue-s3cret" "secret in output"
pass "a redirect from https to http is refused"
