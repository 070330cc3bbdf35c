// Error classes: one per error code of the socket protocol, plus client-side ones.

/** @template {string} [C=string] the error code's type */
export class SwitchboardError extends Error {
  /**
   * @param {string} message
   * @param {C} code protocol error code (e.g. "ACTOR_NOT_FOUND") or a service-defined code
   * @param {{ cause?: unknown, correlationId?: string, payload?: unknown }} [options]
   */
  constructor(message, code, options = {}) {
    super(message, options.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = new.target.name;
    /** @type {C} */
    this.code = code;
    if (options.correlationId !== undefined) this.correlationId = options.correlationId;
    if (options.payload !== undefined) this.payload = options.payload;
  }
}

/**
 * @template {string} C
 * @param {string} name
 * @param {C} code
 * @returns {{ new (message?: string, options?: { cause?: unknown, correlationId?: string, payload?: unknown }): SwitchboardError & { readonly code: C }, readonly CODE: C }}
 */
function define(name, code) {
  const cls = {
    [name]: class extends SwitchboardError {
      constructor(message = code, options = {}) {
        super(message, code, options);
      }
    },
  }[name];
  cls.CODE = code;
  return cls;
}

export const ActorNotFoundError = define('ActorNotFoundError', 'ACTOR_NOT_FOUND');
export const UnknownMessageTypeError = define('UnknownMessageTypeError', 'UNKNOWN_MESSAGE_TYPE');
export const SerializationError = define('SerializationError', 'SERIALIZATION_ERROR');
export const InvalidRequestError = define('InvalidRequestError', 'INVALID_REQUEST');
export const TargetBusyError = define('TargetBusyError', 'TARGET_BUSY');
export const ServiceUnavailableError = define('ServiceUnavailableError', 'SERVICE_UNAVAILABLE');
export const CancelledError = define('CancelledError', 'CANCELLED');
export const RateLimitedError = define('RateLimitedError', 'RATE_LIMITED');
export const PayloadTooLargeError = define('PayloadTooLargeError', 'PAYLOAD_TOO_LARGE');
export const ProtocolError = define('ProtocolError', 'PROTOCOL_ERROR');
export const UnsupportedProtocolVersionError = define('UnsupportedProtocolVersionError', 'UNSUPPORTED_PROTOCOL_VERSION');
export const NameInUseError = define('NameInUseError', 'NAME_IN_USE');
export const ForbiddenError = define('ForbiddenError', 'FORBIDDEN');
export const ShuttingDownError = define('ShuttingDownError', 'SHUTTING_DOWN');
export const ConnectionLimitReachedError = define('ConnectionLimitReachedError', 'CONNECTION_LIMIT_REACHED');
export const InternalError = define('InternalError', 'INTERNAL_ERROR');

/** TIMEOUT from the broker, or the client's own deadline (then `.local` is true). */
/** @extends {SwitchboardError<'TIMEOUT'>} */
export class RequestTimeoutError extends SwitchboardError {
  /** @type {'TIMEOUT'} */
  static CODE = 'TIMEOUT';

  constructor(message = 'TIMEOUT', options = {}) {
    super(message, 'TIMEOUT', options);
    this.local = Boolean(options.local);
  }
}

/** An error with a code defined by a service, not by the protocol. Throw it from a handler. */
export class ServiceError extends SwitchboardError {
  constructor(code, message = code, options = {}) {
    super(message, code, options);
  }
}

/**
 * The connection to the broker is closed, dropped, or not open again yet. A ServiceUnavailableError
 * (code SERVICE_UNAVAILABLE): a call in flight when the connection drops was neither answered nor
 * known to have run, like a call to a service that went away. `.cause` holds the broker's error if
 * it sent one.
 */
export class ConnectionClosedError extends ServiceUnavailableError {
  /** @type {'SERVICE_UNAVAILABLE'} */
  static CODE = 'SERVICE_UNAVAILABLE';

  constructor(message = 'connection to the broker is closed', options = {}) {
    super(message, options);
  }
}

const BY_CODE = new Map(
  [
    ActorNotFoundError, UnknownMessageTypeError, SerializationError, InvalidRequestError,
    TargetBusyError, RequestTimeoutError, ServiceUnavailableError, CancelledError, RateLimitedError,
    PayloadTooLargeError, ProtocolError, UnsupportedProtocolVersionError, NameInUseError,
    ForbiddenError, ShuttingDownError, ConnectionLimitReachedError, InternalError,
  ].map((cls) => [cls.CODE, cls]),
);

/** All protocol error codes, each mapped to its class. */
export const ERROR_CLASSES = Object.freeze(Object.fromEntries(BY_CODE));

/** Builds the right error object for a code received from the broker. */
export function errorFromCode(code, message, options = {}) {
  const text = typeof message === 'string' && message !== '' ? message : String(code ?? 'unknown error');
  // a service's error without a code: a ServiceError coded UNKNOWN, as in the Python client (clients/vectors/errors.json)
  if (typeof code !== 'string' || code === '') return new ServiceError('UNKNOWN', text, options);
  const cls = BY_CODE.get(code);
  if (cls) return new cls(text, options);
  return new ServiceError(code, text, options);
}
