# bash completion for dbdeploy                                  -*- shell-script -*-
# Commands, their options, and environment names from pipeline/*.conf (of -C DIR or the
# current directory).

_dbdeploy_envs()
{
    local dir=. i
    for ((i = 1; i < COMP_CWORD; i++)); do
        if [[ ${COMP_WORDS[i]} == -C ]]; then dir=${COMP_WORDS[i + 1]}; fi
    done
    local f
    for f in "$dir"/pipeline/*.conf; do
        [[ -e $f ]] || continue
        f=${f##*/}
        f=${f%.conf}
        [[ $f == dbdeploy ]] || printf '%s\n' "$f"
    done
}

_dbdeploy()
{
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
    local commands="adopt apply backup backups changelog deploy gate health hook init lint mark new plan restore rollback status verify"
    local cmd="" i
    for ((i = 1; i < COMP_CWORD; i++)); do
        case ${COMP_WORDS[i]} in
        -C) ((i++)) ;;
        -*) ;;
        *) cmd=${COMP_WORDS[i]}; break ;;
        esac
    done
    if [[ $prev == -C ]]; then
        COMPREPLY=($(compgen -d -- "$cur"))
        return
    fi
    if [[ -z $cmd ]]; then
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "-C --json -q --quiet -v --verbose --color=auto --color=always --color=never --version --help" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$commands $(_dbdeploy_envs)" -- "$cur"))
        fi
        return
    fi
    local opts="--help"
    case $cmd in
    adopt) opts+=" --from --table --dry-run" ;;
    apply) opts+=" --to --dry-run" ;;
    backup) opts+=" --verify" ;;
    changelog) opts+=" --commit" ;;
    deploy) opts+=" --dry-run" ;;
    hook) opts+=" --force --chain" ;;
    lint) opts+=" --format --json" ;;
    mark) opts+=" --applied --pending" ;;
    new) opts+=" --format --timestamp" ;;
    restore) opts+=" --yes --force" ;;
    rollback) opts+=" --steps --to --allow-missing-down --dry-run" ;;
    verify) opts+=" --base --allow-out-of-order" ;;
    esac
    case $prev in
    --from) COMPREPLY=($(compgen -W "golang-migrate dbmate" -- "$cur")); return ;;
    --format) [[ $cmd == lint ]] && COMPREPLY=($(compgen -W "text github json" -- "$cur")) || COMPREPLY=($(compgen -W "golang plain dbmate" -- "$cur")); return ;;
    --verify) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    elif [[ $cmd == hook ]]; then
        COMPREPLY=($(compgen -W "install pre-push" -- "$cur"))
    elif [[ $cmd == restore && $prev != restore ]]; then
        COMPREPLY=($(compgen -f -- "$cur"))
    elif [[ $cmd != init && $cmd != new && $cmd != verify ]]; then
        COMPREPLY=($(compgen -W "$(_dbdeploy_envs)" -- "$cur"))
    fi
}

complete -F _dbdeploy dbdeploy
