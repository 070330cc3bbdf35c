// The Switchboard socket client: one connection, many calls in flight, demultiplexed by correlation id.

import { EventEmitter } from 'node:events';
import { debuglog } from 'node:util';
import {
  FrameType, Format, FrameDecoder, encodeFrame, formatCode,
  DEFAULT_MAX_PAYLOAD, ABSOLUTE_MAX_PAYLOAD, HEADER_SIZE,
} from './framing.js';
import {
  SwitchboardError, ServiceError, ConnectionClosedError, RequestTimeoutError, CancelledError,
  PayloadTooLargeError, ProtocolError, InvalidRequestError, ActorNotFoundError,
} from './errors.js';
import { resolveSocketPath, isDefaultSocketPath } from './socketpath.js';
import { SendQueue } from './sendqueue.js';
import { establish, abortedError, errorFromBody, toLocalError } from './connector.js';

const DEFAULT_TIMEOUT_MS = 30000;
const DEADLINE_MARGIN_MS = 2000;
const DEFAULT_CONNECT_TIMEOUT_MS = 5000;
const DEFAULT_MAX_QUEUED_BYTES = 8 * 1024 * 1024;
// Broker errors after which reconnecting cannot help.
const FATAL_CODES = new Set(['FORBIDDEN', 'UNSUPPORTED_PROTOCOL_VERSION']);

/** Whether a connection-level error with this code ends reconnection (the refusal is final). */
export function isFinalRefusal(code) {
  return FATAL_CODES.has(code);
}

// NODE_DEBUG=switchboard: connection life cycle and cold-path events on stderr.
const debug = debuglog('switchboard');

/** Opens a connection to the broker. Resolves with a connected Client. */
export async function connect(options = {}) {
  const client = new Client(options);
  await client._open(options.signal);
  return client;
}


function isStreamResult(value) {
  if (value === null || typeof value !== 'object') return false;
  if (typeof value[Symbol.asyncIterator] === 'function') return true;
  return Object.prototype.toString.call(value) === '[object Generator]';
}

/**
 * What is wrong with a subject (or, with `pattern`, a subscription pattern), or null when it is valid:
 * 1 to 255 characters of printable ASCII without space, no empty token, and wildcards (`*` one
 * token, `>` the last token) only as whole tokens of a pattern; the broker's rules
 * (clients/vectors/subjects.json).
 */
export function subjectProblem(text, pattern) {
  if (typeof text !== 'string' || text.length === 0) return 'empty';
  if (text.length > 255) return `${text.length} characters, over 255`;
  if (!/^[\x21-\x7e]+$/.test(text)) return 'printable ASCII only, no space';
  const tokens = text.split('.');
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t === '') return 'empty token';
    if (t === '*' || t === '>') {
      if (!pattern) return `wildcard '${t}' in a subject`;
      if (t === '>' && i !== tokens.length - 1) return "'>' must be the last token";
    } else if (t.includes('*') || t.includes('>')) {
      return `wildcard inside the token '${t}'`;
    }
  }
  return null;
}

/** Does a subject match a subscription pattern (`*` one token, `>` one or more trailing tokens)? */
export function subjectMatches(pattern, subject) {
  if (pattern === subject) return true;
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return i === p.length - 1 && s.length > i;
    if (i >= s.length) return false;
    if (p[i] !== '*' && p[i] !== s[i]) return false;
  }
  return p.length === s.length;
}

class QueuedError {
  constructor(error) {
    this.error = error;
  }
}

/** An async queue that ends normally or with an error; the base of streams and subscriptions. */
class AsyncQueue {
  constructor() {
    this._items = [];
    this._waiters = [];
    this._ended = false;
    this._error = null;
  }

  _push(item) {
    if (this._ended) return;
    const waiter = this._waiters.shift();
    if (waiter) waiter.resolve({ value: item, done: false });
    else this._items.push(item);
  }

  /** Makes one next() reject with `error` (in order with the items) without ending the queue. */
  _pushError(error) {
    if (this._ended) return;
    const waiter = this._waiters.shift();
    if (waiter) waiter.reject(error);
    else this._items.push(new QueuedError(error));
  }

  _end(error = null) {
    if (this._ended) return;
    this._ended = true;
    this._error = error;
    const waiters = this._waiters.splice(0);
    for (const w of waiters) {
      if (this._error) {
        const e = this._error;
        this._error = null; // thrown once; later next() calls report done
        w.reject(e);
      } else {
        w.resolve({ value: undefined, done: true });
      }
    }
  }

  next() {
    if (this._items.length > 0) {
      const item = this._items.shift();
      if (item instanceof QueuedError) return Promise.reject(item.error);
      return Promise.resolve({ value: item, done: false });
    }
    if (this._ended) {
      if (this._error) {
        const e = this._error;
        this._error = null;
        return Promise.reject(e);
      }
      return Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve, reject) => this._waiters.push({ resolve, reject }));
  }

  [Symbol.asyncIterator]() {
    return this;
  }

  /** Reads everything until the end and returns it as an array. */
  async toArray() {
    const out = [];
    for await (const item of this) out.push(item);
    return out;
  }
}

/** The items of a request-stream call, in sequence order. Async iterable; cancel() ends it early. */
export class StreamCall extends AsyncQueue {
  constructor(client, correlationId, idleMs) {
    super();
    this._client = client;
    this._correlationId = correlationId;
    this._idleMs = idleMs;
    this._nextSeq = 0;
    this._outOfOrder = new Map();
    this._cancelled = false;
    this._finished = false; // the final frame arrived (or the call failed)
    this._timer = null;
    this._queued = null; // the REQUEST frame while it waits in the client's send queue
    this._signal = null;
    this._onAbort = null;
    this._armTimer();
  }

  /** @returns {string} the correlation id of the REQUEST. */
  get correlationId() {
    return this._correlationId;
  }

  // The caller's signal cancels the stream; its listener goes when the iteration ends.
  _watch(signal) {
    this._signal = signal;
    this._onAbort = () => this.cancel();
    signal.addEventListener('abort', this._onAbort, { once: true });
  }

  _unwatch() {
    if (this._signal) {
      this._signal.removeEventListener('abort', this._onAbort);
      this._signal = null;
      this._onAbort = null;
    }
  }

  _armTimer() {
    clearTimeout(this._timer);
    this._timer = setTimeout(() => {
      if (this._finished) return;
      const unsent = this._finish();
      this._end(new RequestTimeoutError(
        unsent
          ? `stream ${this._correlationId}: not sent within ${this._idleMs} ms (the broker did not read; the request was dropped unsent)`
          : `stream ${this._correlationId}: no frame for ${this._idleMs} ms`,
        { local: true, correlationId: this._correlationId },
      ));
      if (!unsent) this._client._sendCancel(this._correlationId);
    }, this._idleMs);
  }

  /** Ends the call's bookkeeping; true when its REQUEST frame was never written (now dropped). */
  _finish() {
    this._finished = true;
    clearTimeout(this._timer);
    this._unwatch();
    this._client._pending.delete(this._correlationId);
    return this._client._unqueue(this);
  }

  _handle(type, body) {
    if (type === FrameType.STREAM) {
      if (body.is_final) {
        this._finish();
        // Frames held back waiting for a missing sequence number are delivered in order.
        for (const seq of [...this._outOfOrder.keys()].sort((a, b) => a - b)) this._push(this._outOfOrder.get(seq));
        this._outOfOrder.clear();
        if ((body.error_code || body.error) && !this._cancelled) this._end(errorFromBody(body));
        else this._end();
        return;
      }
      this._armTimer();
      const seq = body.sequence;
      if (typeof seq !== 'number' || seq === this._nextSeq) {
        this._push(body.payload);
        this._nextSeq++;
        while (this._outOfOrder.has(this._nextSeq)) {
          this._push(this._outOfOrder.get(this._nextSeq));
          this._outOfOrder.delete(this._nextSeq);
          this._nextSeq++;
        }
      } else if (seq > this._nextSeq) {
        this._outOfOrder.set(seq, body.payload);
      }
      return;
    }
    // Not expected for a stream call, but never leave the caller waiting.
    this._finish();
    if (type === FrameType.ERROR || body.success === false) {
      this._end(this._cancelled ? null : errorFromBody(body));
    } else {
      if (body.payload !== undefined) this._push(body.payload);
      this._end();
    }
  }

  _fail(err) {
    if (this._finished) return;
    this._finish();
    this._end(this._cancelled ? null : err);
  }

  /** Asks the broker to end the stream; the iteration ends at once (without an error). */
  cancel() {
    this._unwatch();
    if (this._cancelled || this._finished) {
      this._items.length = 0;
      this._end();
      return;
    }
    this._cancelled = true;
    this._items.length = 0; // frames already received but not yet read are dropped too
    this._end();
    if (this._client._unqueue(this)) {
      this._finish(); // never sent: nothing to cancel at the broker
      return;
    }
    this._client._sendCancel(this._correlationId);
    // Keep the entry until the broker's final frame arrives, so it is recognised; bounded wait.
    clearTimeout(this._timer);
    this._timer = setTimeout(() => this._finish(), DEADLINE_MARGIN_MS);
  }

  /**
   * Called by `break` in for-await: cancels a stream that has not finished.
   * @returns {Promise<IteratorReturnResult<undefined>>}
   */
  return() {
    this.cancel();
    return Promise.resolve({ value: undefined, done: true });
  }
}

/** A subscription: async iterable of notifications (unless a callback was given). */
export class Subscription extends AsyncQueue {
  constructor(client, patterns, callback) {
    super();
    this._client = client;
    this._patterns = patterns;
    this.subscribedTypes = [];
    this._callback = callback;
    this._active = true;
    /** Notifications the broker dropped on the connection while this subscription was active. */
    this._lost = 0;
    /** How many times the connection dropped while this subscription was active. */
    this._interruptions = 0;
  }

  /** @returns {string[]} the patterns of this subscription. */
  get patterns() {
    return this._patterns;
  }

  /** @returns {boolean} false once unsubscribed or the client closed. */
  get active() {
    return this._active;
  }

  /** @returns {number} notifications the broker dropped on the connection while this subscription was active. */
  get lost() {
    return this._lost;
  }

  /** @returns {number} how many times the connection dropped while this subscription was active. */
  get interruptions() {
    return this._interruptions;
  }

  _matches(subject) {
    return this._patterns.some((p) => subjectMatches(p, subject));
  }

  // The connection dropped and the client reconnects: the iteration's next step rejects once with
  // `err`, later steps continue with what arrives after the reconnect. Callbacks just carry on.
  _interrupt(err) {
    if (!this._active) return;
    this._interruptions++;
    if (!this._callback) this._pushError(err);
  }

  _deliver(notification) {
    if (!this._active) return;
    if (this._callback) {
      try {
        const r = this._callback(notification);
        if (r && typeof r.catch === 'function') r.catch((err) => this._client._report(err));
      } catch (err) {
        this._client._report(err);
      }
    } else {
      this._push(notification);
    }
  }

  /**
   * Removes the subscription (the patterns no other subscription of this client holds). It ends
   * locally at once; the promise waits for the broker's answer (`options.signal` ends that wait).
   */
  async unsubscribe(options = {}) {
    if (!this._active) return;
    this._active = false;
    this._items.length = 0;
    this._end();
    await this._client._unsubscribe(this, options.signal);
  }

  /** @returns {Promise<IteratorReturnResult<undefined>>} */
  return() {
    this.unsubscribe().catch(() => {});
    return Promise.resolve({ value: undefined, done: true });
  }
}

/** A service this client serves; unregister() stops it. */
export class ServiceRegistration {
  constructor(client, name, handler, fields = {}) {
    this._client = client;
    this._name = name;
    this._handler = handler;
    this._fields = fields; // the REGISTER body, sent again after a reconnect
    this._active = true;
  }

  /** @returns {string} the service name. */
  get name() {
    return this._name;
  }

  /** @returns {boolean} false once unregistered or the client closed. */
  get active() {
    return this._active;
  }

  /** Stops serving: locally at once; the promise waits for the broker's answer (`options.signal` ends that wait). */
  async unregister(options = {}) {
    if (!this._active) return;
    this._active = false;
    try {
      if (!this._client._closed && this._client._connected) {
        await this._client._control(FrameType.UNREGISTER, { service: this._name }, undefined, options.signal);
      }
    } finally {
      if (this._client._services.get(this._name) === this) this._client._services.delete(this._name);
    }
  }
}

export class Client extends EventEmitter {
  constructor(options = {}) {
    super();
    this._socketPath = resolveSocketPath(options.socketPath);
    this._defaultSocketPath = isDefaultSocketPath(options.socketPath);
    this._format = formatCode(options.format) === Format.MSGPACK ? 'msgpack' : 'json';
    this._maxPayload = options.maxPayload ?? DEFAULT_MAX_PAYLOAD;
    if (!(this._maxPayload > 0 && this._maxPayload <= ABSOLUTE_MAX_PAYLOAD)) {
      throw new RangeError(`maxPayload must be between 1 and ${ABSOLUTE_MAX_PAYLOAD}, got ${options.maxPayload}`);
    }
    this._maxQueuedBytes = options.maxQueuedBytes ?? Math.max(DEFAULT_MAX_QUEUED_BYTES, 2 * (this._maxPayload + HEADER_SIZE));
    if (!(this._maxQueuedBytes >= this._maxPayload + HEADER_SIZE)) {
      throw new RangeError(`maxQueuedBytes must hold one whole frame (at least maxPayload + ${HEADER_SIZE} = ${this._maxPayload + HEADER_SIZE}), got ${options.maxQueuedBytes}`);
    }
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this._connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this._waitForBrokerMs = options.waitForBrokerMs ?? 0;
    if (!(this._waitForBrokerMs >= 0 && Number.isFinite(this._waitForBrokerMs))) {
      throw new RangeError(`waitForBrokerMs must be a finite number of ms >= 0, got ${options.waitForBrokerMs}`);
    }
    this._closed = false;
    /** True while a connection is open (false while reconnecting). */
    this._connected = false;
    this._closeReason = null;
    this._reconnectEnabled = options.reconnect ?? true;
    this._reconnectDelayMs = options.reconnectDelayMs ?? 100;
    this._reconnectMaxDelayMs = Math.max(options.reconnectMaxDelayMs ?? 2000, this._reconnectDelayMs);
    /** How many times this client reconnected (and re-registered, re-subscribed). */
    this._reconnects = 0;
    this._reconnectTimer = null;
    this._socket = null;
    this._decoder = new FrameDecoder(this._maxPayload);
    this._seq = 0;
    this._pending = new Map(); // correlation id -> { _handle(type, body), _fail(err) }
    this._subscriptions = new Set();
    this._pushLast = 0; // sequence of the last PUSH on the current connection
    /** PUSH frames the broker dropped for this client (gaps in `sequence`), over all its connections. */
    this._pushesLost = 0;
    this._services = new Map(); // name -> ServiceRegistration
    this._served = new Map(); // broker correlation id -> { controller, cancelled }
    this._pings = [];
    this._corked = false;
    // Frames waiting for room in the socket's buffer (bounded in bytes); drain() waiters.
    this._sendQueue = new SendQueue(this._maxQueuedBytes);
    this._drainWaiters = new Set();
    this._closedPromise = null;
    this._brokerError = null;
  }

  /** @returns {string} the broker's socket path. */
  get socketPath() { return this._socketPath; }

  /** @returns {'json' | 'msgpack'} the payload format of the frames this client sends. */
  get format() { return /** @type {'json' | 'msgpack'} */ (this._format); }

  /** @returns {number} the largest payload sent or accepted, in bytes. */
  get maxPayload() { return this._maxPayload; }

  /** @returns {number} the bound of the send queue, in bytes. */
  get maxQueuedBytes() { return this._maxQueuedBytes; }

  /** @returns {number} how long connect() and each reconnection wait for the socket and the handshake, in ms. */
  get connectTimeoutMs() { return this._connectTimeoutMs; }

  /** @returns {number} how long the first connect waits for a broker that is not there yet, in ms. */
  get waitForBrokerMs() { return this._waitForBrokerMs; }

  /** @returns {boolean} true once the client is closed for good. */
  get closed() { return this._closed; }

  /** @returns {boolean} true while a connection is open (false while reconnecting). */
  get connected() { return this._connected; }

  /** @returns {Error | null} the socket error that ended the connection, if any. */
  get closeReason() { return this._closeReason; }

  /** @returns {number} how many times this client reconnected (and re-registered, re-subscribed). */
  get reconnects() { return this._reconnects; }

  /** @returns {number} PUSH frames the broker dropped for this client (gaps in `sequence`), over all its connections. */
  get pushesLost() { return this._pushesLost; }

  /** @returns {number} bytes of frames waiting in the client's send queue for the broker to read (at most maxQueuedBytes). */
  get queuedBytes() {
    return this._sendQueue.bytes;
  }

  async _open(signal) {
    try {
      const { socket, decoder, rest } = await this._establish(this._waitForBrokerMs, signal);
      this._attach(socket, decoder);
      for (const frame of rest) this._dispatch(frame);
    } catch (err) {
      this._closed = true;
      throw err;
    }
  }

  _establish(waitMs, signal) {
    const settings = {
      socketPath: this._socketPath,
      isDefault: this._defaultSocketPath,
      maxPayload: this._maxPayload,
      connectTimeoutMs: this._connectTimeoutMs,
    };
    return establish(settings, waitMs, signal);
  }

  _attach(socket, decoder) {
    this._socket = socket;
    this._decoder = decoder ?? new FrameDecoder(this._maxPayload);
    this._brokerError = null;
    this._closeReason = null;
    this._pushLast = 0; // a new connection numbers its PUSH frames from 1
    this._connected = true;
    socket.on('data', (chunk) => { if (this._socket === socket) this._onData(chunk); });
    socket.on('drain', () => { if (this._socket === socket) this._flush(); });
    socket.on('error', (err) => {
      if (this._socket === socket && !this._closeReason) this._closeReason = err;
    });
    socket.on('close', () => { if (this._socket === socket) this._onSocketClose(); });
  }

  _onSocketClose() {
    const fatal = this._brokerError && FATAL_CODES.has(this._brokerError.code);
    debug('connection to %s closed: %s', this._socketPath,
      (this._brokerError ?? this._closeReason)?.message ?? (this._closed ? 'closed by the client' : 'closed by the broker'));
    this._sendQueue.clear();
    this._notifyWritable();
    if (this._closed || !this._reconnectEnabled || fatal) {
      this._connected = false;
      this._teardown(false);
      return;
    }
    this._interrupt(this._closedError());
    this._scheduleReconnect(this._reconnectDelayMs);
  }

  // The connection dropped and the client will reconnect: everything in flight fails now with
  // `err` (SERVICE_UNAVAILABLE); subscriptions and registrations are kept.
  _interrupt(err) {
    this._connected = false;
    for (const entry of [...this._pending.values()]) entry._fail(err);
    this._pending.clear();
    for (const ping of this._pings.splice(0)) ping.reject(err);
    for (const sub of this._subscriptions) sub._interrupt(err);
    for (const state of this._served.values()) {
      state.cancelled = true;
      state.controller.abort(err);
    }
    this._served.clear();
    this.emit('disconnect', err);
  }

  _scheduleReconnect(delayMs) {
    if (this._closed) return;
    const wait = delayMs * (0.5 + Math.random() / 2); // jitter: 50-100 % of the delay
    debug('reconnecting to %s in %d ms', this._socketPath, Math.round(wait));
    this._reconnectTimer = setTimeout(async () => {
      this._reconnectTimer = null;
      let established;
      try {
        established = await this._establish(0);
      } catch (err) {
        if (FATAL_CODES.has(err.code)) {
          // Refused for good (e.g. FORBIDDEN): trying again cannot help.
          this._brokerError = err;
          this._report(err);
          this._teardown(false);
          return;
        }
        this._scheduleReconnect(Math.min(delayMs * 2, this._reconnectMaxDelayMs));
        return;
      }
      if (this._closed) {
        established.socket.destroy();
        return;
      }
      this._attach(established.socket, established.decoder);
      for (const frame of established.rest) this._dispatch(frame);
      debug('reconnected to %s', this._socketPath);
      this._restore().catch((err) => this._report(err));
    }, wait);
  }

  // After a reconnect: REGISTER every served service and SUBSCRIBE every pattern again.
  async _restore() {
    let ok = true;
    for (const reg of [...this._services.values()]) {
      try {
        await this._control(FrameType.REGISTER, reg._fields, (b) => b.service);
      } catch (err) {
        ok = false;
        this._report(new SwitchboardError(`re-registering ${reg._name} after reconnect failed: ${err.message}`, err.code, { cause: err }));
      }
    }
    const patterns = [...new Set([...this._subscriptions].filter((s) => s._active).flatMap((s) => s._patterns))];
    if (patterns.length > 0) {
      try {
        await this._control(FrameType.SUBSCRIBE, { message_types: patterns }, (b) => b.subscribed_types ?? []);
      } catch (err) {
        ok = false;
        this._report(new SwitchboardError(`re-subscribing after reconnect failed: ${err.message}`, err.code, { cause: err }));
      }
    }
    if (!ok || !this._connected) return; // dropped again meanwhile: the next reconnect restores
    this._reconnects++;
    this.emit('reconnect');
  }

  // ---- outgoing ------------------------------------------------------------------------------

  _nextId() {
    this._seq += 1;
    return `n${this._seq}`;
  }

  _formatOf(opts) {
    return formatCode(opts && opts.format !== undefined ? opts.format : this._format);
  }

  /**
   * Writes one frame; returns false when it had to wait in the send queue or the socket's buffer is
   * full. `owner` is the call the frame belongs to: if the call ends while its frame still waits in
   * the queue, the frame is dropped unsent (see _unqueue). Throws if closed, too large, or when the
   * send queue is full (TargetBusyError).
   */
  _write(type, body, format = Format.JSON, owner = null) {
    if (this._closed || !this._connected) throw this._closedError();
    let frame;
    try {
      frame = encodeFrame(type, body, format, this._maxPayload);
    } catch (err) {
      throw toLocalError(err);
    }
    const socket = this._socket;
    if (this._sendQueue.bytes > 0 || socket.writableNeedDrain) {
      this._sendQueue.add(frame, owner);
      return false;
    }
    if (!this._corked) {
      // Batch every frame written in this tick into as few writes as possible.
      this._corked = true;
      socket.cork();
      process.nextTick(() => {
        this._corked = false;
        socket.uncork();
      });
    }
    return socket.write(frame);
  }

  /** A call ended: drops its frame if it still waits in the send queue. True when it was never written. */
  _unqueue(owner) {
    return this._sendQueue.remove(owner);
  }

  // The socket's buffer has room again: move waiting frames into it until it is full.
  _flush() {
    const socket = this._socket;
    this._sendQueue.flushInto(socket);
    if (this._sendQueue.bytes === 0 && !socket.writableNeedDrain) this._notifyWritable();
  }

  _notifyWritable() {
    if (this._drainWaiters.size === 0) return;
    const waiters = [...this._drainWaiters];
    this._drainWaiters.clear();
    for (const w of waiters) w();
  }

  /**
   * Resolves when the client can write again without queueing: nothing waits in its send queue and
   * the socket's buffer is below its high-water mark (at once if that is so already, or when the
   * connection is not open). `options.signal` ends the wait with CancelledError.
   */
  drain(options = {}) {
    const signal = options.signal;
    if (signal && signal.aborted) return Promise.reject(abortedError(signal, 'drain'));
    if (this._closed || !this._connected || (this._sendQueue.bytes === 0 && !this._socket.writableNeedDrain)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = () => {
        this._drainWaiters.delete(done);
        if (signal) signal.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = () => {
        this._drainWaiters.delete(done);
        reject(abortedError(signal, 'drain'));
      };
      this._drainWaiters.add(done);
      if (signal) signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  _drain() {
    return this.drain();
  }

  _closedError() {
    const cause = this._brokerError ?? this._closeReason ?? undefined;
    const suffix = cause && cause.message ? `: ${cause.message}` : '';
    const what = !this._closed && this._reconnectEnabled ? 'not connected to the broker (reconnecting)' : 'connection to the broker is closed';
    return new ConnectionClosedError(`${what}${suffix}`, cause ? { cause } : {});
  }

  _sendCancel(correlationId) {
    if (this._closed || !this._connected) return;
    try {
      this._write(FrameType.CANCEL, { correlation_id: correlationId });
    } catch {
      // closed meanwhile: nothing to cancel any more
    }
  }

  /**
   * Sends a frame that is answered by one RESPONSE or ERROR with the same correlation id.
   * `map` turns the RESPONSE body into the resolved value. `cancellable`: a REQUEST, for which a
   * CANCEL goes out when the caller stops waiting (deadline or signal) after the frame was written.
   * The signal's listener is removed when the call ends, however it ends.
   */
  _call(type, body, { format = Format.JSON, deadlineMs, map, cancellable = false, signal } = {}) {
    return new Promise((resolve, reject) => {
      const cid = body.correlation_id;
      if (signal && signal.aborted) {
        reject(new CancelledError('aborted before it was sent', { cause: signal.reason, correlationId: cid }));
        return;
      }
      let timer = null;
      let onAbort = null;
      const entry = {
        _queued: null, // the frame, while it waits in the send queue
        _handle: (frameType, b) => {
          settle();
          if (frameType === FrameType.ERROR || b.success === false) reject(errorFromBody(b));
          else if (frameType === FrameType.RESPONSE) resolve(map ? map(b) : b.payload);
          else reject(new ProtocolError(`unexpected frame type 0x${frameType.toString(16)} for ${cid}`));
        },
        _fail: (err) => {
          settle();
          reject(err);
        },
      };
      // Ends the call's bookkeeping; true when its frame was never written (it is dropped now).
      const settle = () => {
        clearTimeout(timer);
        if (onAbort) signal.removeEventListener('abort', onAbort);
        this._pending.delete(cid);
        return this._unqueue(entry);
      };
      timer = setTimeout(() => {
        const unsent = settle();
        if (cancellable && !unsent) this._sendCancel(cid);
        reject(new RequestTimeoutError(
          unsent
            ? `${cid} was not sent within ${deadlineMs} ms: the broker did not read, the request was dropped unsent`
            : `no answer to ${cid} within ${deadlineMs} ms`,
          { local: true, correlationId: cid },
        ));
      }, deadlineMs);
      if (signal) {
        onAbort = () => {
          const unsent = settle();
          if (cancellable && !unsent) this._sendCancel(cid);
          reject(new CancelledError(`${cid} was aborted by the caller${unsent ? ' before it was sent' : ''}`, { cause: signal.reason, correlationId: cid }));
        };
        signal.addEventListener('abort', onAbort, { once: true });
      }
      this._pending.set(cid, entry);
      try {
        this._write(type, body, format, entry);
      } catch (err) {
        settle();
        reject(err);
      }
    });
  }

  _control(type, fields, map, signal) {
    const body = { correlation_id: this._nextId(), ...fields };
    return this._call(type, body, { deadlineMs: this.timeoutMs + DEADLINE_MARGIN_MS, map, signal });
  }

  _envelope(target, messageType, payload, flags, timeoutMs) {
    if (typeof target !== 'string' || target === '') throw new TypeError('target must be a non-empty string');
    if (typeof messageType !== 'string' || messageType === '') throw new TypeError('messageType must be a non-empty string');
    const body = {
      correlation_id: this._nextId(),
      target,
      message_type: messageType,
      payload: payload === undefined ? null : payload,
    };
    if (flags.reply) body.expects_reply = true;
    if (flags.stream) body.expects_stream = true;
    if (timeoutMs !== undefined) body.response_timeout_ms = timeoutMs;
    return body;
  }

  // ---- public API ----------------------------------------------------------------------------
  // Every call that waits takes `options.signal` (an AbortSignal): aborting ends the wait with
  // CancelledError (a stream's iteration just ends), and the call removes its listener when it ends.

  /** Request-response: resolves with the service's reply payload, rejects with a SwitchboardError. */
  request(target, messageType, payload, options = {}) {
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    let body;
    try {
      body = this._envelope(target, messageType, payload, { reply: true }, timeoutMs);
    } catch (err) {
      return Promise.reject(err);
    }
    return this._call(FrameType.REQUEST, body, {
      format: this._formatOf(options),
      deadlineMs: timeoutMs + DEADLINE_MARGIN_MS,
      cancellable: true,
      signal: options.signal,
    });
  }

  /** Fire-and-forget: resolves once the broker has handed the message to the service. */
  send(target, messageType, payload, options = {}) {
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    let body;
    try {
      body = this._envelope(target, messageType, payload, {}, options.timeoutMs);
    } catch (err) {
      return Promise.reject(err);
    }
    return this._call(FrameType.REQUEST, body, {
      format: this._formatOf(options),
      deadlineMs: timeoutMs + DEADLINE_MARGIN_MS,
      map: () => undefined,
      signal: options.signal,
    });
  }

  /** Request-stream: returns an async iterable of the payloads; cancel() or the signal ends it early. */
  stream(target, messageType, payload, options = {}) {
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const body = this._envelope(target, messageType, payload, { stream: true }, timeoutMs);
    const call = new StreamCall(this, body.correlation_id, timeoutMs + DEADLINE_MARGIN_MS);
    const signal = options.signal;
    if (signal && signal.aborted) {
      call._cancelled = true;
      call._finish(); // never sent
      call._end();
      return call;
    }
    this._pending.set(body.correlation_id, call);
    try {
      this._write(FrameType.REQUEST, body, this._formatOf(options), call);
    } catch (err) {
      call._fail(err);
      return call;
    }
    if (signal) call._watch(signal);
    return call;
  }

  /**
   * Subscribes to one or more subject patterns. Without a callback the returned Subscription is
   * an async iterable of notifications; with one, the callback receives each notification.
   * `options.signal` ends the wait for the broker's answer (the subscription is then undone).
   * `subscribe(patterns, options)` is accepted too.
   */
  async subscribe(patterns, callback, options = {}) {
    if (callback !== null && typeof callback === 'object' && !Array.isArray(callback)) {
      options = callback;
      callback = undefined;
    }
    const list = typeof patterns === 'string' ? [patterns] : Array.from(patterns ?? []);
    if (list.length === 0 || list.some((p) => typeof p !== 'string' || p === '')) {
      throw new TypeError('subscribe needs one or more non-empty patterns');
    }
    if (callback !== undefined && typeof callback !== 'function') throw new TypeError('callback must be a function');
    if (options.signal && options.signal.aborted) throw abortedError(options.signal, 'subscribe');
    const sub = new Subscription(this, list, callback);
    // Registered before the SUBSCRIBE goes out: retained messages may arrive before its RESPONSE.
    this._subscriptions.add(sub);
    try {
      sub.subscribedTypes = await this._control(FrameType.SUBSCRIBE, { message_types: list }, (b) => b.subscribed_types ?? [], options.signal);
    } catch (err) {
      sub._active = false;
      sub._end();
      if (err instanceof CancelledError) {
        // The broker may subscribe the connection after all: take back what no one else holds.
        this._unsubscribe(sub).catch((e) => debug('undoing an aborted subscribe failed: %s', e.message));
      } else {
        this._subscriptions.delete(sub);
      }
      throw err;
    }
    return sub;
  }

  async _unsubscribe(sub, signal) {
    this._subscriptions.delete(sub);
    if (this._closed || !this._connected) return; // after a reconnect it is simply not subscribed again
    const stillHeld = new Set();
    for (const other of this._subscriptions) for (const p of other._patterns) stillHeld.add(p);
    const remove = [...new Set(sub._patterns)].filter((p) => !stillHeld.has(p));
    if (remove.length === 0) return; // never send an empty list: that would drop every subscription
    await this._control(FrameType.UNSUBSCRIBE, { message_types: remove }, (b) => b.subscribed_types ?? [], signal);
  }

  /** Publishes on a subject. Resolves when the broker has accepted it. */
  publish(subject, payload, options = {}) {
    if (typeof subject !== 'string' || subject === '') return Promise.reject(new TypeError('subject must be a non-empty string'));
    const body = {
      correlation_id: this._nextId(),
      message_type: subject,
      payload: payload === undefined ? null : payload,
    };
    if (options.retain) body.retain = true;
    return this._call(FrameType.PUBLISH, body, {
      format: this._formatOf(options),
      deadlineMs: this.timeoutMs + DEADLINE_MARGIN_MS,
      map: (b) => b.payload,
      signal: options.signal,
    });
  }

  /**
   * Registers a service on this connection. The handler gets (payload, context) and returns a
   * value (or promise) for a RESPONSE, or an async iterable / generator for STREAM frames; a
   * thrown ServiceError(code, message) becomes an ERROR with that code. `options.signal` ends the
   * wait for the broker's answer (the registration is then undone).
   */
  async serve(service, handler, options = {}) {
    if (typeof service !== 'string' || service === '') throw new TypeError('service must be a non-empty string');
    if (typeof handler !== 'function') throw new TypeError('handler must be a function');
    if (this._services.has(service)) throw new SwitchboardError(`${service} is already served by this client`, 'NAME_IN_USE');
    if (options.signal && options.signal.aborted) throw abortedError(options.signal, 'serve');
    const fields = { service };
    if (options.messageTypes) fields.message_types = Array.from(options.messageTypes);
    if (options.mode) fields.mode = options.mode;
    const reg = new ServiceRegistration(this, service, handler, fields);
    this._services.set(service, reg);
    try {
      await this._control(FrameType.REGISTER, fields, (b) => b.service, options.signal);
    } catch (err) {
      if (this._services.get(service) === reg) this._services.delete(service);
      reg._active = false;
      if (err instanceof CancelledError && this._connected) {
        // The broker may register it after all: take it back (answered or not, nothing waits on it).
        this._control(FrameType.UNREGISTER, { service }).catch((e) => debug('undoing an aborted serve failed: %s', e.message));
      }
      throw err;
    }
    return reg;
  }

  /** DISCOVER: the broker's protocol version, actors, message types and services. */
  discover(options = {}) {
    const fields = {};
    if (options.includeActors !== undefined) fields.include_actors = Boolean(options.includeActors);
    if (options.includeMessageTypes !== undefined) fields.include_message_types = Boolean(options.includeMessageTypes);
    return this._control(FrameType.DISCOVER, fields, (b) => {
      const { correlation_id: _cid, success: _ok, ...rest } = b;
      return rest;
    }, options.signal);
  }

  /** STATS: the broker's counters. */
  stats(options = {}) {
    return this._control(FrameType.STATS, {}, (b) => {
      if (b.payload !== undefined) return b.payload;
      const { correlation_id: _cid, success: _ok, ...rest } = b;
      return rest;
    }, options.signal);
  }

  /** Sends a HEARTBEAT and resolves with the round-trip time in ms when the broker answers. */
  ping(options = {}) {
    const deadlineMs = options.timeoutMs ?? this.timeoutMs;
    const signal = options.signal;
    if (signal && signal.aborted) return Promise.reject(abortedError(signal, 'ping'));
    return new Promise((resolve, reject) => {
      const started = process.hrtime.bigint();
      // Answers come in order: an entry that stopped waiting stays in _pings (dead) while its
      // answer is owed, so the next answer is not taken for a later ping's.
      const entry = {
        dead: false,
        _queued: null,
        resolve: () => {
          if (end()) resolve(Number(process.hrtime.bigint() - started) / 1e6);
        },
        reject: (err) => {
          if (end()) reject(err);
        },
      };
      const end = () => {
        if (entry.dead) return false;
        entry.dead = true;
        clearTimeout(entry.timer);
        if (signal) signal.removeEventListener('abort', onAbort);
        if (this._unqueue(entry)) {
          const i = this._pings.indexOf(entry); // never sent: no answer owed
          if (i >= 0) this._pings.splice(i, 1);
        }
        return true;
      };
      const onAbort = () => entry.reject(abortedError(signal, 'ping'));
      entry.timer = setTimeout(() => {
        entry.reject(new RequestTimeoutError(`no heartbeat answer within ${deadlineMs} ms`, { local: true }));
      }, deadlineMs);
      if (signal) signal.addEventListener('abort', onAbort, { once: true });
      this._pings.push(entry);
      try {
        this._write(FrameType.HEARTBEAT, {}, Format.JSON, entry);
      } catch (err) {
        this._pings.splice(this._pings.indexOf(entry), 1);
        entry.reject(err);
      }
    });
  }

  /** Closes the connection. Every call still in flight rejects with ConnectionClosedError. */
  close() {
    if (!this._closedPromise) {
      clearTimeout(this._reconnectTimer);
      this._reconnectTimer = null;
      this._closedPromise = new Promise((resolve) => {
        if (!this._socket || this._socket.destroyed || !this._connected) {
          this._teardown(true);
          resolve();
          return;
        }
        this._socket.once('close', () => resolve());
        this._teardown(true);
        this._socket.end();
        const timer = setTimeout(() => this._socket.destroy(), 1000);
        timer.unref();
      });
    }
    return this._closedPromise;
  }

  // ---- incoming ------------------------------------------------------------------------------

  _onData(chunk) {
    let frames;
    try {
      frames = this._decoder.push(chunk);
    } catch (err) {
      this._brokerError = toLocalError(err);
      this._report(this._brokerError);
      this._socket.destroy(); // 'close' follows: reconnect, or tear down
      return;
    }
    for (const frame of frames) {
      try {
        this._dispatch(frame);
      } catch (err) {
        this._report(err);
      }
    }
  }

  _dispatch(frame) {
    const { type, body } = frame;
    if (frame.bodyError || body === null || typeof body !== 'object') {
      this._report(new ProtocolError(`undecodable frame of type 0x${type.toString(16)} from the broker`, { cause: frame.bodyError }));
      return;
    }
    switch (type) {
      case FrameType.RESPONSE:
      case FrameType.ERROR:
      case FrameType.STREAM: {
        const cid = body.correlation_id;
        const entry = cid ? this._pending.get(cid) : undefined;
        if (entry) {
          entry._handle(type, body);
        } else if (type === FrameType.ERROR && !cid) {
          // A connection-level error (e.g. PROTOCOL_ERROR before the broker closes).
          const err = errorFromBody(body);
          this._brokerError = err;
          this._report(err);
        } else if (type === FrameType.RESPONSE && cid === '' && body.notice === 'pushes_lost') {
          this._onLossNotice(body);
        } else if (debug.enabled) {
          debug('dropped a late answer to %s (the call had ended)', cid);
        }
        // Otherwise: a late answer to a call that already timed out or was cancelled.
        return;
      }
      case FrameType.PUSH:
        this._onPush(body);
        return;
      case FrameType.HEARTBEAT: {
        const ping = this._pings.shift();
        if (ping) ping.resolve(); // a ping that stopped waiting ignores its late answer
        else this._safeWrite(FrameType.HEARTBEAT, {});
        return;
      }
      case FrameType.REQUEST:
        this._onServedRequest(body, frame.format);
        return;
      case FrameType.CANCEL: {
        const served = this._served.get(body.correlation_id);
        if (served && !served.cancelled) {
          served.cancelled = true;
          served.controller.abort(new CancelledError('cancelled by the caller', { correlationId: body.correlation_id }));
        }
        return;
      }
      default:
        // Frame types a broker never sends to a client are ignored.
    }
  }

  _safeWrite(type, body, format) {
    try {
      return this._write(type, body, format);
    } catch (err) {
      if (!(err instanceof ConnectionClosedError)) this._report(err);
      return true;
    }
  }

  // The broker sends exactly one PUSH per publication per connection, however many of the
  // connection's patterns match, numbered per connection from 1; a PUSH it dropped still consumed
  // its number. So: every local subscription with a matching pattern gets the PUSH, and a jump in
  // `sequence` is counted as lost against every active subscription (the broker does not say what
  // the lost ones were, so it is an upper bound for each when a client holds several).
  // The broker's loss notice (PROTOCOL.md): every PUSH numbered after the last one seen, up to
  // `sequence`, was dropped, and none came after them yet: counted now, not at the next PUSH.
  _onLossNotice(body) {
    const seq = body.sequence;
    if (!Number.isInteger(seq) || seq <= this._pushLast) return;
    const gap = seq - this._pushLast;
    this._pushLast = seq;
    this._pushesLost += gap;
    for (const sub of this._subscriptions) {
      if (sub._active) sub._lost += gap;
    }
  }

  _onPush(body) {
    const subject = body.message_type;
    const seq = body.sequence;
    let gap = 0;
    if (Number.isInteger(seq)) {
      if (seq > this._pushLast) gap = seq - this._pushLast - 1;
      this._pushLast = seq;
      this._pushesLost += gap;
    }
    const notification = {
      subject,
      messageType: subject,
      payload: body.payload,
      notificationId: body.notification_id,
      timestampMs: body.timestamp_ms,
      sequence: seq,
      gap,
    };
    if (body.source_actor !== undefined) notification.sourceActor = body.source_actor;
    if (typeof subject !== 'string') return;
    for (const sub of [...this._subscriptions]) {
      if (!sub._active) continue;
      sub._lost += gap;
      if (sub._matches(subject)) sub._deliver(notification);
    }
  }

  /** `sequence` of the last PUSH received on the current connection (0: none yet). */
  get pushSequence() {
    return this._pushLast;
  }

  _onServedRequest(body, format) {
    const cid = body.correlation_id;
    if (typeof cid !== 'string' || cid === '') return;
    const expectsReply = Boolean(body.expects_reply);
    const expectsStream = Boolean(body.expects_stream);
    const reg = this._services.get(body.target);
    if (!reg) {
      const err = new ActorNotFoundError(`this client does not serve ${body.target}`);
      if (expectsStream) this._safeWrite(FrameType.STREAM, { correlation_id: cid, sequence: 0, is_final: true, error: err.message, error_code: err.code }, format);
      else if (expectsReply) this._safeWrite(FrameType.ERROR, { correlation_id: cid, success: false, error: err.message, error_code: err.code }, format);
      return;
    }
    const controller = new AbortController();
    const state = { controller, cancelled: false };
    this._served.set(cid, state);
    const context = {
      correlationId: cid,
      service: body.target,
      messageType: body.message_type,
      expectsReply,
      expectsStream,
      timeoutMs: body.response_timeout_ms,
      format: format === Format.MSGPACK ? 'msgpack' : 'json',
      signal: controller.signal,
    };
    this._runHandler(reg, body, context, state, format).finally(() => this._served.delete(cid));
  }

  async _runHandler(reg, body, context, state, format) {
    const cid = context.correlationId;
    let sequence = 0;
    const live = () => !state.cancelled && !this._closed;
    const reply = (type, fields) => {
      if (!live()) return true;
      try {
        return this._write(type, { correlation_id: cid, ...fields }, format);
      } catch (err) {
        if (err instanceof PayloadTooLargeError) {
          // The answer cannot be sent; tell the caller why instead.
          const failure = { error: err.message, error_code: err.code };
          if (type === FrameType.STREAM) this._safeWrite(type, { correlation_id: cid, sequence, is_final: true, ...failure }, format);
          else this._safeWrite(FrameType.ERROR, { correlation_id: cid, success: false, ...failure }, format);
          throw new HandledError();
        }
        if (err instanceof ConnectionClosedError) throw new HandledError();
        throw err;
      }
    };
    try {
      const result = reg._handler(body.payload === undefined ? null : body.payload, context);
      if (isStreamResult(result)) {
        if (!context.expectsStream && context.expectsReply) {
          if (typeof result.return === 'function') await result.return();
          throw new InvalidRequestError(`${context.service} answers ${context.messageType} with a stream; call it with stream()`);
        }
        const iterator = typeof result[Symbol.asyncIterator] === 'function' ? result[Symbol.asyncIterator]() : result[Symbol.iterator]();
        try {
          for (;;) {
            if (!live()) break;
            const step = await iterator.next();
            if (step.done || !live()) break;
            if (context.expectsStream) {
              const ok = reply(FrameType.STREAM, { sequence, is_final: false, payload: step.value === undefined ? null : step.value });
              sequence++;
              if (!ok) await this._drain();
            }
          }
        } finally {
          if (!live() && typeof iterator.return === 'function') {
            try { await iterator.return(); } catch { /* the handler is being stopped */ }
          }
        }
        if (context.expectsStream) reply(FrameType.STREAM, { sequence, is_final: true });
        return;
      }
      const value = await result;
      if (context.expectsStream) {
        if (value !== undefined) {
          reply(FrameType.STREAM, { sequence, is_final: false, payload: value });
          sequence++;
        }
        reply(FrameType.STREAM, { sequence, is_final: true });
      } else if (context.expectsReply) {
        reply(FrameType.RESPONSE, { success: true, payload: value === undefined ? null : value });
      }
    } catch (err) {
      if (err instanceof HandledError || !live()) return;
      const code = err instanceof SwitchboardError ? err.code : 'INTERNAL_ERROR';
      const message = err && err.message ? err.message : String(err);
      if (context.expectsStream) {
        this._safeWrite(FrameType.STREAM, { correlation_id: cid, sequence, is_final: true, error: message, error_code: code }, format);
      } else if (context.expectsReply) {
        this._safeWrite(FrameType.ERROR, { correlation_id: cid, success: false, error: message, error_code: code }, format);
      } else {
        this._report(err);
      }
    }
  }

  _report(err) {
    debug('error: %s', err && err.message ? err.message : err);
    if (this.listenerCount('error') > 0) this.emit('error', err);
    else process.emitWarning(`switchboard-client: ${err && err.message ? err.message : err}`, { type: 'SwitchboardWarning' });
  }

  _teardown(userInitiated) {
    if (this._closed && this._pending.size === 0 && this._subscriptions.size === 0 && this._served.size === 0) {
      return;
    }
    const wasClosed = this._closed;
    this._closed = true;
    this._connected = false;
    clearTimeout(this._reconnectTimer);
    const err = userInitiated ? new ConnectionClosedError('the client was closed') : this._closedError();
    for (const entry of [...this._pending.values()]) entry._fail(err);
    this._pending.clear();
    for (const ping of this._pings.splice(0)) ping.reject(err);
    for (const sub of [...this._subscriptions]) {
      sub._active = false;
      sub._end(userInitiated ? null : err);
    }
    this._subscriptions.clear();
    for (const reg of this._services.values()) reg._active = false;
    this._services.clear();
    for (const state of this._served.values()) {
      state.cancelled = true;
      state.controller.abort(err);
    }
    if (!wasClosed) this.emit('close', userInitiated ? null : (this._brokerError ?? this._closeReason ?? null));
  }
}

class HandledError extends Error {}
