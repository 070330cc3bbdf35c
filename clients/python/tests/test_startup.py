"""Start-up and refusal against a real broker of their own: a client started before the broker
waits for it (``wait_for_broker``), and a client the broker refuses reports the broker's
FORBIDDEN, not the broken pipe or reset its first write may meet.

The refusal needs another user: the broker runs with ``--allow-user daemon`` (so its socket is
reachable by others) and a client runs as ``nobody`` through ``setpriv``, which needs root. Without
root these tests FAIL, unless switched off with SWITCHBOARD_TEST_PRIVILEGED=0 (as for scripts/abuse).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import unittest
from pathlib import Path
from typing import Any, List

from _broker import PACKAGE_ROOT, Broker

import switchboard
from switchboard.aio import AsyncClient

broker = Broker("--allow-user", "daemon")
early: List[Any] = []  # what the clients started before the broker got: a result or an exception
_threads: List[threading.Thread] = []


def _sync_early(path: str) -> None:
    try:
        with switchboard.Client(path, wait_for_broker=180, reconnect=False) as c:
            deadline = time.monotonic() + 60
            while True:  # the broker accepts connections before its demo services are registered
                try:
                    early.append(("sync", c.request("calculator", "Add", {"a": 1, "b": 2})))
                    return
                except switchboard.ActorNotFound:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
    except Exception as exc:  # reported by the test
        early.append(("sync", exc))


def _async_early(path: str) -> None:
    async def run() -> Any:
        async with AsyncClient(path, wait_for_broker=180, reconnect=False) as c:
            deadline = time.monotonic() + 60
            while True:
                try:
                    return await c.request("calculator", "Add", {"a": 3, "b": 4})
                except switchboard.ActorNotFound:
                    if time.monotonic() > deadline:
                        raise
                    await asyncio.sleep(0.1)
    try:
        early.append(("async", asyncio.run(run())))
    except Exception as exc:
        early.append(("async", exc))


def setUpModule() -> None:
    path = broker.prepare()
    for target in (_sync_early, _async_early):
        t = threading.Thread(target=target, args=(path,), daemon=True)
        t.start()
        _threads.append(t)
    broker.start()


def tearDownModule() -> None:
    for t in _threads:
        t.join(30)
    broker.stop()


class WaitForBrokerTest(unittest.TestCase):
    def test_clients_started_before_the_broker_are_served(self) -> None:
        for t in _threads:
            t.join(60)
        self.assertEqual(sorted(early, key=lambda e: e[0]), [("async", {"value": 7}), ("sync", {"value": 3})])

    def test_the_wait_is_bounded(self) -> None:
        missing = os.path.join(os.path.dirname(broker.socket_path), "nobody-listens.sock")
        with self.assertRaises(switchboard.ConnectionClosed) as cm:
            switchboard.Client(missing, wait_for_broker=0.3)
        self.assertEqual(cm.exception.cause, switchboard.ConnectionClosed.NOT_CONNECTED)
        self.assertIn("waited 0.3 s for the broker", cm.exception.message)

    def test_no_wait_by_default(self) -> None:
        missing = os.path.join(os.path.dirname(broker.socket_path), "nobody-listens.sock")
        with self.assertRaises(switchboard.ConnectionClosed) as cm:
            asyncio.run(AsyncClient(missing).connect())
        self.assertNotIn("waited", cm.exception.message)


_REFUSED = r"""
import json, sys
import switchboard
out = []
for i in range(int(sys.argv[2])):
    try:
        with switchboard.Client(sys.argv[1], reconnect=False) as c:
            c.request("calculator", "Add", {"a": 1, "b": 1}, timeout=10)
        out.append("answered")
    except switchboard.ConnectionClosed as e:
        out.append([type(e.reason).__name__, e.reason.code if e.reason else None, getattr(e, "cause", None), e.message])
print(json.dumps(out))
"""


class RefusalTest(unittest.TestCase):
    def test_a_refused_client_reports_forbidden(self) -> None:
        if os.environ.get("SWITCHBOARD_TEST_PRIVILEGED") == "0":
            self.skipTest("switched off by SWITCHBOARD_TEST_PRIVILEGED=0")
        if os.geteuid() != 0 or shutil.which("setpriv") is None:
            self.fail("needs root and setpriv to run a client as another user "
                      "(SWITCHBOARD_TEST_PRIVILEGED=0 switches this test off)")
        # nobody may not be able to run this interpreter (under /root); the system one serves
        python = sys.executable if os.access(sys.executable, os.X_OK) and not sys.executable.startswith("/root") \
            else "/usr/bin/python3"
        rounds = 20  # each round connects and writes at once: before or after the broker's close
        proc = subprocess.run(
            ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", python, "-c", _REFUSED,
             broker.socket_path, str(rounds)],
            env={"PYTHONPATH": str(PACKAGE_ROOT), "PATH": os.environ.get("PATH", "")},
            capture_output=True, text=True, timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        results = json.loads(proc.stdout)
        self.assertEqual(len(results), rounds)
        for r in results:
            self.assertEqual(r[:3], ["Forbidden", "FORBIDDEN", switchboard.ConnectionClosed.BY_BROKER], r)


if __name__ == "__main__":
    unittest.main()
