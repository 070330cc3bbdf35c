"""Exceptions raised by the Switchboard client.

Every error carries ``.code`` (the protocol error code, e.g. ``"ACTOR_NOT_FOUND"``)
and ``.message``. There is one subclass per error code of the protocol, plus
:class:`ServiceError` for codes that a service defines itself, and
:class:`ConnectionClosed` (a :class:`ServiceUnavailable`) when the socket goes away.
"""

from __future__ import annotations

from typing import Dict, Optional, Tuple, Type

__all__ = [
    "SwitchboardError",
    "ServiceError",
    "ConnectionClosed",
    "ActorNotFound",
    "UnknownMessageType",
    "SerializationError",
    "InvalidRequest",
    "TargetBusy",
    "RequestTimeout",
    "ServiceUnavailable",
    "Cancelled",
    "RateLimited",
    "PayloadTooLarge",
    "ProtocolError",
    "UnsupportedProtocolVersion",
    "NameInUse",
    "Forbidden",
    "ShuttingDown",
    "ConnectionLimitReached",
    "InternalError",
    "error_from_code",
]


class SwitchboardError(Exception):
    """Base class of every error of this package."""

    #: code used when none is given (subclasses set their own)
    default_code: Optional[str] = None

    def __init__(self, message: str = "", code: Optional[str] = None):
        # Only the message goes to the base class: some subclasses also derive
        # from OSError, which would read two positional args as (errno, strerror).
        super().__init__(message)
        self.message = message
        self.code = code if code is not None else self.default_code

    def __str__(self) -> str:
        if self.code and self.message:
            return f"{self.code}: {self.message}"
        return self.message or (self.code or self.__class__.__name__)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(code={self.code!r}, message={self.message!r})"


class ServiceError(SwitchboardError):
    """An error with a service-defined code.

    Raise it from a handler passed to ``serve()`` to answer with an ERROR frame
    carrying ``code`` and ``message``; the caller receives the same code.
    """

    def __init__(self, code: str, message: str = ""):
        super().__init__(message, code)


class ActorNotFound(SwitchboardError):
    default_code = "ACTOR_NOT_FOUND"


class UnknownMessageType(SwitchboardError):
    default_code = "UNKNOWN_MESSAGE_TYPE"


class SerializationError(SwitchboardError):
    default_code = "SERIALIZATION_ERROR"


class InvalidRequest(SwitchboardError):
    default_code = "INVALID_REQUEST"


class TargetBusy(SwitchboardError):
    default_code = "TARGET_BUSY"


class RequestTimeout(SwitchboardError, TimeoutError):
    """No answer in time: sent by the broker (``TIMEOUT``, ``client_side`` False, the broker's
    message kept) or raised locally when nothing arrived or could be sent by the timeout plus a
    margin (``client_side`` True)."""

    default_code = "TIMEOUT"

    def __init__(self, message: str = "", code: Optional[str] = None, *, client_side: bool = False):
        super().__init__(message, code)
        self.client_side = client_side


class ServiceUnavailable(SwitchboardError):
    default_code = "SERVICE_UNAVAILABLE"


class ConnectionClosed(ServiceUnavailable, ConnectionError):
    """The connection to the broker is closed, dropped, or not (yet) open again.

    A subclass of :class:`ServiceUnavailable` with code ``SERVICE_UNAVAILABLE``: a call in
    flight when the connection drops was neither answered nor is it known to have run, exactly
    like a call to a service that went away, so ``except ServiceUnavailable`` covers both.
    ``reason`` holds the error the broker sent before closing, if any (for example a
    ``ProtocolError``, ``Forbidden`` or ``ConnectionLimitReached``). ``cause`` says how the
    connection ended, as one of the constants below, so that no decision reads the message.
    """

    default_code = "SERVICE_UNAVAILABLE"

    #: ``close()`` was called
    BY_CLIENT = "by_client"
    #: the broker closed the connection (``reason``: the error it sent first, if any)
    BY_BROKER = "by_broker"
    #: reading or writing failed (reset, broken pipe)
    LOST = "lost"
    #: the broker sent something that is not the protocol
    PROTOCOL = "protocol"
    #: the client closed it itself: a send deadline passed with part of a frame written
    ABANDONED = "abandoned"
    #: between connections: the client is reconnecting
    RECONNECTING = "reconnecting"
    #: no connection could be opened (``connect`` failed, or the path is unsafe)
    NOT_CONNECTED = "not_connected"
    #: ``connect()`` was never called (asyncio client)
    NEVER_OPENED = "never_opened"

    def __init__(self, message: str = "connection closed", reason: Optional[SwitchboardError] = None, *,
                 cause: str = "by_broker"):
        super().__init__(message)
        self.reason = reason
        self.cause = cause


class UnsafeSocketPath(ConnectionClosed):
    """The client refused to connect: the socket's directory could let another user impersonate the
    broker (the default directory not owned by this user or root, writable by group or others, or a
    symbolic link; any socket path that is a symbolic link). The message names the path, what was
    found and what to do. A subclass of :class:`ConnectionClosed`: the connection was never opened."""

    def __init__(self, message: str = "unsafe socket path", reason: Optional[SwitchboardError] = None, *,
                 cause: str = "not_connected"):
        super().__init__(message, reason, cause=cause)


class Cancelled(SwitchboardError):
    default_code = "CANCELLED"


class RateLimited(SwitchboardError):
    default_code = "RATE_LIMITED"


class PayloadTooLarge(SwitchboardError):
    default_code = "PAYLOAD_TOO_LARGE"


class ProtocolError(SwitchboardError):
    default_code = "PROTOCOL_ERROR"


class UnsupportedProtocolVersion(SwitchboardError):
    default_code = "UNSUPPORTED_PROTOCOL_VERSION"


class NameInUse(SwitchboardError):
    default_code = "NAME_IN_USE"


class Forbidden(SwitchboardError):
    default_code = "FORBIDDEN"


class ShuttingDown(SwitchboardError):
    default_code = "SHUTTING_DOWN"


class ConnectionLimitReached(SwitchboardError):
    default_code = "CONNECTION_LIMIT_REACHED"


class InternalError(SwitchboardError):
    default_code = "INTERNAL_ERROR"


_CLASSES: Tuple[Type[SwitchboardError], ...] = (
    ActorNotFound,
    UnknownMessageType,
    SerializationError,
    InvalidRequest,
    TargetBusy,
    RequestTimeout,
    ServiceUnavailable,
    Cancelled,
    RateLimited,
    PayloadTooLarge,
    ProtocolError,
    UnsupportedProtocolVersion,
    NameInUse,
    Forbidden,
    ShuttingDown,
    ConnectionLimitReached,
    InternalError,
)
_BY_CODE: Dict[str, Type[SwitchboardError]] = {str(cls.default_code): cls for cls in _CLASSES}


def error_from_code(code: Optional[str], message: Optional[str] = None) -> SwitchboardError:
    """Build the exception for a protocol (or service-defined) error code."""
    message = message or ""
    if not code:
        return ServiceError("UNKNOWN", message)
    cls = _BY_CODE.get(code)
    if cls is None:
        return ServiceError(code, message)
    return cls(message, code)
