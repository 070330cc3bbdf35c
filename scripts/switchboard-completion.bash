# bash completion for scripts/switchboard: `source scripts/switchboard-completion.bash`
# Completes commands and options; service names come from `switchboard services --json` when a broker runs.
_switchboard_complete() {
  local cur prev cmd
  cur=${COMP_WORDS[COMP_CWORD]}
  prev=${COMP_WORDS[COMP_CWORD-1]}
  cmd=${COMP_WORDS[1]:-}
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "broker call stream publish listen services describe stats help" -- "$cur"))
    return
  fi
  case "$prev" in
    --socket) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    --timeout|--count) return ;;
  esac
  if [[ "$cur" == -* ]]; then
    if [ "$cmd" = broker ]; then
      COMPREPLY=($(compgen -W "--demo --socket --socket-dir --aeron-dir --external-driver --liveness-timeout-ms --help" -- "$cur"))
    else
      COMPREPLY=($(compgen -W "--socket --timeout --count --json --retain --help" -- "$cur"))
    fi
    return
  fi
  if [ "$COMP_CWORD" -eq 2 ] && { [ "$cmd" = call ] || [ "$cmd" = stream ] || [ "$cmd" = describe ]; }; then
    local services
    services=$("${COMP_WORDS[0]}" services --json --timeout 2 2>/dev/null \
      | python3 -c 'import json,sys; print(" ".join(s["name"] for s in json.load(sys.stdin).get("services", [])))' 2>/dev/null)
    COMPREPLY=($(compgen -W "$services" -- "$cur"))
  fi
}
complete -F _switchboard_complete switchboard scripts/switchboard ./scripts/switchboard
