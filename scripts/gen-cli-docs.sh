#!/usr/bin/env bash
# Generate what comes from the command table (src/cli/commands.c): the bash and zsh completion
# scripts and the COMMANDS section of the man page.
#   scripts/gen-cli-docs.sh BIN OUTDIR          write OUTDIR/{dbdeploy.bash,_dbdeploy,dbdeploy.1}
#   scripts/gen-cli-docs.sh BIN --update        refresh the committed copies (completions/, docs/)
#   scripts/gen-cli-docs.sh BIN --check WHAT    exit 1 when the committed copy of WHAT
#                                               (completion or man) differs from the binary's
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$1
mode=${2:?usage: gen-cli-docs.sh BIN OUTDIR|--update|--check completion|man}

# docs/dbdeploy.1 with its COMMANDS section replaced by the binary's
man_page() {
  local section
  section=$("$bin" __man-commands)
  # ENVIRON, not -v: awk would interpret the roff backslashes
  SECTION=$section awk '
    /^\.SH COMMANDS/ { print ENVIRON["SECTION"]; skip = 1; next }
    skip && /^\.SH / { skip = 0 }
    !skip { print }
  ' "$root/docs/dbdeploy.1"
}

generate() { # outdir
  mkdir -p "$1"
  "$bin" completion bash >"$1/dbdeploy.bash"
  "$bin" completion zsh >"$1/_dbdeploy"
  man_page >"$1/dbdeploy.1.tmp"
  mv "$1/dbdeploy.1.tmp" "$1/dbdeploy.1"
}

case $mode in
  --update)
    "$bin" completion bash >"$root/completions/dbdeploy.bash"
    "$bin" completion zsh >"$root/completions/_dbdeploy"
    man_page >"$root/docs/dbdeploy.1.tmp"
    mv "$root/docs/dbdeploy.1.tmp" "$root/docs/dbdeploy.1"
    ;;
  --check)
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    generate "$tmp"
    case ${3:?completion or man} in
      completion) pairs=("dbdeploy.bash completions/dbdeploy.bash" "_dbdeploy completions/_dbdeploy") ;;
      man) pairs=("dbdeploy.1 docs/dbdeploy.1") ;;
      *) echo "gen-cli-docs.sh: --check completion or man" >&2; exit 2 ;;
    esac
    stale=0
    for p in "${pairs[@]}"; do
      set -- $p
      if ! diff -u "$root/$2" "$tmp/$1"; then
        echo "error: $2 is stale: it differs from what the binary generates" >&2
        stale=1
      fi
    done
    if ((stale)); then
      echo "hint: Run 'scripts/gen-cli-docs.sh build/src/dbdeploy --update' and commit the result." >&2
    fi
    exit $stale
    ;;
  *) generate "$mode" ;;
esac
