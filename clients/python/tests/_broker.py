"""Starts the real Switchboard broker for the tests.

``scripts/switchboard broker --demo --socket <temp path>`` is run from the
repository root (found relative to this file) in its own process group, the
tests wait (polling with a deadline) until the socket accepts connections and
the demo services are listed by DISCOVER, and the broker is stopped with
SIGTERM at the end.

The gateway binds ``broker.sock`` in the DIRECTORY of ``--socket`` (the file name given is
ignored; see BrokerMain/Broker.Context.gatewaySocket), so the tests pass
``<temp dir>/broker.sock`` and connect to exactly that path. Each broker gets
its own media driver directory (``--aeron-dir``, under /dev/shm when it
exists), removed afterwards, so two suites or a developer's own broker never
share a driver.

SWITCHBOARD_TEST_LAUNCHER names another launcher to run instead of
scripts/switchboard (same arguments: ``broker --demo --socket ... --aeron-dir ...``).

Set SWITCHBOARD_TEST_SOCKET to run the tests against a broker that is already
running instead; SWITCHBOARD_TEST_STARTUP_TIMEOUT (seconds, default 120) bounds
the start-up wait.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path
from typing import Callable, Optional

HERE = Path(__file__).resolve().parent
PACKAGE_ROOT = HERE.parent  # clients/python
REPO_ROOT = HERE.parents[2]
if str(PACKAGE_ROOT) not in sys.path:
    sys.path.insert(0, str(PACKAGE_ROOT))

import switchboard  # noqa: E402

DEMO_SERVICES = ("calculator", "countdown", "kv_store")


def wait_until(condition: Callable[[], bool], timeout: float, what: str, interval: float = 0.05) -> None:
    """Poll ``condition`` until it is true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


class Broker:
    def __init__(self, *extra_args: str) -> None:
        self.extra_args = extra_args  # more `switchboard broker` options, e.g. ("--allow-user", "daemon")
        self.proc: Optional[subprocess.Popen] = None
        self.tmpdir: Optional[tempfile.TemporaryDirectory] = None
        self.log_path: Optional[str] = None
        self.aeron_root: Optional[str] = None
        self.socket_path = ""

    def start(self) -> None:
        external = os.environ.get("SWITCHBOARD_TEST_SOCKET")
        startup = float(os.environ.get("SWITCHBOARD_TEST_STARTUP_TIMEOUT", "120"))
        if external:
            self.socket_path = external
        else:
            launcher = Path(os.environ.get("SWITCHBOARD_TEST_LAUNCHER") or REPO_ROOT / "scripts" / "switchboard")
            if not launcher.exists():
                raise RuntimeError(f"broker launcher {launcher} not found: these tests need the real broker (set SWITCHBOARD_TEST_LAUNCHER)")
            self.prepare()
            aeron_dir = os.path.join(self.aeron_root, "aeron")
            with open(self.log_path, "ab") as log:
                self.proc = subprocess.Popen(
                    [str(launcher), "broker", "--demo", "--socket", self.socket_path, "--aeron-dir", aeron_dir,
                     *self.extra_args],
                    cwd=str(REPO_ROOT), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                    start_new_session=True)
        try:
            wait_until(self._accepts, startup, f"the broker socket {self.socket_path}")
            wait_until(self._demo_ready, 60, "the demo services to be registered", interval=0.2)
        except BaseException:
            self.stop()
            raise

    def prepare(self) -> str:
        """Choose the socket path (and driver directory) without starting: a test may start clients
        that wait for the broker first. A restart after kill() reuses them."""
        if self.tmpdir is None:
            self.tmpdir = tempfile.TemporaryDirectory(prefix="sbpy-")
            self.socket_path = os.path.join(self.tmpdir.name, "broker.sock")
            self.log_path = os.path.join(self.tmpdir.name, "broker.log")
            shm = "/dev/shm" if os.path.isdir("/dev/shm") else None
            self.aeron_root = tempfile.mkdtemp(prefix="sb-pytest-", dir=shm)
        return self.socket_path

    def kill(self) -> None:
        """SIGKILL the broker (its whole process group) and wait for it; the socket file and the
        media driver directory stay behind, stale, for a restart with ``start()``."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=30)

    def _check_alive(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            raise AssertionError(f"broker exited with status {self.proc.returncode} before accepting:\n{self.log_tail()}")

    def _accepts(self) -> bool:
        self._check_alive()
        if not os.path.exists(self.socket_path):
            return False
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.settimeout(1.0)
            s.connect(self.socket_path)
            return True
        except OSError:
            return False
        finally:
            s.close()

    def _demo_ready(self) -> bool:
        self._check_alive()
        try:
            with switchboard.Client(self.socket_path, reconnect=False) as c:
                info = c.discover(timeout=5)
        except switchboard.SwitchboardError:
            return False
        names = {a.get("name") for a in info.get("actors", [])}
        names |= {s.get("name") for s in info.get("services", [])}
        return all(n in names for n in DEMO_SERVICES)

    def log_tail(self, n: int = 4000) -> str:
        if not self.log_path or not os.path.exists(self.log_path):
            return ""
        with open(self.log_path, "rb") as f:
            return f.read()[-n:].decode("utf-8", "replace")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(timeout=10)
        if self.tmpdir is not None:
            self.tmpdir.cleanup()
            self.tmpdir = None
        aeron_root, self.aeron_root = self.aeron_root, None
        if aeron_root is not None:
            shutil.rmtree(aeron_root, ignore_errors=True)
