# zsh_complete.zsh FPATH_DIR OUT_FILE "command line": press Tab after the line in a real
# interactive zsh (under zpty) with the completion in FPATH_DIR loaded, and print the
# candidates zsh offered, sorted, space-separated.
zmodload zsh/zpty
out=$2
zpty z zsh -f -i
zpty -w z "PS1=''; fpath=($1 \$fpath); autoload -Uz compinit; compinit -u -D; setopt no_beep"
# every candidate goes through compadd: record what it would add
zpty -w z "compadd() { local -a c; builtin compadd -O c \"\$@\"; print -l -- \"\${c[@]}\" >>'$out'; builtin compadd \"\$@\" }"
zpty -w z "rm -f '$out'; print RE''ADY"
zpty -r z line '*READY*'
# Tab; the candidates are in OUT_FILE once compadd ran (allow a moment for the rest)
zpty -w -n z "$3"$'\t'
for i in {1..100}; do [[ -s $out ]] && break; sleep 0.1; done
sleep 1
zpty -d z
[[ -f $out ]] && grep -v '^$' "$out" | sort -u | tr '\n' ' '
print
