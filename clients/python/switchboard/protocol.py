"""Wire format of the Switchboard socket protocol (version 2), shared by the
synchronous and the asyncio client.

Frame: 4-byte big-endian payload length (header not included), version byte
(0x02; 0x01 accepted on input: no format byte, JSON), frame type, format byte
(0x01 JSON, 0x02 MessagePack), payload.
"""

from __future__ import annotations

import json
import os
import stat
import struct
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, Iterator, List, NamedTuple, Optional, Sequence, Tuple

from . import msgpack
from .errors import (PayloadTooLarge, ProtocolError, SerializationError, SwitchboardError, UnsafeSocketPath,
                     error_from_code)

__all__ = [
    "VERSION",
    "HEADER",
    "DEFAULT_MAX_PAYLOAD",
    "FORMAT_JSON",
    "FORMAT_MSGPACK",
    "Frame",
    "Notification",
    "RequestEncoder",
    "encode_frame",
    "encode_requests",
    "decode_body",
    "parse_header",
    "resolve_socket_path",
    "pattern_matches",
    "subject_problem",
]

VERSION = 0x02
VERSION_1 = 0x01
HEADER = struct.Struct(">IBBB")  # length, version, type, format
HEADER_V2_SIZE = 7
HEADER_V1_SIZE = 6
LENGTH_VERSION = struct.Struct(">IB")  # the first 5 bytes of either version
# a frame carries one message of the broker's default maximum (16 MiB, switchboard.max.message.length) and its
# envelope (64 KiB of room), as the broker's own default frame limit does
ENVELOPE_ALLOWANCE = 64 * 1024
DEFAULT_MAX_PAYLOAD = 16 * 1024 * 1024 + ENVELOPE_ALLOWANCE
ABSOLUTE_MAX_PAYLOAD = 256 * 1024 * 1024 + ENVELOPE_ALLOWANCE

# frame types
REQUEST = 0x01
RESPONSE = 0x02
ERROR = 0x03
HEARTBEAT = 0x04
PUSH = 0x05
SUBSCRIBE = 0x06
UNSUBSCRIBE = 0x07
DISCOVER = 0x08
STREAM = 0x09
REGISTER = 0x0A
UNREGISTER = 0x0B
PUBLISH = 0x0C
CANCEL = 0x0D
STATS = 0x0E

FRAME_TYPES = frozenset(range(0x01, 0x0F))

FORMAT_JSON = 0x01
FORMAT_MSGPACK = 0x02

_FORMATS = {"json": FORMAT_JSON, "msgpack": FORMAT_MSGPACK, "messagepack": FORMAT_MSGPACK}


def format_code(fmt: str) -> int:
    try:
        return _FORMATS[fmt.lower()]
    except (KeyError, AttributeError):
        raise ValueError(f"format must be 'json' or 'msgpack', not {fmt!r}") from None


@dataclass
class Frame:
    type: int
    format: int
    body: Any


@dataclass
class Notification:
    """One PUSH received by a subscription."""

    subject: str
    payload: Any
    notification_id: Any = None
    timestamp_ms: Optional[int] = None
    source_actor: Optional[str] = None
    #: the broker's per-connection PUSH counter (1, 2, ...; starts again at 1 after a reconnect)
    sequence: Optional[int] = None
    #: notifications lost on the connection just before this one (``sequence`` gap; 0 normally).
    #: The broker does not say what the lost ones were: they may have matched other subscriptions.
    gap: int = 0
    raw: Dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def message_type(self) -> str:
        return self.subject

    @classmethod
    def from_body(cls, body: Dict[str, Any], gap: int = 0) -> "Notification":
        return cls(
            subject=body.get("message_type", ""),
            payload=body.get("payload"),
            notification_id=body.get("notification_id"),
            timestamp_ms=body.get("timestamp_ms"),
            source_actor=body.get("source_actor"),
            sequence=body.get("sequence"),
            gap=gap,
            raw=body,
        )


class Codec(NamedTuple):
    """One way to encode and decode a format's bodies."""

    name: str
    encode: Callable[[Any], bytes]
    decode: Callable[[bytes], Any]


def json_codecs() -> List[Codec]:
    """The JSON codecs this Python has, preferred first.

    ``orjson`` (``pip install switchboard-client[orjson]``), when installed: about three times
    faster both ways; it writes NaN and infinities as ``null``, refuses integers beyond 64 bits and
    writes floats in its own shortest form (``1e300``, not ``1e+300``): all valid JSON. Then always
    the standard library's public API: one encoder built once (compact, UTF-8, NaN refused, no
    circular-reference check: a circular payload ends in RecursionError) and ``raw_decode``.
    """
    found: List[Codec] = []
    try:
        import orjson
    except ImportError:
        pass
    else:
        dumps, loads, option = orjson.dumps, orjson.loads, orjson.OPT_NON_STR_KEYS

        def fast_encode(obj: Any) -> bytes:
            data: bytes = dumps(obj, option=option)
            return data

        found.append(Codec("orjson", fast_encode, loads))
    encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False,
                              check_circular=False).encode
    raw_decode = json.JSONDecoder().raw_decode

    def std_encode(obj: Any) -> bytes:
        return encode(obj).encode("utf-8")

    def std_decode(data: bytes) -> Any:
        text = data.decode("utf-8")
        try:
            value, end = raw_decode(text)
            if end == len(text):
                return value
        except json.JSONDecodeError:  # e.g. leading whitespace: json.loads decides
            pass
        return json.loads(text)  # trailing whitespace is fine, anything else raises

    found.append(Codec("json", std_encode, std_decode))
    return found


def msgpack_codecs() -> List[Codec]:
    """The MessagePack codecs this Python has, preferred first: the ``msgpack`` package
    (``pip install switchboard-client[msgpack]``, a C extension, several times faster) when
    installed, then always the pure-Python :mod:`switchboard.msgpack` of this package. Both write
    the smallest integer encodings, float64 for floats, str for text and bin for bytes, and refuse
    trailing bytes."""
    found: List[Codec] = []
    try:
        import msgpack as ext
    except ImportError:
        pass
    else:
        packb, unpackb = ext.packb, ext.unpackb

        def fast_pack(obj: Any) -> bytes:
            data: bytes = packb(obj, use_bin_type=True)
            return data

        def fast_unpack(data: bytes) -> Any:
            return unpackb(data, raw=False, strict_map_key=False)

        found.append(Codec("msgpack", fast_pack, fast_unpack))
    found.append(Codec("switchboard.msgpack", msgpack.packb, msgpack.unpackb))
    return found


def _choose(codecs: List[Codec]) -> Codec:
    """The preferred codec, or the last (the standard library's or this package's) when
    ``SWITCHBOARD_CODECS=stdlib`` asks for no optional package."""
    return codecs[-1] if os.environ.get("SWITCHBOARD_CODECS") == "stdlib" else codecs[0]


#: the codecs in use: ``JSON_CODEC.name`` is "orjson" or "json", ``MSGPACK_CODEC.name`` "msgpack" or
#: "switchboard.msgpack"
JSON_CODEC = _choose(json_codecs())
MSGPACK_CODEC = _choose(msgpack_codecs())


def use_codecs(json_codec: Codec, msgpack_codec: Codec) -> None:
    """Use these codecs from now on, in every client of this process (for tests and benchmarks)."""
    global JSON_CODEC, MSGPACK_CODEC
    JSON_CODEC, MSGPACK_CODEC = json_codec, msgpack_codec


def encode_body(body: Any, fmt: int) -> bytes:
    try:
        if fmt == FORMAT_MSGPACK:
            return MSGPACK_CODEC.encode(body)
        return JSON_CODEC.encode(body)
    except RecursionError:
        raise SerializationError("cannot encode payload: circular reference or nesting too deep") from None
    except (TypeError, ValueError, OverflowError) as exc:  # orjson's and msgpack's errors derive from these
        raise SerializationError(f"cannot encode payload: {exc}") from None


def encode_frame(frame_type: int, body: Any, fmt: int = FORMAT_JSON, max_payload: int = DEFAULT_MAX_PAYLOAD) -> bytes:
    """Encode one v2 frame; raises PayloadTooLarge before anything is sent."""
    data = encode_body(body, fmt)
    if len(data) > max_payload:
        raise PayloadTooLarge(f"payload of {len(data)} bytes exceeds the maximum of {max_payload} bytes")
    return HEADER.pack(len(data), VERSION, frame_type, fmt) + data


class RequestEncoder:
    """Encodes REQUEST frames that share target, message type and timeout and differ only in
    correlation id and payload (a batch): the shared part of the envelope is encoded once, each
    frame adds its id and its payload. The bytes on the wire are an ordinary envelope, the same
    fields as a single request sends (in another order, which neither format cares about).

    Correlation ids must be ASCII without quotes or backslashes (the clients' ``py-<n>`` and
    ``pya-<n>``): they are copied into the JSON text as they are.
    """

    __slots__ = ("_fmt", "_max_payload", "_head", "_mid", "_tail", "_fixed")

    def __init__(self, target: str, message_type: str, timeout: Optional[float], fmt: int,
                 max_payload: int = DEFAULT_MAX_PAYLOAD):
        envelope = {"target": target, "message_type": message_type, "expects_reply": True,
                    "expects_stream": False, "response_timeout_ms": timeout_ms(timeout)}
        self._fmt = fmt
        self._max_payload = max_payload
        if fmt == FORMAT_MSGPACK:
            fields = b"".join(msgpack.packb(k) + msgpack.packb(v) for k, v in envelope.items())
            # a fixmap of the five shared fields plus correlation_id and payload
            self._head = bytes([0x80 | (len(envelope) + 2)]) + fields + msgpack.packb("correlation_id")
            self._mid = msgpack.packb("payload")
            self._tail = b""
        else:
            self._head = encode_body(envelope, fmt)[:-1] + b',"correlation_id":"'
            self._mid = b'","payload":'
            self._tail = b"}"
        self._fixed = len(self._head) + len(self._mid) + len(self._tail)

    def append(self, parts: List[bytes], correlation_id: str, payload: Any) -> int:
        """Append the frame's pieces to ``parts`` (to be joined); return how many bytes they hold.
        Raises SerializationError or PayloadTooLarge, appending nothing."""
        if self._fmt == FORMAT_JSON:
            cid = correlation_id.encode("ascii")
            data = encode_body(payload, FORMAT_JSON)
        else:
            cid = msgpack.packb(correlation_id)
            data = encode_body(payload, self._fmt)
        length = self._fixed + len(cid) + len(data)
        if length > self._max_payload:
            raise PayloadTooLarge(f"payload of {length} bytes exceeds the maximum of {self._max_payload} bytes")
        parts += (HEADER.pack(length, VERSION, REQUEST, self._fmt), self._head, cid, self._mid, data, self._tail)
        return HEADER_V2_SIZE + length


def encode_requests(encoder: RequestEncoder, payloads: Sequence[Any], ids: Iterator[int], prefix: str,
                    results: List[Any], return_exceptions: bool) -> Tuple[memoryview, List[int], List[int], List[str]]:
    """Encode a batch into one buffer. Returns the buffer, the indexes of the payloads encoded
    (in order), the end offset of each of their frames in the buffer and their correlation ids
    (``prefix`` + the next of ``ids``). A payload that cannot be encoded raises, or with
    ``return_exceptions`` has its exception put in ``results`` and is left out."""
    parts: List[bytes] = []
    sent: List[int] = []
    ends: List[int] = []
    cids: List[str] = []
    append = encoder.append
    offset = 0
    for i, payload in enumerate(payloads):
        cid = f"{prefix}{next(ids)}"
        try:
            offset += append(parts, cid, payload)
        except SwitchboardError as exc:
            if not return_exceptions:
                raise
            results[i] = exc
            continue
        sent.append(i)
        ends.append(offset)
        cids.append(cid)
    return memoryview(b"".join(parts)), sent, ends, cids


def parse_header(first5: bytes) -> Tuple[int, int, int]:
    """From the first 5 bytes (length + version) return (length, version, rest):
    rest is how many more header bytes to read (2 for v2, 1 for v1)."""
    length = int.from_bytes(first5[:4], "big")
    version = first5[4]
    if version == VERSION:
        return length, version, 2
    if version == VERSION_1:
        return length, version, 1
    raise ProtocolError(f"unsupported protocol version 0x{version:02x} from broker")


def frame_too_large(length: int) -> SwitchboardError:
    """The error for a frame from the broker announcing more than any frame may hold."""
    return error_from_code("PAYLOAD_TOO_LARGE",
                           f"broker frame of {length} bytes (at most {ABSOLUTE_MAX_PAYLOAD} are allowed)")


def decode_body(data: bytes, fmt: int) -> Any:
    """The value of a frame's payload (None for an empty one); SerializationError for bytes that are not
    one document of the format, ProtocolError for an unknown format."""
    if not data:
        if fmt in (FORMAT_JSON, FORMAT_MSGPACK):
            return None
    elif fmt == FORMAT_JSON:
        try:
            return JSON_CODEC.decode(bytes(data))
        except (UnicodeDecodeError, ValueError) as exc:  # orjson.JSONDecodeError is a ValueError
            raise SerializationError(f"invalid JSON from broker: {exc}") from None
        except RecursionError:
            raise SerializationError("invalid JSON from broker: nested too deep") from None
    elif fmt == FORMAT_MSGPACK:
        try:
            return MSGPACK_CODEC.decode(bytes(data))
        except RecursionError:
            raise SerializationError("invalid MessagePack from broker: nested too deep") from None
        except Exception as exc:  # the msgpack package raises many kinds (ExtraData, FormatError, ...)
            raise SerializationError(f"invalid MessagePack from broker: {exc}") from None
    raise ProtocolError(f"unknown format 0x{fmt:02x} from broker")


def resolve_socket_path(path: Optional[str] = None) -> str:
    """The socket path: explicit argument, $SWITCHBOARD_SOCKET,
    $XDG_RUNTIME_DIR/switchboard/broker.sock, /tmp/switchboard-<uid>/broker.sock."""
    if path:
        return os.fspath(path)
    env = os.environ.get("SWITCHBOARD_SOCKET")
    if env:
        return env
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    if xdg:
        return os.path.join(xdg, "switchboard", "broker.sock")
    return f"/tmp/switchboard-{os.getuid()}/broker.sock"


def is_default_socket_path(path: Optional[str] = None) -> bool:
    """Whether :func:`resolve_socket_path` would pick a default path (no argument, no
    $SWITCHBOARD_SOCKET): one the user did not name, so its directory is checked more strictly."""
    return not path and not os.environ.get("SWITCHBOARD_SOCKET")


def check_socket_path(path: str, default: bool) -> None:
    """Refuse a socket path through which another user could impersonate the broker; called once
    per connect (two ``lstat`` calls).

    Any path: neither the socket's directory nor the socket itself may be a symbolic link (a link
    is never followed silently: pass the real path if it is meant). A default path (no argument,
    no $SWITCHBOARD_SOCKET; e.g. ``/tmp/switchboard-<uid>``, whose parent anyone may write): the
    directory must also be owned by this user or root and not be writable by group or others.
    A directory or socket that does not exist is left to ``connect()`` to report.

    :raises UnsafeSocketPath: naming the path, what was found and what to do.
    """
    directory = os.path.dirname(os.path.abspath(path))
    try:
        st = os.lstat(directory)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise UnsafeSocketPath(f"cannot check the broker socket directory {directory}: {exc}") from exc
    if stat.S_ISLNK(st.st_mode):
        raise UnsafeSocketPath(
            f"refusing to connect to {path}: its directory {directory} is a symbolic link "
            f"(to {os.readlink(directory)!r}), which another user may have planted; if it is yours, "
            f"pass the real path ({os.path.join(os.path.realpath(directory), os.path.basename(path))}) "
            "as socket_path or $SWITCHBOARD_SOCKET")
    if default:
        uid = os.getuid()
        if st.st_uid not in (uid, 0):
            raise UnsafeSocketPath(
                f"refusing to connect to {path}: its directory {directory} is owned by uid {st.st_uid}, "
                f"not by you (uid {uid}) or root, so a broker there may be another user's impostor; remove "
                "the directory (or have its owner remove it) and restart the broker, or set "
                "$SWITCHBOARD_SOCKET to a socket in a directory you own")
        if not stat.S_ISDIR(st.st_mode):
            raise UnsafeSocketPath(f"refusing to connect to {path}: {directory} is not a directory")
        if st.st_mode & 0o022:
            raise UnsafeSocketPath(
                f"refusing to connect to {path}: its directory {directory} is writable by group or others "
                f"(mode {stat.S_IMODE(st.st_mode):04o}), so anyone could replace the socket; "
                f"run 'chmod 700 {directory}' (the broker creates it 0700) and restart the broker")
    try:
        sst = os.lstat(path)
    except OSError:
        return
    if stat.S_ISLNK(sst.st_mode):
        raise UnsafeSocketPath(
            f"refusing to connect to {path}: the socket is a symbolic link (to {os.readlink(path)!r}); "
            "pass the real path as socket_path or $SWITCHBOARD_SOCKET if it is meant")


#: longest subject or pattern the broker accepts, in characters (printable ASCII)
MAX_SUBJECT_LENGTH = 255


def subject_problem(text: str, wildcards: bool) -> Optional[str]:
    """What is wrong with a pattern (``wildcards`` True) or a subject to publish on (False), as the
    broker checks it; None when it is valid. Tokens are dot-separated, non-empty, printable ASCII
    without spaces; ``*`` and ``>`` only as whole tokens of a pattern, ``>`` only as the last."""
    if not text:
        return "empty"
    if len(text) > MAX_SUBJECT_LENGTH:
        return f"longer than {MAX_SUBJECT_LENGTH} characters ({len(text)})"
    tokens = text.split(".")
    for i, token in enumerate(tokens):
        if not token:
            return f"empty token at position {i + 1}"
        bad = next((c for c in token if not "!" <= c <= "~"), None)
        if bad is not None:
            return f"character {bad!r} in token {token!r} (printable ASCII only)"
        if "*" in token or ">" in token:
            if not wildcards:
                return f"wildcard {token!r} in a subject"
            if len(token) != 1:
                return f"wildcard inside token {token!r}"
            if token == ">" and i != len(tokens) - 1:
                return "'>' must be the last token"
    return None


def pattern_matches(pattern: str, subject: str) -> bool:
    """Subject matching: ``*`` is exactly one token, ``>`` one or more trailing tokens."""
    if pattern == subject:
        return True
    p = pattern.split(".")
    s = subject.split(".")
    for i, tok in enumerate(p):
        if tok == ">":
            return i == len(p) - 1 and len(s) > i
        if i >= len(s):
            return False
        if tok != "*" and tok != s[i]:
            return False
    return len(s) == len(p)


def any_matches(patterns: Iterable[str], subject: str) -> bool:
    return any(pattern_matches(p, subject) for p in patterns)


class PushSequence:
    """Tracks the ``sequence`` of the PUSH frames of one connection.

    The broker sends exactly one PUSH per publication per connection, however many of the
    connection's patterns match, and numbers them per connection from 1. A PUSH it had to drop
    (a subscriber that does not keep up) still consumes its number, so ``sequence`` jumping from
    ``n`` to ``n + 1 + k`` means ``k`` notifications were lost on this connection. A new connection
    (after a reconnect) counts from 1 again: call :meth:`reset`.
    """

    def __init__(self) -> None:
        self.last = 0  #: sequence of the last PUSH seen on the current connection (0: none yet)
        self.lost = 0  #: notifications lost on this client's connections, summed over reconnects

    def reset(self) -> None:
        self.last = 0

    def observe(self, sequence: Any) -> int:
        """Record one PUSH; return how many were lost just before it (0 normally)."""
        if not isinstance(sequence, int) or isinstance(sequence, bool):
            return 0
        gap = sequence - self.last - 1 if sequence > self.last else 0
        self.last = sequence
        self.lost += gap
        return gap

    def notice(self, sequence: Any) -> int:
        """Record a loss notice (a RESPONSE with ``notice: "pushes_lost"``): the broker dropped every PUSH
        numbered after the last one seen up to ``sequence``, with none after them yet; return how many."""
        if not isinstance(sequence, int) or isinstance(sequence, bool) or sequence <= self.last:
            return 0
        gap = sequence - self.last
        self.last = sequence
        self.lost += gap
        return gap


def error_body(correlation_id: str, exc: BaseException) -> Dict[str, Any]:
    """The ERROR body a serving client sends for a handler failure."""
    if isinstance(exc, SwitchboardError):
        code = exc.code or "INTERNAL_ERROR"
        message = exc.message
    else:
        code = "INTERNAL_ERROR"
        message = f"{type(exc).__name__}: {exc}"
    return {"correlation_id": correlation_id, "success": False, "error": message, "error_code": code}


def timeout_ms(timeout: Optional[float]) -> int:
    if timeout is None:
        return 30000
    if timeout <= 0:
        raise ValueError("timeout must be positive")
    return max(1, int(timeout * 1000))


def is_loss_notice(body: Dict[str, Any]) -> bool:
    """Whether a frame body is the broker's loss notice: pushes dropped for this connection (PROTOCOL.md)."""
    return body.get("correlation_id") == "" and body.get("notice") == "pushes_lost"
