import path from 'node:path';

/**
 * The broker's socket path, in the order PROTOCOL.md gives:
 * explicit option; $SWITCHBOARD_SOCKET; $XDG_RUNTIME_DIR/switchboard/broker.sock;
 * /tmp/switchboard-<uid>/broker.sock.
 */
export function resolveSocketPath(explicit, env = process.env, uid = currentUid()) {
  if (typeof explicit === 'string' && explicit !== '') return explicit;
  if (env.SWITCHBOARD_SOCKET) return env.SWITCHBOARD_SOCKET;
  if (env.XDG_RUNTIME_DIR) return path.join(env.XDG_RUNTIME_DIR, 'switchboard', 'broker.sock');
  if (uid === undefined) {
    throw new Error('cannot determine the broker socket path: no uid on this platform; pass socketPath');
  }
  return `/tmp/switchboard-${uid}/broker.sock`;
}

function currentUid() {
  return typeof process.getuid === 'function' ? process.getuid() : undefined;
}
