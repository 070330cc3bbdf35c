"""The clients refuse a socket path through which another user could impersonate the broker.

No broker is needed: an impostor is played by a listening socket in a directory handed to another
user (uid 65534, "nobody"; the tests run as root or as a user who cannot chown, in which case the
ownership cases fail loudly rather than pass vacuously)."""

from __future__ import annotations

import asyncio
import os
import socket
import tempfile
import unittest
from unittest import mock

from _broker import PACKAGE_ROOT  # noqa: F401  (puts the package on sys.path)

from switchboard import Client, ConnectionClosed, UnsafeSocketPath
from switchboard import protocol as P
from switchboard.aio import AsyncClient

OTHER_UID = 65534


class SocketPathCheckTest(unittest.TestCase):
    def setUp(self) -> None:
        self.tmp = tempfile.TemporaryDirectory(prefix="sbpath-")
        self.addCleanup(self.tmp.cleanup)
        self.xdg = os.path.join(self.tmp.name, "xdg")
        os.mkdir(self.xdg, 0o700)
        self.dir = os.path.join(self.xdg, "switchboard")  # the default directory under $XDG_RUNTIME_DIR
        self.path = os.path.join(self.dir, "broker.sock")
        env = {k: v for k, v in os.environ.items() if k != "SWITCHBOARD_SOCKET"}
        env["XDG_RUNTIME_DIR"] = self.xdg
        patcher = mock.patch.dict(os.environ, env, clear=True)
        patcher.start()
        self.addCleanup(patcher.stop)

    def impostor(self) -> socket.socket:
        """A listening socket at the default path: what another user's fake broker would be."""
        os.makedirs(self.dir, 0o700, exist_ok=True)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(self.path)
        s.listen(8)
        s.setblocking(False)
        self.addCleanup(s.close)
        return s

    def assert_never_connected(self, listener: socket.socket) -> None:
        with self.assertRaises(BlockingIOError, msg="the client connected to the impostor"):
            listener.accept()

    def test_default_path_resolves_under_the_test_directory(self) -> None:
        self.assertEqual(P.resolve_socket_path(), self.path)
        self.assertTrue(P.is_default_socket_path(None))
        self.assertFalse(P.is_default_socket_path(self.path))

    def test_refuses_a_default_directory_owned_by_another_user(self) -> None:
        listener = self.impostor()
        os.chown(self.dir, OTHER_UID, OTHER_UID)
        with self.assertRaises(UnsafeSocketPath) as caught:
            Client(reconnect=False)
        message = str(caught.exception)
        self.assertIn(self.dir, message)
        self.assertIn(f"owned by uid {OTHER_UID}", message)
        self.assertIn("SWITCHBOARD_SOCKET", message)
        self.assertIsInstance(caught.exception, ConnectionClosed)
        with self.assertRaises(UnsafeSocketPath):
            asyncio.run(AsyncClient(reconnect=False).connect())
        self.assert_never_connected(listener)

    def test_refuses_a_default_directory_writable_by_others(self) -> None:
        listener = self.impostor()
        os.chmod(self.dir, 0o777)
        with self.assertRaises(UnsafeSocketPath) as caught:
            Client(reconnect=False)
        self.assertIn("mode 0777", str(caught.exception))
        self.assertIn(f"chmod 700 {self.dir}", str(caught.exception))
        self.assert_never_connected(listener)

    def test_refuses_a_symlinked_directory_default_or_explicit(self) -> None:
        real = os.path.join(self.tmp.name, "elsewhere")
        os.mkdir(real, 0o700)
        os.symlink(real, self.dir)
        listener = self.impostor()  # binds through the link, in the real directory
        for kwargs in ({}, {"socket_path": self.path}):
            with self.assertRaises(UnsafeSocketPath) as caught:
                Client(reconnect=False, **kwargs)
            self.assertIn("symbolic link", str(caught.exception))
            self.assertIn(real, str(caught.exception))
        self.assert_never_connected(listener)

    def test_refuses_a_symlinked_socket(self) -> None:
        os.makedirs(self.dir, 0o700)
        real = os.path.join(self.tmp.name, "real.sock")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(real)
        s.listen(1)
        s.setblocking(False)
        self.addCleanup(s.close)
        os.symlink(real, self.path)
        with self.assertRaises(UnsafeSocketPath) as caught:
            Client(socket_path=self.path, reconnect=False)
        self.assertIn("the socket is a symbolic link", str(caught.exception))
        self.assert_never_connected(s)

    def test_explicit_path_skips_the_ownership_check(self) -> None:
        listener = self.impostor()
        os.chown(self.dir, OTHER_UID, OTHER_UID)
        P.check_socket_path(self.path, default=False)  # the user named it: trusted
        with self.assertRaises(UnsafeSocketPath):
            P.check_socket_path(self.path, default=True)
        listener.close()

    def test_accepts_the_users_own_default_directory_and_root_owned_ones(self) -> None:
        self.impostor()
        P.check_socket_path(self.path, default=True)
        os.chown(self.dir, 0, 0)
        P.check_socket_path(self.path, default=True)
        # a missing directory is left to connect() to report
        P.check_socket_path(os.path.join(self.tmp.name, "missing", "broker.sock"), default=True)


if __name__ == "__main__":
    unittest.main()
