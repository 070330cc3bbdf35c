// Type declarations for switchboard-client.

/// <reference types="node" />
import { EventEmitter } from 'node:events';

export type PayloadFormat = 'json' | 'msgpack';

export interface ConnectOptions {
  /** Socket path; otherwise $SWITCHBOARD_SOCKET, $XDG_RUNTIME_DIR/switchboard/broker.sock, /tmp/switchboard-<uid>/broker.sock. */
  socketPath?: string;
  /** Payload format of the frames this client sends (default 'json'). */
  format?: PayloadFormat;
  /** Largest payload sent or accepted, in bytes (default 1 MiB, at most 16 MiB). */
  maxPayload?: number;
  /** Default response timeout sent to the broker, in ms (default 30000). The client's own deadline is this + 2000. */
  timeoutMs?: number;
  /**
   * How long connect() (and each reconnection) waits for the socket and for the broker's answer to
   * its first HEARTBEAT, in ms (default 5000).
   */
  connectTimeoutMs?: number;
  /**
   * How long the first connect waits for a broker that is not there yet (no socket, or one nobody
   * listens on), trying again with backoff, in ms (default 0: fail at once).
   */
  waitForBrokerMs?: number;
  /**
   * Bound in bytes of the send queue: frames that do not fit in the socket's buffer (the broker reads
   * slower than the client writes) wait there; a frame that does not fit fails its call at once with
   * TargetBusyError. Default max(8 MiB, 2 frames of maxPayload).
   */
  maxQueuedBytes?: number;
  /** Ends connect() with CancelledError. */
  signal?: AbortSignal;
  /**
   * Reconnect after the connection drops (default true): calls in flight reject at once with
   * ConnectionClosedError (a ServiceUnavailableError), then the client reconnects with exponential
   * backoff, re-registers its services and re-subscribes its patterns ('disconnect' / 'reconnect'
   * events). Calls made while disconnected reject at once; nothing is queued.
   */
  reconnect?: boolean;
  /** First reconnection delay in ms (default 100), doubled after each failed attempt, jittered 50-100 %. */
  reconnectDelayMs?: number;
  /** Largest reconnection delay in ms (default 2000). */
  reconnectMaxDelayMs?: number;
}

export interface SignalOptions {
  /**
   * Ends the wait with CancelledError (a stream's iteration just ends). The call removes its listener
   * from the signal when it ends, however it ends.
   */
  signal?: AbortSignal;
}

export interface CallOptions extends SignalOptions {
  /** Response timeout in ms (sent as response_timeout_ms); the local deadline is this + 2000 ms. */
  timeoutMs?: number;
  /** Format of this one frame. */
  format?: PayloadFormat;
}

export interface SendOptions extends SignalOptions {
  timeoutMs?: number;
  format?: PayloadFormat;
}

export interface PublishOptions extends SignalOptions {
  /** The broker keeps the last message of the subject and pushes it to each new matching subscriber. */
  retain?: boolean;
  format?: PayloadFormat;
}

export interface DiscoverOptions extends SignalOptions {
  includeActors?: boolean;
  includeMessageTypes?: boolean;
}

export interface DiscoverResult {
  protocol_version: {
    current: number;
    min_supported: number;
    max_supported: number;
    description?: string;
    capabilities?: { messagepack?: boolean; streaming?: boolean; push?: boolean; discovery?: boolean; [k: string]: unknown };
  };
  actors: Array<{ name: string; ern?: string }>;
  message_types: string[];
  services: Array<{ name: string; instances: number; message_types: string[]; transport: string; [k: string]: unknown }>;
  [k: string]: unknown;
}

export interface Notification<T = any> {
  /** The concrete subject published (same as messageType). */
  subject: string;
  messageType: string;
  payload: T;
  notificationId: string | number;
  timestampMs: number;
  /**
   * The broker's PUSH counter of this connection: one PUSH per publication per connection, numbered
   * from 1 (again from 1 after a reconnect). A PUSH the broker dropped still consumed its number.
   */
  sequence: number;
  /** Notifications lost on the connection just before this one (the `sequence` gap; 0 normally). */
  gap: number;
  sourceActor?: string;
}

export interface ServeOptions extends SignalOptions {
  /** Message types this service handles. */
  messageTypes?: Iterable<string>;
  /** 'exclusive' (default) refuses a second registration of the name; 'shared' spreads requests. */
  mode?: 'exclusive' | 'shared';
}

export interface HandlerContext {
  /** The broker-chosen correlation id of this request. */
  correlationId: string;
  service: string;
  messageType: string;
  expectsReply: boolean;
  expectsStream: boolean;
  timeoutMs?: number;
  format: PayloadFormat;
  /** Aborted when the broker sends CANCEL for this request or the connection closes. */
  signal: AbortSignal;
}

/**
 * A service handler: return a value (or a promise of one) for a RESPONSE; return an async
 * iterable / generator for STREAM frames (a stream call that gets a plain value receives it as
 * one frame); throw ServiceError(code, message) for an ERROR with that code (other exceptions
 * become INTERNAL_ERROR).
 */
export type Handler = (
  payload: any,
  context: HandlerContext,
) => unknown | Promise<unknown> | AsyncIterable<unknown> | Iterable<unknown>;

export declare function connect(options?: ConnectOptions): Promise<Client>;

export declare class Client extends EventEmitter {
  readonly socketPath: string;
  readonly format: PayloadFormat;
  readonly maxPayload: number;
  readonly maxQueuedBytes: number;
  /** The default timeout of later calls, in ms; may be changed. */
  timeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly waitForBrokerMs: number;
  /** True once the client is closed for good (close(), or a drop with reconnect: false). */
  readonly closed: boolean;
  /** True while a connection is open (false while reconnecting). */
  readonly connected: boolean;
  /** How many times the client reconnected (and re-registered, re-subscribed). */
  readonly reconnects: number;
  /** The socket error that ended the connection, if any. */
  readonly closeReason: Error | null;
  /** `sequence` of the last PUSH received on the current connection (0: none yet). */
  readonly pushSequence: number;
  /** PUSH frames the broker dropped for this client (gaps in `sequence`), over all its connections. */
  readonly pushesLost: number;
  /** Bytes of frames waiting in the send queue for the broker to read (at most maxQueuedBytes). */
  readonly queuedBytes: number;

  constructor(options?: ConnectOptions);

  /** Request-response: resolves with the reply payload. */
  request<T = any>(target: string, messageType: string, payload?: unknown, options?: CallOptions): Promise<T>;
  /** Fire-and-forget: resolves once the broker answered {"status":"delivered"}. */
  send(target: string, messageType: string, payload?: unknown, options?: SendOptions): Promise<void>;
  /** Request-stream: the payloads in sequence order; the signal ends the iteration like cancel(). */
  stream<T = any>(target: string, messageType: string, payload?: unknown, options?: CallOptions): StreamCall<T>;
  /**
   * Subscribes to subject patterns (`*` one token, `>` one or more trailing tokens). The signal ends
   * the wait for the broker's answer (the subscription is then undone), not the subscription.
   */
  subscribe<T = any>(patterns: string | Iterable<string>, callback?: (notification: Notification<T>) => void | Promise<void>, options?: SignalOptions): Promise<Subscription<T>>;
  subscribe<T = any>(patterns: string | Iterable<string>, options: SignalOptions): Promise<Subscription<T>>;
  /** Publishes on a subject; resolves with the broker's RESPONSE payload (if any). */
  publish(subject: string, payload?: unknown, options?: PublishOptions): Promise<unknown>;
  /** Registers a service on this connection and answers the requests the broker forwards. */
  serve(service: string, handler: Handler, options?: ServeOptions): Promise<ServiceRegistration>;
  discover(options?: DiscoverOptions): Promise<DiscoverResult>;
  /** The broker's counters. */
  stats(options?: SignalOptions): Promise<Record<string, any>>;
  /** Sends a HEARTBEAT; resolves with the round-trip time in ms. */
  ping(options?: { timeoutMs?: number } & SignalOptions): Promise<number>;
  /**
   * Resolves when the client can write again without queueing: nothing waits in its send queue and
   * the socket's buffer is below its high-water mark (at once when that is so, or when not connected).
   */
  drain(options?: SignalOptions): Promise<void>;
  /** Closes the connection; calls in flight reject with ConnectionClosedError, subscriptions end. */
  close(): Promise<void>;

  on(event: 'close', listener: (reason: Error | null) => void): this;
  /** The connection dropped; calls in flight were rejected with `err`; the client is reconnecting. */
  on(event: 'disconnect', listener: (err: ConnectionClosedError) => void): this;
  /** Reconnected, services registered and patterns subscribed again. */
  on(event: 'reconnect', listener: () => void): this;
  /** Errors not tied to a call: connection-level ERROR frames, subscription callback failures. */
  on(event: 'error', listener: (err: Error) => void): this;
  on(event: string | symbol, listener: (...args: any[]) => void): this;
}

export declare class StreamCall<T = any> implements AsyncIterableIterator<T> {
  readonly correlationId: string;
  next(): Promise<IteratorResult<T, undefined>>;
  /** Ends the iteration (cancels the stream if it is still running). */
  return(): Promise<IteratorResult<T, undefined>>;
  [Symbol.asyncIterator](): this;
  /** Sends CANCEL; the iteration ends at once, without an error. */
  cancel(): void;
  toArray(): Promise<T[]>;
}

export declare class Subscription<T = any> implements AsyncIterableIterator<Notification<T>> {
  readonly patterns: string[];
  /** Every pattern the connection holds, as the broker answered. */
  subscribedTypes: string[];
  readonly active: boolean;
  /**
   * Notifications the broker dropped on this client's connection while this subscription was
   * active (sum of `sequence` gaps, seen when the next PUSH arrives). The broker does not say what a
   * dropped PUSH was, so with several subscriptions on one client this is an upper bound for each
   * (exact for a client's only subscription).
   */
  readonly lost: number;
  /**
   * How many times the connection dropped while this subscription was active. At each drop the
   * iteration's next step rejects once with ConnectionClosedError; iterate again to get what is
   * published after the reconnect (what was published meanwhile is not delivered).
   */
  readonly interruptions: number;
  next(): Promise<IteratorResult<Notification<T>, undefined>>;
  return(): Promise<IteratorResult<Notification<T>, undefined>>;
  [Symbol.asyncIterator](): this;
  /** Ends the subscription locally at once; the promise waits for the broker's answer. */
  unsubscribe(options?: SignalOptions): Promise<void>;
  toArray(): Promise<Notification<T>[]>;
}

export declare class ServiceRegistration {
  readonly name: string;
  readonly active: boolean;
  /** Stops serving locally at once; the promise waits for the broker's answer. */
  unregister(options?: SignalOptions): Promise<void>;
}

export declare function subjectMatches(pattern: string, subject: string): boolean;
export declare function resolveSocketPath(explicit?: string, env?: Record<string, string | undefined>, uid?: number): string;
/**
 * Throws UnsafeSocketPathError when the path could let another user impersonate the broker: a symbolic link
 * as the socket or its directory; for a default path, a directory not owned by this user or root, or writable
 * by group or others. Clients call it before every connect.
 */
export declare function checkSocketPath(socketPath: string, isDefault: boolean, uid?: number): void;
/** The client refused to connect to an unsafe socket path; the message names the path, what was found and what to do. */
export declare class UnsafeSocketPathError extends ConnectionClosedError {}

// ---- errors ------------------------------------------------------------------------------------

export interface SwitchboardErrorOptions {
  cause?: unknown;
  correlationId?: string;
  payload?: unknown;
}

export declare class SwitchboardError extends Error {
  /** Protocol error code or a service-defined code. */
  readonly code: string;
  readonly correlationId?: string;
  readonly payload?: unknown;
  constructor(message: string, code: string, options?: SwitchboardErrorOptions);
}

interface CodedErrorClass<C extends string> {
  new (message?: string, options?: SwitchboardErrorOptions): SwitchboardError & { readonly code: C };
  readonly CODE: C;
}

export declare const ActorNotFoundError: CodedErrorClass<'ACTOR_NOT_FOUND'>;
export type ActorNotFoundError = InstanceType<typeof ActorNotFoundError>;
export declare const UnknownMessageTypeError: CodedErrorClass<'UNKNOWN_MESSAGE_TYPE'>;
export type UnknownMessageTypeError = InstanceType<typeof UnknownMessageTypeError>;
export declare const SerializationError: CodedErrorClass<'SERIALIZATION_ERROR'>;
export type SerializationError = InstanceType<typeof SerializationError>;
export declare const InvalidRequestError: CodedErrorClass<'INVALID_REQUEST'>;
export type InvalidRequestError = InstanceType<typeof InvalidRequestError>;
export declare const TargetBusyError: CodedErrorClass<'TARGET_BUSY'>;
export type TargetBusyError = InstanceType<typeof TargetBusyError>;
export declare const ServiceUnavailableError: CodedErrorClass<'SERVICE_UNAVAILABLE'>;
export type ServiceUnavailableError = InstanceType<typeof ServiceUnavailableError>;
export declare const CancelledError: CodedErrorClass<'CANCELLED'>;
export type CancelledError = InstanceType<typeof CancelledError>;
export declare const RateLimitedError: CodedErrorClass<'RATE_LIMITED'>;
export type RateLimitedError = InstanceType<typeof RateLimitedError>;
export declare const PayloadTooLargeError: CodedErrorClass<'PAYLOAD_TOO_LARGE'>;
export type PayloadTooLargeError = InstanceType<typeof PayloadTooLargeError>;
export declare const ProtocolError: CodedErrorClass<'PROTOCOL_ERROR'>;
export type ProtocolError = InstanceType<typeof ProtocolError>;
export declare const UnsupportedProtocolVersionError: CodedErrorClass<'UNSUPPORTED_PROTOCOL_VERSION'>;
export type UnsupportedProtocolVersionError = InstanceType<typeof UnsupportedProtocolVersionError>;
export declare const NameInUseError: CodedErrorClass<'NAME_IN_USE'>;
export type NameInUseError = InstanceType<typeof NameInUseError>;
export declare const ForbiddenError: CodedErrorClass<'FORBIDDEN'>;
export type ForbiddenError = InstanceType<typeof ForbiddenError>;
export declare const ShuttingDownError: CodedErrorClass<'SHUTTING_DOWN'>;
export type ShuttingDownError = InstanceType<typeof ShuttingDownError>;
export declare const ConnectionLimitReachedError: CodedErrorClass<'CONNECTION_LIMIT_REACHED'>;
export type ConnectionLimitReachedError = InstanceType<typeof ConnectionLimitReachedError>;
export declare const InternalError: CodedErrorClass<'INTERNAL_ERROR'>;
export type InternalError = InstanceType<typeof InternalError>;

/** TIMEOUT from the broker, or the client's own deadline (then `local` is true). */
export declare class RequestTimeoutError extends SwitchboardError {
  static readonly CODE: 'TIMEOUT';
  readonly code: 'TIMEOUT';
  readonly local: boolean;
  constructor(message?: string, options?: SwitchboardErrorOptions & { local?: boolean });
}

/** An error with a service-defined code; throw it from a handler. */
export declare class ServiceError extends SwitchboardError {
  constructor(code: string, message?: string, options?: SwitchboardErrorOptions);
}

/**
 * The connection is closed, dropped, or not open again yet; a ServiceUnavailableError with code
 * SERVICE_UNAVAILABLE. `cause` holds the broker's error if it sent one.
 */
export declare class ConnectionClosedError extends ServiceUnavailableError {
  static readonly CODE: 'SERVICE_UNAVAILABLE';
  readonly code: 'SERVICE_UNAVAILABLE';
  constructor(message?: string, options?: SwitchboardErrorOptions);
}

export declare const ERROR_CLASSES: Readonly<Record<string, new (message?: string, options?: SwitchboardErrorOptions) => SwitchboardError>>;
export declare function errorFromCode(code: string | undefined, message?: string, options?: SwitchboardErrorOptions): SwitchboardError;

// ---- framing -----------------------------------------------------------------------------------

export declare const FrameType: Readonly<{
  REQUEST: 0x01; RESPONSE: 0x02; ERROR: 0x03; HEARTBEAT: 0x04; PUSH: 0x05; SUBSCRIBE: 0x06;
  UNSUBSCRIBE: 0x07; DISCOVER: 0x08; STREAM: 0x09; REGISTER: 0x0a; UNREGISTER: 0x0b;
  PUBLISH: 0x0c; CANCEL: 0x0d; STATS: 0x0e;
}>;
export declare const Format: Readonly<{ JSON: 0x01; MSGPACK: 0x02 }>;
export declare const PROTOCOL_VERSION: 0x02;
export declare const HEADER_SIZE: 7;
export declare const DEFAULT_MAX_PAYLOAD: number;

export interface DecodedFrame {
  type: number;
  format: number;
  version: number;
  body?: any;
  /** Set when the payload was well framed but could not be parsed. */
  bodyError?: Error;
}

export declare class FramingError extends Error {
  readonly code: 'PROTOCOL_ERROR' | 'PAYLOAD_TOO_LARGE';
}

export declare class FrameDecoder {
  constructor(maxPayload?: number);
  /** Feeds bytes; returns the frames completed. Throws FramingError on an invalid header. */
  push(chunk: Buffer): DecodedFrame[];
  readonly pending: number;
}

export declare function encodeFrame(type: number, body: unknown, format?: number, maxPayload?: number): Buffer;
export declare function encodeBody(body: unknown, format: number): Buffer;
export declare function decodeBody(bytes: Buffer, format: number): any;

export declare namespace msgpack {
  function encode(value: unknown): Buffer;
  function decode(bytes: Uint8Array): any;
}
