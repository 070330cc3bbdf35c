# Kept so that older callers still run: scripts/switchboard now runs the distribution that Maven builds
# (dist/target/switchboard-VERSION/), and `./mvnw install` (scripts/test) builds it too.
# sb_write_classpath ROOT: nothing left to do.
sb_write_classpath() {
  :
}
