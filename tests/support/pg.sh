# shellcheck shell=bash
# Throwaway PostgreSQL clusters for tests and demos. Source this file, set DD_PG_TMP to a
# private directory, then:
#   url=$(pg_start NAME)       start a cluster (unix socket only) and print its URL
#   pg_stop_all                stop every cluster started under DD_PG_TMP (run it in a trap)
# As root, initdb and the server run as an unprivileged user ($DD_PG_USER, default postgres),
# because PostgreSQL refuses to run as root.
#
# Clusters are copied from a template made once by initdb (DD_PG_TEMPLATE_DIR, shared between
# parallel tests under a lock), which saves about a second per cluster.
# DD_PG_SETTINGS adds server settings ("-c fsync=off ..."); tests use the fast defaults below.

pg_bindir() {
  local d
  if [[ -n "${DD_PG_BINDIR:-}" ]]; then echo "$DD_PG_BINDIR"; return 0; fi
  if command -v pg_config >/dev/null 2>&1; then
    d=$(pg_config --bindir 2>/dev/null)
    if [[ -x "$d/initdb" ]]; then echo "$d"; return 0; fi
  fi
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -V -r); do
    if [[ -x "$d/initdb" ]]; then echo "$d"; return 0; fi
  done
  d=$(dirname "$(command -v initdb 2>/dev/null)" 2>/dev/null)
  if [[ -n "$d" && -x "$d/initdb" ]]; then echo "$d"; return 0; fi
  return 1
}

_pg_as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u "${DD_PG_USER:-postgres}" -- "$@"
  else
    "$@"
  fi
}

_pg_chown() {
  if [[ $(id -u) -eq 0 ]]; then chown -R "${DD_PG_USER:-postgres}" "$@"; fi
}

# Make (once) the initdb template; concurrent callers wait on a lock.
_pg_template() {
  local bindir=$1 tdir=${DD_PG_TEMPLATE_DIR:-$DD_PG_TMP/template}
  mkdir -p "$(dirname "$tdir")"
  (
    flock 9
    if [[ ! -f "$tdir/PG_VERSION" ]]; then
      rm -rf "$tdir" "$tdir.new"
      mkdir -p "$tdir.new"
      chmod 700 "$tdir.new"
      _pg_chown "$tdir.new"
      if ! _pg_as_owner env TZ=UTC "$bindir/initdb" -D "$tdir.new" -U postgres -A trust -E UTF8 \
           --locale=C.UTF-8 --no-sync >"$tdir.log" 2>&1; then
        cat "$tdir.log" >&2
        exit 1
      fi
      mv "$tdir.new" "$tdir"
    fi
  ) 9>"$tdir.lock"
  echo "$tdir"
}

pg_start() {
  local name=$1 bindir tdir dir sock
  bindir=$(pg_bindir) || { echo "pg_start: no PostgreSQL server binaries (initdb) found" >&2; return 1; }
  [[ -n "${DD_PG_TMP:-}" ]] || { echo "pg_start: DD_PG_TMP is not set" >&2; return 1; }
  chmod 755 "$DD_PG_TMP" # the server user must reach its data dir inside
  tdir=$(_pg_template "$bindir") || return 1
  dir=$DD_PG_TMP/pg-$name
  sock=$dir/sock
  mkdir -p "$dir"
  chmod 755 "$DD_PG_TMP" "$dir"
  cp -a "$tdir" "$dir/data"
  mkdir -p "$sock"
  _pg_chown "$dir"
  chmod 700 "$dir/data"
  echo "$dir" >>"$DD_PG_TMP/clusters.list"
  if ! _pg_as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
       -o "-k $sock -p 5432 -c listen_addresses='' -c timezone=UTC ${DD_PG_SETTINGS--c fsync=off -c synchronous_commit=off -c full_page_writes=off}" \
       start >"$dir/pg_ctl.log" 2>&1; then
    echo "pg_start: cluster '$name' did not start:" >&2
    cat "$dir/pg_ctl.log" "$dir/server.log" >&2 2>/dev/null
    return 1
  fi
  echo "postgresql:///postgres?host=$sock&port=5432&user=postgres"
}

pg_stop_all() {
  local bindir dir
  [[ -f "${DD_PG_TMP:-}/clusters.list" ]] || return 0
  bindir=$(pg_bindir) || return 0
  while read -r dir; do
    [[ -f "$dir/data/postmaster.pid" ]] || continue
    _pg_as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
  done <"$DD_PG_TMP/clusters.list"
  rm -f "$DD_PG_TMP/clusters.list"
}
