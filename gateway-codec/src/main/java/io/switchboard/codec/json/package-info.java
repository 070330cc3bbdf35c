/**
 * IR-driven transcoding between JSON (or MessagePack) trees and SBE messages.
 * <p>
 * {@link io.switchboard.codec.json.SbeJsonTranscoder} is built once from a service's SBE IR: it compiles
 * each message's token list into a small tree of codecs (one per field kind: scalar, char array,
 * primitive array, constant, enum, set, composite, repeating group, var data) which then encode a
 * {@code JsonNode} into a buffer and decode a buffer into an {@code ObjectNode}. Every failure is a
 * {@link io.switchboard.codec.json.TranscodeException} that names the field path.
 * <p>
 * Mapping: integers as JSON integers (uint64 over 2^63-1 as big integers), float/double as JSON numbers,
 * char arrays as strings, other primitive arrays as JSON arrays of exactly their length, enums by value
 * name, sets as arrays of choice names (an object of booleans is accepted too), composites as objects,
 * groups as arrays of objects, var data as strings (character-encoded) or base64 strings (raw bytes;
 * a MessagePack binary value is accepted too). Optional fields at their null value are omitted on
 * decode; a missing or null optional field is written as its null value.
 */
package io.switchboard.codec.json;
