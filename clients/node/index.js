// switchboard-client: Node.js client for the Switchboard broker's Unix-socket protocol (v2).
export {
  connect, Client, StreamCall, Subscription, ServiceRegistration, subjectMatches,
} from './src/client.js';
export * from './src/errors.js';
export { resolveSocketPath, checkSocketPath, UnsafeSocketPathError } from './src/socketpath.js';
export {
  FrameType, Format, FrameDecoder, FramingError, encodeFrame, encodeBody, decodeBody,
  PROTOCOL_VERSION, HEADER_SIZE, DEFAULT_MAX_PAYLOAD,
} from './src/framing.js';
export * as msgpack from './src/msgpack.js';
