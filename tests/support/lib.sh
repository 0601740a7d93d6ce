# shellcheck shell=bash
# Helpers for integration tests (sourced by each tests/integration/test_*.sh).
# run.sh provides: DBDEPLOY_BIN, DBDEPLOY_TEST_URL, PGHOST/PGPORT/PGUSER, DD_PG_TMP, cwd = a
# scratch directory. Every helper fails the test with a message naming what was expected.
set -euo pipefail

DD_TEST_NAME=$(basename "${BASH_SOURCE[1]:-$0}" .sh)
export NO_COLOR=1
export GIT_AUTHOR_NAME="Test Author" GIT_AUTHOR_EMAIL="author@example.com"
export GIT_COMMITTER_NAME="Test Committer" GIT_COMMITTER_EMAIL="committer@example.com"
export GIT_CONFIG_NOSYSTEM=1 HOME=$DD_PG_TMP/home
mkdir -p "$HOME"
# shellcheck source=pg.sh
source "$DD_SUPPORT/pg.sh"

fail() {
  echo "FAIL [$DD_TEST_NAME]: $*" >&2
  exit 1
}

pass() {
  echo "ok [$DD_TEST_NAME]: $*"
}

# run_dd ARGS...: run dbdeploy; sets $out, $err, $rc (never fails by itself)
run_dd() {
  local o e
  o=$(mktemp) e=$(mktemp)
  set +e
  "$DBDEPLOY_BIN" "$@" >"$o" 2>"$e"
  rc=$?
  set -e
  out=$(cat "$o") err=$(cat "$e")
  rm -f "$o" "$e"
  if [[ "${DD_TEST_VERBOSE:-0}" == 1 ]]; then
    printf '$ dbdeploy %s  -> %s\n%s\n%s\n' "$*" "$rc" "$out" "$err" >&2
  fi
}

# expect_rc CODE ARGS...: run dbdeploy and require exit status CODE
expect_rc() {
  local want=$1
  shift
  run_dd "$@"
  if [[ "$rc" != "$want" ]]; then
    printf 'stdout:\n%s\nstderr:\n%s\n' "$out" "$err" >&2
    fail "dbdeploy $* exited $rc, expected $want"
  fi
}

assert_eq() { # actual expected message
  [[ "$1" == "$2" ]] || fail "$3: expected '$2', got '$1'"
}

assert_contains() { # haystack needle message
  [[ "$1" == *"$2"* ]] || { printf '%s\n' "$1" >&2; fail "$3: output does not contain '$2'"; }
}

assert_not_contains() { # haystack needle message
  [[ "$1" != *"$2"* ]] || { printf '%s\n' "$1" >&2; fail "$3: output contains '$2'"; }
}

# new_db NAME: create a database in the main cluster and print its URL
new_db() {
  createdb "$1"
  echo "postgresql:///$1?host=$PGHOST&port=$PGPORT&user=postgres"
}

# q DB SQL: one value from a query
q() {
  psql -X -At -v ON_ERROR_STOP=1 -d "$1" -c "$2"
}

# wait_for DB SQL: poll until the query returns t (up to 15 s), else fail naming it
wait_for() {
  local _
  for _ in $(seq 1 150); do
    [[ "$(q "$1" "$2")" == t ]] && return 0
    sleep 0.1
  done
  fail "timed out waiting for: $2"
}

# dump DB: schema and data, stable, for equality checks
dump() {
  pg_dump --no-owner --no-privileges --restrict-key=dbdeploytest -d "$1" | grep -vE '^-- Dumped (from|by)'
}

# git_init DIR: a repository with a first empty commit
git_init() {
  mkdir -p "$1"
  git -C "$1" init -q -b main
  git -C "$1" commit -q --allow-empty -m "initial"
}

# write_env DIR ENV URL [extra config lines...]: pipeline/ENV.conf pointing at URL
write_env() {
  local dir=$1 env=$2 url=$3
  shift 3
  mkdir -p "$dir/pipeline"
  {
    printf '[database]\n\turl = %s\n' "$url"
    for line in "$@"; do printf '%s\n' "$line"; done
  } >"$dir/pipeline/$env.conf"
}

# commit_all DIR MESSAGE
commit_all() {
  git -C "$1" add -A
  git -C "$1" commit -q -m "$2"
}

# commit_conf DIR: commit what changed under pipeline/ (deploy, plan and gate read the committed
# configuration; an uncommitted edit blocks them)
commit_conf() {
  git -C "$1" add pipeline
  git -C "$1" diff --cached --quiet -- pipeline || git -C "$1" commit -q -m "configuration" -- pipeline
}

# --- git pushes through the installed pre-push hook ---
# gpush DIR ARGS...: git push; sets $prc and $perr (stderr, where git shows the hook's output)
gpush() {
  local dir=$1
  shift
  set +e
  perr=$(git -C "$dir" push "$@" 2>&1 >/dev/null)
  prc=$?
  set -e
}

# commit_line DIR [REV]: "<short id> '<subject>' (<author>, <date>)" as the hook prints it
commit_line() {
  git -C "$1" log -1 --format="%h '%s' (%an, %ad)" --date=short "${2:-HEAD}"
}

# --- the local HTTP endpoint (tests/support/http_stub) ---
STUB=$DBDEPLOY_BUILD_DIR/tests/http_stub
stub_pids=()
stop_stubs() {
  local p
  for p in "${stub_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${stub_pids[@]}"; do wait "$p" 2>/dev/null || true; done
  stub_pids=()
}
trap stop_stubs EXIT

# start_stub NAME ARGS...: http_stub in the background, logging to $DD_PG_TMP/NAME.log; sets
# stub_port from the first line it prints
start_stub() {
  local name=$1
  shift
  local portfile=$DD_PG_TMP/$name.port
  : >"$DD_PG_TMP/$name.log"
  "$STUB" --log "$DD_PG_TMP/$name.log" "$@" >"$portfile" 2>"$DD_PG_TMP/$name.err" &
  stub_pids+=($!)
  stub_port=
  for _ in $(seq 200); do
    if [[ $(wc -l <"$portfile") -ge 1 ]]; then
      read -r stub_port <"$portfile"
      return 0
    fi
    kill -0 "${stub_pids[-1]}" 2>/dev/null || fail "http_stub $* exited: $(cat "$DD_PG_TMP/$name.err")"
    sleep 0.05
  done
  fail "http_stub $* did not print its port"
}

requests() { # NAME: how many requests the stub NAME received
  wc -l <"$DD_PG_TMP/$1.log" | tr -d ' '
}

# --- a two-environment project for pipeline tests ---
# pipeline_project DIR STAGING_URL PROD_URL HEALTH_URL: staging and prod (gated on staging), backups
# under DIR/.dbdeploy/backups, the health check on HEALTH_URL with a bearer token from
# $HEALTH_TOKEN. Migrations are added by the caller.
pipeline_project() {
  local dir=$1 staging=$2 prod=$3 health=$4
  git_init "$dir"
  mkdir -p "$dir/migrations" "$dir/pipeline"
  cat >"$dir/pipeline/dbdeploy.conf" <<CONF
[database]
	lock-wait = 5s
[health]
	timeout = 1s
	deadline = 3s
	backoff = 100ms
CONF
  cat >"$dir/pipeline/staging.conf" <<CONF
[database]
	url = $staging
[health]
	url = $health
	header = Authorization: Bearer \${HEALTH_TOKEN}
CONF
  cat >"$dir/pipeline/prod.conf" <<CONF
[database]
	url = $prod
[gate]
	requires = staging
[health]
	url = $health
	header = Authorization: Bearer \${HEALTH_TOKEN}
CONF
  printf '.dbdeploy/\n' >"$dir/.gitignore"
}

# five_migrations DIR: 0001..0005, each creating a table with a row
five_migrations() {
  local i
  for i in 1 2 3 4 5; do
    printf 'CREATE TABLE t%s (id int PRIMARY KEY, note text);\nINSERT INTO t%s VALUES (%s, %s);\n' \
      "$i" "$i" "$i" "'row $i'" >"$1/migrations/000${i}_t$i.up.sql"
    printf 'DROP TABLE t%s;\n' "$i" >"$1/migrations/000${i}_t$i.down.sql"
  done
}
