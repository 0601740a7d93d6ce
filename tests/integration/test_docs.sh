#!/usr/bin/env bash
# The finish for users: the man page renders without warnings and documents every command and
# exit status; bash completion completes commands, options and environment names; zsh
# completion lists every command; `cmake --install` puts the binary, man page and completions
# in place.
source "$DD_SUPPORT/lib.sh"

src=$DBDEPLOY_SOURCE_DIR
expect_rc 0 --help
cmds=$(sed -n '/^commands:/,/^$/p' <<<"$out" | awk '/^  [a-z]/ {print $1}')

warn=$(groff -man -Tutf8 -ww "$src/docs/dbdeploy.1" 2>&1 >/dev/null)
assert_eq "$warn" "" "man page renders without warnings"
page=$(groff -man -Tutf8 "$src/docs/dbdeploy.1" 2>/dev/null | sed 's/.\x08//g')
for c in $cmds; do
  grep -qE "^ +${c}( |$)" <<<"$page" || fail "man page does not document '$c'"
  grep -qw "$c" "$src/completions/_dbdeploy" || fail "zsh completion lacks '$c'"
  grep -qw "$c" "$src/completions/dbdeploy.bash" || fail "bash completion lacks '$c'"
  grep -q "dbdeploy $c\|\`$c\`\|\b$c\b" "$src/README.md" || fail "README does not mention '$c'"
done
exits=$(sed -n "/^EXIT STATUS/,/^[A-Z]/p" <<<"$page")
for s in 0 1 2 3 4 5; do grep -qE "^ +$s +[A-Z]" <<<"$exits" || fail "man page does not document exit status $s"; done

# bash completion, for real
proj=$PWD/proj
mkdir -p "$proj/pipeline"
touch "$proj/pipeline/staging.conf" "$proj/pipeline/prod.conf" "$proj/pipeline/dbdeploy.conf"
export PATH=$(dirname "$DBDEPLOY_BIN"):$PATH
complete_words() { # words..., the last one being completed
  bash -c '
    source "$1"; shift
    COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    _dbdeploy
    printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "
  ' _ "$src/completions/dbdeploy.bash" "$@"
}
assert_eq "$(complete_words dbdeploy -C "$proj" st)" "staging status " "commands and env names"
assert_eq "$(complete_words dbdeploy -C "$proj" status p)" "prod " "env names from -C"
assert_eq "$(complete_words dbdeploy rollback --st)" "--steps " "command options"
assert_eq "$(complete_words dbdeploy adopt x --from g)" "golang-migrate " "option values"
# names that depend on the project come from the binary ('dbdeploy __complete'), found on PATH
mkdir -p "$proj/migrations" "$proj/backups/prod"
touch "$proj/migrations/0001_a.up.sql" "$proj/migrations/0001_a.down.sql" "$proj/migrations/0002_b.sql"
touch "$proj/backups/prod/20261121T101500Z-1a2b3c4.tar.zst"
printf '[backup]\n\tdir = backups\n' >"$proj/pipeline/prod.conf"
assert_eq "$(complete_words dbdeploy -C "$proj" mark prod '')" "0001 0002 " "mark ENV <TAB>: versions"
assert_eq "$(complete_words dbdeploy -C "$proj" rollback prod --to '')" "0001 0002 " "rollback --to: versions"
assert_eq "$(complete_words dbdeploy -C "$proj" apply --to 0 prod --dr)" "--dry-run " "option values skipped"
assert_eq "$(complete_words dbdeploy -C "$proj" restore prod '')" "20261121T101500Z-1a2b3c4.tar.zst latest " \
  "restore ENV <TAB>: archives"
assert_eq "$(complete_words dbdeploy -C "$proj" prod --d)" "--dry-run " "'dbdeploy ENV' completes as deploy"
assert_eq "$(complete_words dbdeploy hook '')" "install pre-push " "subcommands"
assert_eq "$(complete_words dbdeploy hook install --c)" "--chain --color=always --color=auto --color=never " \
  "subcommand options and global options after the command"
assert_eq "$(complete_words dbdeploy completion '')" "bash zsh " "literal choices"
assert_eq "$(complete_words dbdeploy help sta)" "status " "help COMMAND"
# zsh completion, for real: Tab in an interactive zsh (zpty) with the committed script loaded
if command -v zsh >/dev/null; then
  zsh -n "$src/completions/_dbdeploy" || fail "zsh completion does not parse"
  mkdir -p "$PWD/zfp"
  cp "$src/completions/_dbdeploy" "$PWD/zfp/"
  zcomplete() { (cd "$proj" && timeout 30 zsh "$DD_SUPPORT/zsh_complete.zsh" "$OLDPWD/zfp" "$OLDPWD/zout" "$1"); }
  assert_eq "$(zcomplete "dbdeploy st")" "staging status " "zsh: commands and env names"
  assert_eq "$(zcomplete "dbdeploy rollback prod --st")" "--steps " "zsh: command options"
  assert_eq "$(zcomplete "dbdeploy adopt prod --from ")" "dbmate flyway golang-migrate " "zsh: option values"
  assert_eq "$(zcomplete "dbdeploy mark prod ")" "0001 0002 " "zsh: versions"
  assert_eq "$(zcomplete "dbdeploy restore prod ")" "20261121T101500Z-1a2b3c4.tar.zst latest " "zsh: archives"
  assert_eq "$(zcomplete "dbdeploy hook ")" "install pre-push " "zsh: subcommands"
else
  echo "note [$DD_TEST_NAME]: zsh not installed; zsh completion only generated, not exercised" >&2
fi

# installation
prefix=$PWD/prefix
cmake --install "$DBDEPLOY_BUILD_DIR" --prefix "$prefix" >/dev/null
for f in bin/dbdeploy share/man/man1/dbdeploy.1 share/bash-completion/completions/dbdeploy share/zsh/vendor-completions/_dbdeploy; do
  [[ -f "$prefix/$f" ]] || fail "cmake --install did not install $f"
done
"$prefix/bin/dbdeploy" --version >/dev/null || fail "installed binary does not run"
# every docs/<page>.md a hint or help text names is installed under the doc directory, same path
named=$(grep -aoE 'docs/[a-z-]+\.md' "$prefix/bin/dbdeploy" | sort -u)
[[ $(wc -l <<<"$named") -ge 5 ]] || fail "expected the binary to name docs pages, found: $named"
for page in $named README.md pipeline/ci/github-actions.yml pipeline/ci/gitlab-ci.yml; do
  [[ -f "$prefix/share/doc/dbdeploy/$page" ]] || fail "cmake --install did not install $page (named by dbdeploy)"
done
pass "man page, completions, README and installation"
