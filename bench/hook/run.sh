#!/usr/bin/env bash
# Benchmark: the pre-push hook on a large repository.
#
#   bench/hook/run.sh [RUNS]        (default 20 runs of each command)
#
# Builds (once, cached) a synthetic repository with 50,000 commits on origin/main, 5,000 of
# which add a migration (the rest change application files), plus 10 local commits on main of
# which 4 add migrations: the push being checked. Then times, interleaved and in the same run,
#   dbdeploy hook pre-push origin URL   with git's line for that push on stdin
#   git diff --name-status origin/main main -- migrations/
# and prints both medians and their ratio. Goal: hook median <= 100 ms and <= 3x git's.
#
# Environment: DBDEPLOY_BIN (default build/src/dbdeploy; use an optimised, non-sanitizer
# build), DD_BENCH_CACHE (default ${TMPDIR:-/tmp}/dbdeploy-bench-hook; delete it to rebuild).
# Exits 1 when the goal is missed.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
runs=${1:-20}
bin=${DBDEPLOY_BIN:-$root/build/src/dbdeploy}
cache=${DD_BENCH_CACHE:-${TMPDIR:-/tmp}/dbdeploy-bench-hook}
base_commits=50000
every=10 # one commit in ten adds a migration: 5,000 migrations
pushed=10
repo=$cache/repo-v1-$base_commits-$every-$pushed

[[ -x "$bin" ]] || { echo "error: no dbdeploy binary at '$bin'" >&2; echo "hint: Build it first, or set DBDEPLOY_BIN." >&2; exit 2; }
(( BASH_VERSINFO[0] >= 5 )) || { echo "error: bash 5 is needed (EPOCHREALTIME)" >&2; exit 2; }

export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null LC_ALL=C

# The fast-import stream: every commit's data is inline and ASCII, so awk's lengths are bytes.
make_stream() {
  awk -v n="$base_commits" -v every="$every" -v extra="$pushed" '
    function blob(path, text) {
      printf "M 100644 inline %s\ndata %d\n%s\n", path, length(text), text
    }
    BEGIN {
      t = 1700000000; mig = 0
      for (i = 1; i <= n + extra; i++) {
        t += 97
        add = (i <= n) ? (i % every == 0) : ((i - n) % 3 == 1)
        if (add) {
          mig++
          msg = sprintf("add migration %05d", mig)
        } else {
          msg = sprintf("change app file %d (commit %d)", i % 250, i)
        }
        printf "commit refs/heads/main\nmark :%d\n", i
        printf "author Bench Author <author@example.com> %d +0000\n", t
        printf "committer Bench Committer <committer@example.com> %d +0000\n", t
        printf "data %d\n%s\n", length(msg), msg
        if (add) {
          blob(sprintf("migrations/%05d_step_%d.sql", mig, mig),
               sprintf("-- migration %d\ncreate table step_%d (\n    id bigint primary key,\n    created_at timestamptz not null default now()\n);", mig, mig))
        } else {
          blob(sprintf("app/module_%03d.txt", i % 250), sprintf("module %d\nrevision %d", i % 250, i))
        }
        printf "\n"
        if (i == n)
          printf "reset refs/remotes/origin/main\nfrom :%d\n\n", n
      }
    }'
}

if [[ ! -f "$repo/.ready" ]]; then
  echo "building the benchmark repository in $repo (once; takes a minute)..." >&2
  rm -rf "$repo"
  mkdir -p "$repo"
  git -C "$repo" init -q -b main
  t0=$EPOCHREALTIME
  make_stream | git -C "$repo" fast-import --quiet
  # a checkout is not needed (the hook reads committed trees only) but makes the repository ordinary
  git -C "$repo" reset -q --hard main
  t1=$EPOCHREALTIME
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "built in %.1f s\n", b - a }' >&2
  touch "$repo/.ready"
fi

local_sha=$(git -C "$repo" rev-parse main)
remote_sha=$(git -C "$repo" rev-parse origin/main)
line="refs/heads/main $local_sha refs/heads/main $remote_sha"
commits=$(git -C "$repo" rev-list --count main)
migrations=$(git -C "$repo" ls-tree main migrations/ | wc -l)
diff_lines=$(git -C "$repo" diff --name-status "$remote_sha" "$local_sha" -- migrations/ | wc -l)

# the push is clean: the hook must pass
if ! "$bin" -C "$repo" hook pre-push origin bench <<<"$line"; then
  echo "error: the hook refused the benchmark push" >&2
  exit 1
fi

hook() { "$bin" -C "$repo" hook pre-push origin bench <<<"$line"; }
gitdiff() { git -C "$repo" diff --name-status "$remote_sha" "$local_sha" -- migrations/ >/dev/null; }

# microseconds taken by one call of $1
time_us() {
  local a b
  a=$EPOCHREALTIME
  "$1"
  b=$EPOCHREALTIME
  echo $(((${b/./} - ${a/./})))
}

median_ms() { # microsecond values on stdin
  sort -n | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.1f", m / 1000 }'
}

for _ in 1 2 3; do hook; gitdiff; done # warm the page cache
hook_times=() git_times=()
for ((i = 0; i < runs; i++)); do
  hook_times+=("$(time_us hook)")
  git_times+=("$(time_us gitdiff)")
done
hook_ms=$(printf '%s\n' "${hook_times[@]}" | median_ms)
git_ms=$(printf '%s\n' "${git_times[@]}" | median_ms)
ratio=$(awk -v h="$hook_ms" -v g="$git_ms" 'BEGIN { printf "%.2f", h / g }')

cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
echo "repository: $commits commits, $migrations migrations; push of $pushed commits ($diff_lines new migrations)"
echo "machine:    $(nproc) CPUs, ${cpu:-unknown CPU}; $(git --version); dbdeploy $("$bin" --version | awk '{print $2}')"
echo "runs:       $runs of each, interleaved, after 3 warm-up runs"
echo "hook pre-push median:         $hook_ms ms"
echo "git diff --name-status median: $git_ms ms"
echo "ratio (hook / git):           $ratio"
if awk -v h="$hook_ms" -v r="$ratio" 'BEGIN { exit !(h <= 100 && r <= 3) }'; then
  echo "goal (<= 100 ms and <= 3x git): met"
else
  echo "goal (<= 100 ms and <= 3x git): MISSED"
  exit 1
fi
