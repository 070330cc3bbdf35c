import fs from 'node:fs';
import path from 'node:path';
import { ConnectionClosedError } from './errors.js';

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

/** Whether resolveSocketPath picks a default path (no option, no $SWITCHBOARD_SOCKET): checked more strictly. */
export function isDefaultSocketPath(explicit, env = process.env) {
  return !(typeof explicit === 'string' && explicit !== '') && !env.SWITCHBOARD_SOCKET;
}

/**
 * The client refused to connect: the socket path could let another user impersonate the broker.
 * A ConnectionClosedError: the connection was never opened.
 */
export class UnsafeSocketPathError extends ConnectionClosedError {}

/**
 * Refuses a socket path through which another user could impersonate the broker; called once per
 * connect (two lstat calls). Any path: neither the socket's directory nor the socket may be a
 * symbolic link (never followed silently: pass the real path if it is meant). A default path (e.g.
 * /tmp/switchboard-<uid>, whose parent anyone may write): the directory must also be owned by this
 * user or root and not be writable by group or others. What does not exist is left to connect().
 * @throws {UnsafeSocketPathError} naming the path, what was found and what to do.
 */
export function checkSocketPath(socketPath, isDefault, uid = currentUid()) {
  const dir = path.dirname(path.resolve(socketPath));
  let st;
  try {
    st = fs.lstatSync(dir);
  } catch (err) {
    if (err.code === 'ENOENT') return;
    throw new UnsafeSocketPathError(`cannot check the broker socket directory ${dir}: ${err.message}`, { cause: err });
  }
  if (st.isSymbolicLink()) {
    const real = path.join(fs.realpathSync(dir), path.basename(socketPath));
    throw new UnsafeSocketPathError(`refusing to connect to ${socketPath}: its directory ${dir} is a symbolic link `
      + `(to '${fs.readlinkSync(dir)}'), which another user may have planted; if it is yours, pass the real path `
      + `(${real}) as socketPath or $SWITCHBOARD_SOCKET`);
  }
  if (isDefault && uid !== undefined) {
    if (st.uid !== uid && st.uid !== 0) {
      throw new UnsafeSocketPathError(`refusing to connect to ${socketPath}: its directory ${dir} is owned by uid `
        + `${st.uid}, not by you (uid ${uid}) or root, so a broker there may be another user's impostor; remove the `
        + 'directory (or have its owner remove it) and restart the broker, or set $SWITCHBOARD_SOCKET to a socket '
        + 'in a directory you own');
    }
    if (!st.isDirectory()) {
      throw new UnsafeSocketPathError(`refusing to connect to ${socketPath}: ${dir} is not a directory`);
    }
    if (st.mode & 0o022) {
      throw new UnsafeSocketPathError(`refusing to connect to ${socketPath}: its directory ${dir} is writable by `
        + `group or others (mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')}), so anyone could replace the `
        + `socket; run 'chmod 700 ${dir}' (the broker creates it 0700) and restart the broker`);
    }
  }
  let sst;
  try {
    sst = fs.lstatSync(socketPath);
  } catch {
    return;
  }
  if (sst.isSymbolicLink()) {
    throw new UnsafeSocketPathError(`refusing to connect to ${socketPath}: the socket is a symbolic link `
      + `(to '${fs.readlinkSync(socketPath)}'); pass the real path as socketPath or $SWITCHBOARD_SOCKET if it is meant`);
  }
}

function currentUid() {
  return typeof process.getuid === 'function' ? process.getuid() : undefined;
}
