// The Switchboard socket client: one connection, many calls in flight, demultiplexed by correlation id.

import net from 'node:net';
import { EventEmitter } from 'node:events';
import {
  FrameType, Format, FrameDecoder, FramingError, encodeFrame, formatCode,
  DEFAULT_MAX_PAYLOAD, ABSOLUTE_MAX_PAYLOAD,
} from './framing.js';
import {
  SwitchboardError, ServiceError, ConnectionClosedError, RequestTimeoutError, CancelledError,
  PayloadTooLargeError, ProtocolError, InvalidRequestError, ActorNotFoundError, errorFromCode,
} from './errors.js';
import { resolveSocketPath, isDefaultSocketPath, checkSocketPath } from './socketpath.js';

const DEFAULT_TIMEOUT_MS = 30000;
const DEADLINE_MARGIN_MS = 2000;
const DEFAULT_CONNECT_TIMEOUT_MS = 5000;

/** Opens a connection to the broker. Resolves with a connected Client. */
export async function connect(options = {}) {
  const client = new Client(options);
  await client._open();
  return client;
}

function errorFromBody(body) {
  return errorFromCode(body.error_code, body.error, {
    correlationId: body.correlation_id,
    payload: body.payload,
  });
}

function toLocalError(err) {
  if (err instanceof FramingError) {
    return err.code === 'PAYLOAD_TOO_LARGE' ? new PayloadTooLargeError(err.message) : new ProtocolError(err.message);
  }
  return err;
}

function isStreamResult(value) {
  if (value === null || typeof value !== 'object') return false;
  if (typeof value[Symbol.asyncIterator] === 'function') return true;
  return Object.prototype.toString.call(value) === '[object Generator]';
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
    this.correlationId = correlationId;
    this._idleMs = idleMs;
    this._nextSeq = 0;
    this._outOfOrder = new Map();
    this._cancelled = false;
    this._finished = false; // the final frame arrived (or the call failed)
    this._timer = null;
    this._armTimer();
  }

  _armTimer() {
    clearTimeout(this._timer);
    this._timer = setTimeout(() => {
      if (this._finished) return;
      this._finish();
      this._end(new RequestTimeoutError(
        `stream ${this.correlationId}: no frame for ${this._idleMs} ms`, { local: true, correlationId: this.correlationId },
      ));
      this._client._sendCancel(this.correlationId);
    }, this._idleMs);
  }

  _finish() {
    this._finished = true;
    clearTimeout(this._timer);
    this._client._pending.delete(this.correlationId);
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
    if (this._cancelled || this._finished) {
      this._items.length = 0;
      this._end();
      return;
    }
    this._cancelled = true;
    this._items.length = 0; // frames already received but not yet read are dropped too
    this._end();
    this._client._sendCancel(this.correlationId);
    // Keep the entry until the broker's final frame arrives, so it is recognised; bounded wait.
    clearTimeout(this._timer);
    this._timer = setTimeout(() => this._finish(), DEADLINE_MARGIN_MS);
  }

  /** Called by `break` in for-await: cancels a stream that has not finished. */
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
    this.patterns = patterns;
    this.subscribedTypes = [];
    this._callback = callback;
    this.active = true;
    /** Notifications the broker dropped on the connection while this subscription was active. */
    this.lost = 0;
    /** How many times the connection dropped while this subscription was active. */
    this.interruptions = 0;
  }

  _matches(subject) {
    return this.patterns.some((p) => subjectMatches(p, subject));
  }

  // The connection dropped and the client reconnects: the iteration's next step rejects once with
  // `err`, later steps continue with what arrives after the reconnect. Callbacks just carry on.
  _interrupt(err) {
    if (!this.active) return;
    this.interruptions++;
    if (!this._callback) this._pushError(err);
  }

  _deliver(notification) {
    if (!this.active) return;
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

  /** Removes the subscription (the patterns no other subscription of this client holds). */
  async unsubscribe() {
    if (!this.active) return;
    this.active = false;
    this._items.length = 0;
    this._end();
    await this._client._unsubscribe(this);
  }

  return() {
    this.unsubscribe().catch(() => {});
    return Promise.resolve({ value: undefined, done: true });
  }
}

/** A service this client serves; unregister() stops it. */
export class ServiceRegistration {
  constructor(client, name, handler, fields = {}) {
    this._client = client;
    this.name = name;
    this._handler = handler;
    this._fields = fields; // the REGISTER body, sent again after a reconnect
    this.active = true;
  }

  async unregister() {
    if (!this.active) return;
    this.active = false;
    try {
      if (!this._client.closed && this._client.connected) {
        await this._client._control(FrameType.UNREGISTER, { service: this.name });
      }
    } finally {
      if (this._client._services.get(this.name) === this) this._client._services.delete(this.name);
    }
  }
}

export class Client extends EventEmitter {
  constructor(options = {}) {
    super();
    this.socketPath = resolveSocketPath(options.socketPath);
    this._defaultSocketPath = isDefaultSocketPath(options.socketPath);
    this.format = formatCode(options.format) === Format.MSGPACK ? 'msgpack' : 'json';
    this.maxPayload = options.maxPayload ?? DEFAULT_MAX_PAYLOAD;
    if (!(this.maxPayload > 0 && this.maxPayload <= ABSOLUTE_MAX_PAYLOAD)) {
      throw new RangeError(`maxPayload must be between 1 and ${ABSOLUTE_MAX_PAYLOAD}`);
    }
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.closed = false;
    /** True while a connection is open (false while reconnecting). */
    this.connected = false;
    this.closeReason = null;
    this.reconnectEnabled = options.reconnect ?? true;
    this.reconnectDelayMs = options.reconnectDelayMs ?? 100;
    this.reconnectMaxDelayMs = Math.max(options.reconnectMaxDelayMs ?? 2000, this.reconnectDelayMs);
    /** How many times this client reconnected (and re-registered, re-subscribed). */
    this.reconnects = 0;
    this._reconnectTimer = null;
    this._socket = null;
    this._decoder = new FrameDecoder(this.maxPayload);
    this._seq = 0;
    this._pending = new Map(); // correlation id -> { _handle(type, body), _fail(err) }
    this._subscriptions = new Set();
    this._pushLast = 0; // sequence of the last PUSH on the current connection
    /** PUSH frames the broker dropped for this client (gaps in `sequence`), over all its connections. */
    this.pushesLost = 0;
    this._services = new Map(); // name -> ServiceRegistration
    this._served = new Map(); // broker correlation id -> { controller, cancelled }
    this._pings = [];
    this._corked = false;
    this._closedPromise = null;
    this._brokerError = null;
  }

  async _open() {
    try {
      this._attach(await this._connectSocket());
    } catch (err) {
      this.closed = true;
      throw err;
    }
  }

  _connectSocket() {
    return new Promise((resolve, reject) => {
      try {
        checkSocketPath(this.socketPath, this._defaultSocketPath); // another user's socket: UnsafeSocketPathError
      } catch (err) {
        reject(err);
        return;
      }
      const socket = net.createConnection({ path: this.socketPath });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new ConnectionClosedError(
          `cannot connect to the broker at ${this.socketPath}: no answer within ${this.connectTimeoutMs} ms`,
        ));
      }, this.connectTimeoutMs);
      const onError = (err) => {
        clearTimeout(timer);
        reject(new ConnectionClosedError(`cannot connect to the broker at ${this.socketPath}: ${err.message}`, { cause: err }));
      };
      socket.once('error', onError);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeListener('error', onError);
        resolve(socket);
      });
    });
  }

  _attach(socket) {
    this._socket = socket;
    this._decoder = new FrameDecoder(this.maxPayload);
    this._brokerError = null;
    this.closeReason = null;
    this._pushLast = 0; // a new connection numbers its PUSH frames from 1
    this.connected = true;
    socket.on('data', (chunk) => { if (this._socket === socket) this._onData(chunk); });
    socket.on('error', (err) => {
      if (this._socket === socket && !this.closeReason) this.closeReason = err;
    });
    socket.on('close', () => { if (this._socket === socket) this._onSocketClose(); });
  }

  _onSocketClose() {
    const fatal = this._brokerError && ['FORBIDDEN', 'UNSUPPORTED_PROTOCOL_VERSION'].includes(this._brokerError.code);
    if (this.closed || !this.reconnectEnabled || fatal) {
      this.connected = false;
      this._teardown(false);
      return;
    }
    this._interrupt(this._closedError());
    this._scheduleReconnect(this.reconnectDelayMs);
  }

  // The connection dropped and the client will reconnect: everything in flight fails now with
  // `err` (SERVICE_UNAVAILABLE); subscriptions and registrations are kept.
  _interrupt(err) {
    this.connected = false;
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
    if (this.closed) return;
    const wait = delayMs * (0.5 + Math.random() / 2); // jitter: 50-100 % of the delay
    this._reconnectTimer = setTimeout(async () => {
      this._reconnectTimer = null;
      let socket;
      try {
        socket = await this._connectSocket();
      } catch {
        this._scheduleReconnect(Math.min(delayMs * 2, this.reconnectMaxDelayMs));
        return;
      }
      if (this.closed) {
        socket.destroy();
        return;
      }
      this._attach(socket);
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
        this._report(new SwitchboardError(`re-registering ${reg.name} after reconnect failed: ${err.message}`, err.code, { cause: err }));
      }
    }
    const patterns = [...new Set([...this._subscriptions].filter((s) => s.active).flatMap((s) => s.patterns))];
    if (patterns.length > 0) {
      try {
        await this._control(FrameType.SUBSCRIBE, { message_types: patterns }, (b) => b.subscribed_types ?? []);
      } catch (err) {
        ok = false;
        this._report(new SwitchboardError(`re-subscribing after reconnect failed: ${err.message}`, err.code, { cause: err }));
      }
    }
    if (!ok || !this.connected) return; // dropped again meanwhile: the next reconnect restores
    this.reconnects++;
    this.emit('reconnect');
  }

  // ---- outgoing ------------------------------------------------------------------------------

  _nextId() {
    this._seq += 1;
    return `n${this._seq}`;
  }

  _formatOf(opts) {
    return formatCode(opts && opts.format !== undefined ? opts.format : this.format);
  }

  /** Writes one frame; returns false when the socket's buffer is full. Throws if closed or too large. */
  _write(type, body, format = Format.JSON) {
    if (this.closed || !this.connected) throw this._closedError();
    let frame;
    try {
      frame = encodeFrame(type, body, format, this.maxPayload);
    } catch (err) {
      throw toLocalError(err);
    }
    const socket = this._socket;
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

  _drain() {
    if (this.closed || !this.connected || !this._socket.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this._socket.removeListener('drain', done);
        this._socket.removeListener('close', done);
        resolve();
      };
      this._socket.once('drain', done);
      this._socket.once('close', done);
    });
  }

  _closedError() {
    const cause = this._brokerError ?? this.closeReason ?? undefined;
    const suffix = cause && cause.message ? `: ${cause.message}` : '';
    const what = !this.closed && this.reconnectEnabled ? 'not connected to the broker (reconnecting)' : 'connection to the broker is closed';
    return new ConnectionClosedError(`${what}${suffix}`, cause ? { cause } : {});
  }

  _sendCancel(correlationId) {
    if (this.closed || !this.connected) return;
    try {
      this._write(FrameType.CANCEL, { correlation_id: correlationId });
    } catch {
      // closed meanwhile: nothing to cancel any more
    }
  }

  /**
   * Sends a frame that is answered by one RESPONSE or ERROR with the same correlation id.
   * `map` turns the RESPONSE body into the resolved value.
   */
  _call(type, body, { format = Format.JSON, deadlineMs, map, cancelOnTimeout = false, signal } = {}) {
    return new Promise((resolve, reject) => {
      const cid = body.correlation_id;
      if (signal && signal.aborted) {
        reject(new CancelledError('aborted before it was sent', { cause: signal.reason }));
        return;
      }
      let timer = null;
      let onAbort = null;
      const settle = () => {
        clearTimeout(timer);
        if (onAbort) signal.removeEventListener('abort', onAbort);
        this._pending.delete(cid);
      };
      const entry = {
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
      timer = setTimeout(() => {
        settle();
        if (cancelOnTimeout) this._sendCancel(cid);
        reject(new RequestTimeoutError(`no answer to ${cid} within ${deadlineMs} ms`, { local: true, correlationId: cid }));
      }, deadlineMs);
      if (signal) {
        onAbort = () => {
          settle();
          this._sendCancel(cid);
          reject(new CancelledError('aborted by the caller', { cause: signal.reason, correlationId: cid }));
        };
        signal.addEventListener('abort', onAbort, { once: true });
      }
      this._pending.set(cid, entry);
      try {
        this._write(type, body, format);
      } catch (err) {
        settle();
        reject(err);
      }
    });
  }

  _control(type, fields, map) {
    const body = { correlation_id: this._nextId(), ...fields };
    return this._call(type, body, { deadlineMs: this.timeoutMs + DEADLINE_MARGIN_MS, map });
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
      cancelOnTimeout: true,
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
    });
  }

  /** Request-stream: returns an async iterable of the payloads; cancel() ends it early. */
  stream(target, messageType, payload, options = {}) {
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const body = this._envelope(target, messageType, payload, { stream: true }, timeoutMs);
    const call = new StreamCall(this, body.correlation_id, timeoutMs + DEADLINE_MARGIN_MS);
    this._pending.set(body.correlation_id, call);
    try {
      this._write(FrameType.REQUEST, body, this._formatOf(options));
    } catch (err) {
      call._fail(err);
    }
    if (options.signal) {
      if (options.signal.aborted) call.cancel();
      else options.signal.addEventListener('abort', () => call.cancel(), { once: true });
    }
    return call;
  }

  /**
   * Subscribes to one or more subject patterns. Without a callback the returned Subscription is
   * an async iterable of notifications; with one, the callback receives each notification.
   */
  async subscribe(patterns, callback) {
    const list = typeof patterns === 'string' ? [patterns] : Array.from(patterns ?? []);
    if (list.length === 0 || list.some((p) => typeof p !== 'string' || p === '')) {
      throw new TypeError('subscribe needs one or more non-empty patterns');
    }
    if (callback !== undefined && typeof callback !== 'function') throw new TypeError('callback must be a function');
    const sub = new Subscription(this, list, callback);
    // Registered before the SUBSCRIBE goes out: retained messages may arrive before its RESPONSE.
    this._subscriptions.add(sub);
    try {
      sub.subscribedTypes = await this._control(FrameType.SUBSCRIBE, { message_types: list }, (b) => b.subscribed_types ?? []);
    } catch (err) {
      this._subscriptions.delete(sub);
      sub.active = false;
      sub._end();
      throw err;
    }
    return sub;
  }

  async _unsubscribe(sub) {
    this._subscriptions.delete(sub);
    if (this.closed || !this.connected) return; // after a reconnect it is simply not subscribed again
    const stillHeld = new Set();
    for (const other of this._subscriptions) for (const p of other.patterns) stillHeld.add(p);
    const remove = [...new Set(sub.patterns)].filter((p) => !stillHeld.has(p));
    if (remove.length === 0) return; // never send an empty list: that would drop every subscription
    await this._control(FrameType.UNSUBSCRIBE, { message_types: remove }, (b) => b.subscribed_types ?? []);
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
    });
  }

  /**
   * Registers a service on this connection. The handler gets (payload, context) and returns a
   * value (or promise) for a RESPONSE, or an async iterable / generator for STREAM frames; a
   * thrown ServiceError(code, message) becomes an ERROR with that code.
   */
  async serve(service, handler, options = {}) {
    if (typeof service !== 'string' || service === '') throw new TypeError('service must be a non-empty string');
    if (typeof handler !== 'function') throw new TypeError('handler must be a function');
    if (this._services.has(service)) throw new SwitchboardError(`${service} is already served by this client`, 'NAME_IN_USE');
    const fields = { service };
    if (options.messageTypes) fields.message_types = Array.from(options.messageTypes);
    if (options.mode) fields.mode = options.mode;
    const reg = new ServiceRegistration(this, service, handler, fields);
    this._services.set(service, reg);
    try {
      await this._control(FrameType.REGISTER, fields, (b) => b.service);
    } catch (err) {
      if (this._services.get(service) === reg) this._services.delete(service);
      reg.active = false;
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
    });
  }

  /** STATS: the broker's counters. */
  stats() {
    return this._control(FrameType.STATS, {}, (b) => {
      if (b.payload !== undefined) return b.payload;
      const { correlation_id: _cid, success: _ok, ...rest } = b;
      return rest;
    });
  }

  /** Sends a HEARTBEAT and resolves with the round-trip time in ms when the broker answers. */
  ping(options = {}) {
    const deadlineMs = options.timeoutMs ?? this.timeoutMs;
    return new Promise((resolve, reject) => {
      const started = process.hrtime.bigint();
      const entry = {
        resolve: () => {
          clearTimeout(entry.timer);
          resolve(Number(process.hrtime.bigint() - started) / 1e6);
        },
        reject: (err) => {
          clearTimeout(entry.timer);
          reject(err);
        },
      };
      entry.timer = setTimeout(() => {
        const i = this._pings.indexOf(entry);
        if (i >= 0) this._pings.splice(i, 1);
        reject(new RequestTimeoutError(`no heartbeat answer within ${deadlineMs} ms`, { local: true }));
      }, deadlineMs);
      this._pings.push(entry);
      try {
        this._write(FrameType.HEARTBEAT, {});
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
        if (!this._socket || this._socket.destroyed || !this.connected) {
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
        }
        // Otherwise: a late answer to a call that already timed out or was cancelled.
        return;
      }
      case FrameType.PUSH:
        this._onPush(body);
        return;
      case FrameType.HEARTBEAT: {
        const ping = this._pings.shift();
        if (ping) ping.resolve();
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
    this.pushesLost += gap;
    for (const sub of this._subscriptions) {
      if (sub.active) sub.lost += gap;
    }
  }

  _onPush(body) {
    const subject = body.message_type;
    const seq = body.sequence;
    let gap = 0;
    if (Number.isInteger(seq)) {
      if (seq > this._pushLast) gap = seq - this._pushLast - 1;
      this._pushLast = seq;
      this.pushesLost += gap;
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
      if (!sub.active) continue;
      sub.lost += gap;
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
    const live = () => !state.cancelled && !this.closed;
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
    if (this.listenerCount('error') > 0) this.emit('error', err);
    else process.emitWarning(`switchboard-client: ${err && err.message ? err.message : err}`, { type: 'SwitchboardWarning' });
  }

  _teardown(userInitiated) {
    if (this.closed && this._pending.size === 0 && this._subscriptions.size === 0 && this._served.size === 0) {
      return;
    }
    const wasClosed = this.closed;
    this.closed = true;
    this.connected = false;
    clearTimeout(this._reconnectTimer);
    const err = userInitiated ? new ConnectionClosedError('the client was closed') : this._closedError();
    for (const entry of [...this._pending.values()]) entry._fail(err);
    this._pending.clear();
    for (const ping of this._pings.splice(0)) ping.reject(err);
    for (const sub of [...this._subscriptions]) {
      sub.active = false;
      sub._end(userInitiated ? null : err);
    }
    this._subscriptions.clear();
    for (const reg of this._services.values()) reg.active = false;
    this._services.clear();
    for (const state of this._served.values()) {
      state.cancelled = true;
      state.controller.abort(err);
    }
    if (!wasClosed) this.emit('close', userInitiated ? null : (this._brokerError ?? this.closeReason ?? null));
  }
}

class HandledError extends Error {}
