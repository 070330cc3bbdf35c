"""Switchboard client: talks to the Switchboard broker over its Unix socket
(protocol version 2, JSON or MessagePack frames). Standard library only.

    from switchboard import Client
    with Client() as c:
        print(c.request("calculator", "Add", {"a": 2, "b": 3}))
"""

from .client import Client, Registration, Request, Stream, Subscription
from .errors import (
    ActorNotFound,
    Cancelled,
    ConnectionClosed,
    ConnectionLimitReached,
    Forbidden,
    InternalError,
    InvalidRequest,
    NameInUse,
    PayloadTooLarge,
    ProtocolError,
    RateLimited,
    RequestTimeout,
    SerializationError,
    ServiceError,
    ServiceUnavailable,
    ShuttingDown,
    SwitchboardError,
    TargetBusy,
    UnknownMessageType,
    UnsupportedProtocolVersion,
    UnsafeSocketPath,
    error_from_code,
)
from .protocol import Notification, resolve_socket_path

__version__ = "0.1.0"

__all__ = [
    "Client",
    "Registration",
    "Request",
    "Stream",
    "Subscription",
    "Notification",
    "resolve_socket_path",
    "SwitchboardError",
    "ServiceError",
    "ConnectionClosed",
    "UnsafeSocketPath",
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
