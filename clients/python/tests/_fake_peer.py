"""A fake broker on a Unix socket: the test holds the server side of the client's connection and
reads and writes frames itself.

For client behaviour the real broker cannot be made to show on demand: a peer that never answers
(the client-side deadline), answers in reverse order, delivers its bytes a few at a time, sends a
frame larger than the client's receive buffer, or breaks the framing.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import time
from typing import Any, List, Optional, Tuple

from _broker import PACKAGE_ROOT  # noqa: F401  (puts the package on sys.path)

from switchboard import protocol as P


class FakePeer:
    """Listens on ``path``; ``accept()`` returns the server side of one client connection."""

    def __init__(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="sbpy-peer-")
        self.path = os.path.join(self.dir, "peer.sock")
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(self.path)
        self.listener.listen(8)
        self.conns: List["PeerConnection"] = []

    def accept(self, timeout: float = 10.0) -> "PeerConnection":
        self.listener.settimeout(timeout)
        sock, _ = self.listener.accept()
        conn = PeerConnection(sock)
        self.conns.append(conn)
        return conn

    def close(self) -> None:
        for c in self.conns:
            c.close()
        self.listener.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class PeerConnection:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = b""

    def _frame(self) -> Optional[Tuple[int, Any]]:
        """One complete frame from the buffer, or None."""
        if len(self.buf) < 7:
            return None
        length, version, ftype, fmt = P.HEADER.unpack_from(self.buf, 0)
        if version != P.VERSION:
            raise AssertionError(f"expected protocol version 2, got {version}")
        if len(self.buf) < 7 + length:
            return None
        body = P.decode_body(self.buf[7:7 + length], fmt)
        self.buf = self.buf[7 + length:]
        return ftype, body

    def read_frames(self, n: int, timeout: float = 10.0) -> List[Tuple[int, Any]]:
        """Exactly ``n`` frames; fails if they do not arrive within ``timeout``."""
        frames: List[Tuple[int, Any]] = []
        deadline = time.monotonic() + timeout
        while len(frames) < n:
            f = self._frame()
            if f is not None:
                frames.append(f)
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out after {timeout} s with {len(frames)} of {n} frames")
            self.sock.settimeout(remaining)
            data = self.sock.recv(65536)
            if not data:
                raise AssertionError(f"connection closed after {len(frames)} of {n} frames")
            self.buf += data
        return frames

    def frames_now(self) -> List[Tuple[int, Any]]:
        """Every frame already received or waiting in the socket, without waiting for more."""
        self.sock.setblocking(False)
        try:
            while True:
                try:
                    data = self.sock.recv(65536)
                except BlockingIOError:
                    break
                if not data:
                    break
                self.buf += data
        finally:
            self.sock.setblocking(True)
        frames = []
        while True:
            f = self._frame()
            if f is None:
                return frames
            frames.append(f)

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


def response(correlation_id: str, payload: Any) -> bytes:
    return P.encode_frame(P.RESPONSE, {"correlation_id": correlation_id, "success": True, "payload": payload},
                          P.FORMAT_JSON, P.ABSOLUTE_MAX_PAYLOAD)


def error(correlation_id: str, code: str, message: str) -> bytes:
    return P.encode_frame(P.ERROR, {"correlation_id": correlation_id, "success": False, "error": message,
                                    "error_code": code}, P.FORMAT_JSON)
