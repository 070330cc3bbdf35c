# Shared by scripts/switchboard and scripts/test: the run-time class path of the built modules.
# Usage: sb_write_classpath ROOT   (after the reactor is installed; writes examples/target/switchboard.classpath)
sb_write_classpath() {
  local root=$1 cp=""
  (cd "$root" && ./mvnw -q -B -pl examples dependency:build-classpath \
      -Dmdep.outputFile=target/switchboard.deps -DexcludeGroupIds=io.switchboard -DincludeScope=runtime >&2)
  for m in codec gateway-codec transport broker examples; do cp="$cp:$root/$m/target/classes"; done
  printf '%s:%s\n' "${cp#:}" "$(cat "$root/examples/target/switchboard.deps")" > "$root/examples/target/switchboard.classpath"
}
