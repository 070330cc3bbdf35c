/**
 * The socket frame layer of PROTOCOL.md: the 7-byte (v2) or 6-byte (v1) header, an incremental
 * {@link io.switchboard.codec.frame.FrameDecoder} for non-blocking reads, a
 * {@link io.switchboard.codec.frame.FrameEncoder}, the payload formats (JSON, MessagePack) read into
 * one {@code JsonNode} tree by {@link io.switchboard.codec.frame.PayloadCodec}, and the standard
 * bodies (response, error, stream, push, heartbeat) built by {@link io.switchboard.codec.frame.FrameBodies}.
 */
package io.switchboard.codec.frame;
