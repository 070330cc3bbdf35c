// Opening a connection to the broker: the socket, the handshake (a HEARTBEAT the broker answers once it
// has accepted the connection), waiting for a broker that is not up yet, and reading a refusal.

import net from 'node:net';
import { debuglog } from 'node:util';
import { FrameType, Format, FrameDecoder, FramingError, encodeFrame } from './framing.js';
import { ConnectionClosedError, CancelledError, PayloadTooLargeError, ProtocolError, errorFromCode } from './errors.js';
import { checkSocketPath } from './socketpath.js';

const debug = debuglog('switchboard');
// The socket's own buffer: frames past this mark wait in the client's send queue (sendqueue.js).
export const SOCKET_HIGH_WATER_MARK = 64 * 1024;
// After a first contact ended in EPIPE/ECONNRESET with no frame read: how long a read-only second
// connection waits for the broker's refusal (it sends one ERROR frame at once, then closes).
const REFUSAL_PROBE_MS = 1000;

export function abortedError(signal, what, correlationId) {
  return new CancelledError(`${what} was aborted`, { cause: signal.reason, correlationId });
}

// A wait that an AbortSignal can end; the listener is removed when the wait ends either way.
function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal && signal.aborted) {
      reject(abortedError(signal, 'connect'));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortedError(signal, 'connect'));
    };
    const timer = setTimeout(() => {
      if (signal) signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    if (signal) signal.addEventListener('abort', onAbort, { once: true });
  });
}

export function errorFromBody(body) {
  return errorFromCode(body.error_code, body.error, { correlationId: body.correlation_id, payload: body.payload });
}

export function toLocalError(err) {
  if (err instanceof FramingError) {
    return err.code === 'PAYLOAD_TOO_LARGE' ? new PayloadTooLargeError(err.message) : new ProtocolError(err.message);
  }
  return err;
}

/**
 * @typedef {{ socketPath: string, isDefault: boolean, maxPayload: number, connectTimeoutMs: number }} Settings
 */

// Connects and completes the handshake. While the broker is not there yet (no socket file, or a
// stale one nobody listens on) it tries again with backoff until `waitMs` has passed.
/**
 * Connects and completes the handshake; resolves with { socket, decoder, rest } (rest: frames that
 * followed the broker's answer).
 * @param {Settings} settings
 * @param {number} waitMs how long to wait for a broker that is not there yet.
 * @param {AbortSignal} [signal]
 */
export async function establish(settings, waitMs, signal) {
  const started = Date.now();
  let delay = 25;
  for (let attempt = 1; ; attempt++) {
    if (signal && signal.aborted) throw abortedError(signal, 'connect');
    try {
      const socket = await connectSocket(settings, signal);
      return await handshake(settings, socket, signal);
    } catch (err) {
      const waited = Date.now() - started;
      if (!err.brokerAbsent || waited + delay > waitMs) {
        if (err.brokerAbsent && waitMs > 0) {
          throw new ConnectionClosedError(
            `no broker at ${settings.socketPath} after waiting ${waited} ms (waitForBrokerMs=${waitMs}, ${attempt} attempts): ${err.cause ? err.cause.code : err.message}`,
            { cause: err.cause ?? err },
          );
        }
        throw err;
      }
      debug('no broker at %s yet (%s), attempt %d, next in %d ms', settings.socketPath, err.cause ? err.cause.code : err.message, attempt, delay);
      await sleep(delay, signal);
      delay = Math.min(delay * 2, 500);
    }
  }
}

function connectSocket(settings, signal) {
  return new Promise((resolve, reject) => {
    try {
      checkSocketPath(settings.socketPath, settings.isDefault); // another user's socket: UnsafeSocketPathError
    } catch (err) {
      reject(err);
      return;
    }
    const socket = net.createConnection({ path: settings.socketPath, writableHighWaterMark: SOCKET_HIGH_WATER_MARK });
    const done = () => {
      clearTimeout(timer);
      socket.removeListener('error', onError);
      if (signal) signal.removeEventListener('abort', onAbort);
    };
    const timer = setTimeout(() => {
      done();
      socket.destroy();
      reject(new ConnectionClosedError(
        `cannot connect to the broker at ${settings.socketPath}: no answer within ${settings.connectTimeoutMs} ms`,
      ));
    }, settings.connectTimeoutMs);
    const onError = (err) => {
      done();
      const e = new ConnectionClosedError(`cannot connect to the broker at ${settings.socketPath}: ${err.message}`, { cause: err });
      // Nothing listens there (yet): the broker is not started, or it died and left its socket file.
      e.brokerAbsent = err.code === 'ENOENT' || err.code === 'ECONNREFUSED';
      reject(e);
    };
    const onAbort = () => {
      done();
      socket.destroy();
      reject(abortedError(signal, 'connect'));
    };
    if (signal) signal.addEventListener('abort', onAbort, { once: true });
    socket.once('error', onError);
    socket.once('connect', () => {
      done();
      resolve(socket);
    });
  });
}

// The first exchange on a new connection: a HEARTBEAT, answered by the broker once it has accepted
// the connection. A broker that refuses the client (FORBIDDEN, CONNECTION_LIMIT_REACHED) sends one
// ERROR frame and closes; that error is what the handshake rejects with. Resolves with the socket,
// its decoder and any frames that followed the answer.
function handshake(settings, socket, signal) {
  return new Promise((resolve, reject) => {
    const decoder = new FrameDecoder(settings.maxPayload);
    let brokerError = null;
    let framesRead = 0;
    let finished = false;
    const finish = (err, rest) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.removeListener('data', onData);
      socket.removeListener('error', onError);
      socket.removeListener('close', onClose);
      if (signal) signal.removeEventListener('abort', onAbort);
      if (err) {
        socket.destroy();
        debug('handshake with %s failed: %s', settings.socketPath, err.message);
        reject(err);
      } else {
        debug('connected to %s', settings.socketPath);
        resolve({ socket, decoder, rest });
      }
    };
    const onData = (chunk) => {
      let frames;
      try {
        frames = decoder.push(chunk);
      } catch (err) {
        finish(toLocalError(err));
        return;
      }
      for (let i = 0; i < frames.length; i++) {
        framesRead++;
        const { type, body } = frames[i];
        if (type === FrameType.HEARTBEAT) {
          finish(null, frames.slice(i + 1));
          return;
        }
        if (type === FrameType.ERROR && body && typeof body === 'object' && !body.correlation_id) {
          brokerError = errorFromBody(body);
          finish(brokerError);
          return;
        }
      }
    };
    let closing = false;
    const onClosed = (err) => {
      if (closing) return; // 'error' then 'close': the first one decides
      closing = true;
      if (brokerError) {
        finish(brokerError);
        return;
      }
      const refusedEarly = framesRead === 0 && err && (err.code === 'EPIPE' || err.code === 'ECONNRESET');
      const closed = new ConnectionClosedError(
        `the broker at ${settings.socketPath} closed the connection before answering${err ? `: ${err.message}` : ''}`,
        err ? { cause: err } : {},
      );
      if (!refusedEarly) {
        finish(closed);
        return;
      }
      // Our write met a connection the broker had already closed, so its last frame was lost with
      // the socket. A refusal is the same for every connection of this client: read it on a second
      // connection that writes nothing.
      probeRefusal(settings).then((refusal) => finish(refusal ?? closed), () => finish(closed));
    };
    const onError = (err) => onClosed(err);
    const onClose = () => onClosed(null);
    const onAbort = () => finish(abortedError(signal, 'connect'));
    const timer = setTimeout(() => finish(new ConnectionClosedError(
      `the broker at ${settings.socketPath} accepted the connection but did not answer within ${settings.connectTimeoutMs} ms`,
    )), settings.connectTimeoutMs);
    if (signal) signal.addEventListener('abort', onAbort, { once: true });
    socket.on('data', onData);
    socket.once('error', onError);
    socket.once('close', onClose);
    socket.write(encodeFrame(FrameType.HEARTBEAT, {}, Format.JSON, settings.maxPayload));
  });
}

// A read-only connection: resolves with the broker's connection-level error if it sends one
// within REFUSAL_PROBE_MS, otherwise with null.
function probeRefusal(settings) {
  return new Promise((resolve) => {
    const decoder = new FrameDecoder(settings.maxPayload);
    const socket = net.createConnection({ path: settings.socketPath });
    const done = (value) => {
      clearTimeout(timer);
      socket.destroy();
      debug('refusal probe of %s: %s', settings.socketPath, value ? value.message : 'no error frame');
      resolve(value);
    };
    const timer = setTimeout(() => done(null), Math.min(REFUSAL_PROBE_MS, settings.connectTimeoutMs));
    socket.on('data', (chunk) => {
      try {
        for (const { type, body } of decoder.push(chunk)) {
          if (type === FrameType.ERROR && body && typeof body === 'object' && !body.correlation_id) {
            done(errorFromBody(body));
            return;
          }
        }
      } catch {
        done(null);
      }
    });
    socket.once('error', () => done(null));
    socket.once('close', () => done(null));
  });
}
