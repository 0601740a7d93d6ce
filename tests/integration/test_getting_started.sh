#!/usr/bin/env bash
# docs/getting-started.md, followed to the letter: every ```sh block of the page runs, in
# order, in one shell, with dbdeploy on PATH and the test cluster as the local server.
source "$DD_SUPPORT/lib.sh"

doc=$DBDEPLOY_SOURCE_DIR/docs/getting-started.md
script=$PWD/steps.sh
awk '/^```sh$/ {on = 1; next} /^```$/ {on = 0} on' "$doc" >"$script"
[[ $(grep -c . "$script") -ge 15 ]] || fail "expected the page's commands, got: $(cat "$script")"
bindir=$(dirname "$DBDEPLOY_BIN")
git config --global user.name "Getting Started"
git config --global user.email "start@example.com"
out=$(PATH="$bindir:$PATH" bash -euo pipefail "$script" 2>&1) || { echo "$out" >&2; fail "a step of docs/getting-started.md failed"; }
assert_contains "$out" "applied 1 migration to dev" "apply dev"
assert_contains "$out" "installed the pre-push hook" "hook installed"
assert_contains "$out" "ok: 1 migration;" "verify"
assert_contains "$out" "deployed 1 migration to staging" "staging deploy"
assert_contains "$out" "# Deployments to staging" "changelog printed"
assert_eq "$(q "postgresql:///myapp_staging" "select count(*) from users")" "0" "the table exists on staging"
assert_contains "$out" "deployed 1 migration to prod" "production deploy"
assert_eq "$(q "postgresql:///myapp_prod" "select count(*) from users")" "0" "the table exists on production"
[[ -z "$(git -C myapp status --porcelain)" ]] || fail "the page leaves uncommitted files: $(git -C myapp status --porcelain)"
pass "getting started, as written"
