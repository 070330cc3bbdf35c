# zsh-completion-capture.zsh SCRIPT LINE...: what zsh's completion offers for each LINE, as a user gets it by TAB.
# Run as `zsh -f scripts/lib/zsh-completion-capture.zsh ...`: an interactive `zsh -f` (no rc files) in a
# pseudo-terminal (zsh/zpty) sources the completion SCRIPT (`switchboard completion zsh`), then each LINE is typed
# and followed by TAB. Prints one line per LINE: "LINE => candidates" (sorted, space-separated). compadd is wrapped
# to also write the matches it adds to a file, so nothing is parsed out of the terminal's escape sequences.
zmodload zsh/zpty || { print -u2 "zsh-completion-capture: no zsh/zpty module"; exit 2 }
script=$1; shift
out=$(mktemp)
zpty z zsh -f -i
zpty -w z "source ${(q)script}"
zpty -w z "compadd() { local -a __m; builtin compadd -O __m \"\$@\"; print -rl -- \$__m >> ${(q)out}; builtin compadd \"\$@\"; }"
zpty -w z "zstyle ':completion:*' menu no; LISTPROMPT=''; LISTMAX=1000"
zpty -w z "print -r -- DONE-MARK >> ${(q)out}"
await() { # until the shell in the terminal has run the line that writes DONE-MARK (at most 20 s)
  local i junk
  for i in {1..400}; do
    grep -qx DONE-MARK $out && return 0
    zpty -r -t z junk 2>/dev/null # keep the terminal drained
    sleep 0.05
  done
  print -u2 "zsh-completion-capture: no answer from the shell in the terminal within 20 s"
  exit 1
}
for line in "$@"; do
  await
  : > $out
  zpty -n -w z "$line"$'\t'
  zpty -w z $'\C-e\C-u'"print -r -- DONE-MARK >> ${(q)out}"
  await
  print -r -- "$line => $(grep -vx -e DONE-MARK -e '' $out | sort -u | tr '\n' ' ' | sed 's/ $//')"
done
zpty -d z
rm -f $out
