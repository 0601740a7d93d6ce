#!/usr/bin/env bash
# The harness itself: a cluster is up, a second one can be started, both answer.
source "$DD_SUPPORT/lib.sh"

v=$(q "$DBDEPLOY_TEST_URL" "select 1")
assert_eq "$v" "1" "main cluster answers"
url2=$(pg_start second)
v=$(q "$url2" "show port")
assert_eq "$v" "5432" "second cluster answers on its own socket"
assert_contains "$(cat "$DD_PG_TMP/clusters.list")" "pg-second" "second cluster is tracked for cleanup"
pass "two clusters up"
