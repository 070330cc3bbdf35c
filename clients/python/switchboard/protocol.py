"""Wire format of the Switchboard socket protocol (version 2), shared by the
synchronous and the asyncio client.

Frame: 4-byte big-endian payload length (header not included), version byte
(0x02; 0x01 accepted on input: no format byte, JSON), frame type, format byte
(0x01 JSON, 0x02 MessagePack), payload.
"""

from __future__ import annotations

import json
import os
import struct
from dataclasses import dataclass, field
from typing import Any, Iterable, Optional, Tuple

from . import msgpack
from .errors import PayloadTooLarge, ProtocolError, SerializationError, SwitchboardError

__all__ = [
    "VERSION",
    "HEADER",
    "DEFAULT_MAX_PAYLOAD",
    "FORMAT_JSON",
    "FORMAT_MSGPACK",
    "Frame",
    "Notification",
    "encode_frame",
    "decode_body",
    "parse_header",
    "resolve_socket_path",
    "pattern_matches",
]

VERSION = 0x02
VERSION_1 = 0x01
HEADER = struct.Struct(">IBBB")  # length, version, type, format
HEADER_V1_SIZE = 6
DEFAULT_MAX_PAYLOAD = 1024 * 1024
ABSOLUTE_MAX_PAYLOAD = 16 * 1024 * 1024

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
    sequence: Optional[int] = None
    raw: dict = field(default_factory=dict, repr=False)

    @property
    def message_type(self) -> str:
        return self.subject

    @classmethod
    def from_body(cls, body: dict) -> "Notification":
        return cls(
            subject=body.get("message_type", ""),
            payload=body.get("payload"),
            notification_id=body.get("notification_id"),
            timestamp_ms=body.get("timestamp_ms"),
            source_actor=body.get("source_actor"),
            sequence=body.get("sequence"),
            raw=body,
        )


def encode_body(body: Any, fmt: int) -> bytes:
    try:
        if fmt == FORMAT_MSGPACK:
            return msgpack.packb(body)
        return json.dumps(body, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise SerializationError(f"cannot encode payload: {exc}") from None


def encode_frame(frame_type: int, body: Any, fmt: int = FORMAT_JSON, max_payload: int = DEFAULT_MAX_PAYLOAD) -> bytes:
    """Encode one v2 frame; raises PayloadTooLarge before anything is sent."""
    data = encode_body(body, fmt)
    if len(data) > max_payload:
        raise PayloadTooLarge(f"payload of {len(data)} bytes exceeds the maximum of {max_payload} bytes")
    return HEADER.pack(len(data), VERSION, frame_type, fmt) + data


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


def decode_body(data: bytes, fmt: int) -> Any:
    if fmt == FORMAT_JSON:
        try:
            return json.loads(data.decode("utf-8")) if data else None
        except (UnicodeDecodeError, ValueError) as exc:
            raise SerializationError(f"invalid JSON from broker: {exc}") from None
    if fmt == FORMAT_MSGPACK:
        try:
            return msgpack.unpackb(data) if data else None
        except msgpack.MsgPackError as exc:
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


class PushRouter:
    """Decides which local subscriptions get a PUSH.

    The broker holds a connection's subscriptions as a set of patterns and sends one PUSH per
    matching pattern, each carrying that pattern's own ``sequence`` (1, 2, ...) and its own
    ``notification_id``, but no field naming the pattern: a connection holding ``a.*`` and ``a.>``
    gets two PUSH frames for one publication on ``a.x``. The copies of one publication arrive back
    to back with the same subject and ``timestamp_ms``. The router attributes each PUSH to one
    matching pattern -- one not yet used by the current run of copies, preferring the one whose
    next sequence it is (smallest gap if some were dropped) -- and hands it to each local
    subscription whose first pattern matching the subject is that pattern. So every subscription
    sees each publication once and its ``sequence`` gaps stay meaningful.
    """

    def __init__(self) -> None:
        self._last: dict = {}
        self._group_key: Any = None
        self._group_used: set = set()

    def route(self, subs: list, subject: str, sequence: Any, timestamp_ms: Any = None) -> list:
        held = list(dict.fromkeys(p for s in subs for p in s.patterns))
        for p in [p for p in self._last if p not in held]:
            del self._last[p]  # released at the broker: its sequence starts again from 1
        candidates = [p for p in held if pattern_matches(p, subject)]
        if not candidates:
            return []
        if not isinstance(sequence, int) or isinstance(sequence, bool):
            return [s for s in subs if any_matches(s.patterns, subject)]
        key = (subject, timestamp_ms)
        if key != self._group_key or all(p in self._group_used for p in candidates):
            self._group_key, self._group_used = key, set()  # the first copy of another publication
        free = [p for p in candidates if p not in self._group_used]
        fits = [p for p in free if self._last.get(p, 0) < sequence]
        if fits:
            chosen = min(fits, key=lambda p: sequence - self._last.get(p, 0))
        else:  # a counter that started again (pattern dropped and subscribed anew)
            chosen = max(free, key=lambda p: self._last.get(p, 0))
        self._last[chosen] = sequence
        self._group_used.add(chosen)
        return [s for s in subs if next((p for p in s.patterns if pattern_matches(p, subject)), None) == chosen]


def error_body(correlation_id: str, exc: BaseException) -> dict:
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
