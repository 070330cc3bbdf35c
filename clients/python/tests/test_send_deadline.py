"""A call's timeout covers sending: against the real broker stopped with SIGSTOP (it accepts nothing,
reads nothing), a call whose frame does not fit in the socket buffer fails with RequestTimeout by
its deadline instead of blocking until the broker runs again; after SIGCONT the client serves calls
again (the sync client closed the connection it left mid-frame and reconnected).

This module has its own broker (it stops it), started by _broker.Broker. It cannot run against an
external broker (SWITCHBOARD_TEST_SOCKET) and says so by failing, not by skipping.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
import unittest

from _broker import Broker, wait_until

from switchboard import Client, ConnectionClosed, RequestTimeout
from switchboard.aio import AsyncClient

broker = Broker()

TIMEOUT = 1.0  # the call's timeout
MARGIN = 0.5  # the client's deadline margin
SLACK = 1.5  # scheduling slack on a loaded 2-core machine; the bug blocked until SIGCONT
BIG = "x" * (1024 * 1024 - 1024)  # one frame larger than any socket buffer: the send cannot finish


def setUpModule() -> None:
    if os.environ.get("SWITCHBOARD_TEST_SOCKET"):
        raise AssertionError("test_send_deadline needs a broker of its own to stop: unset SWITCHBOARD_TEST_SOCKET")
    broker.start()


def tearDownModule() -> None:
    broker.stop()


def _all_stopped(pid: int) -> bool:
    states = []
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/stat") as f:
                states.append(f.read().rsplit(")", 1)[1].split()[0])
        except FileNotFoundError:  # a thread that ended meanwhile
            continue
    return bool(states) and all(s in ("T", "t") for s in states)


class _Stopped:
    """SIGSTOP the broker's process group for the body of a with-statement; SIGCONT always after, and
    also after WATCHDOG seconds at the latest, so that a client that blocks until the broker runs
    again (the bug) makes the test fail on its time assertions instead of hanging it."""

    WATCHDOG = 8.0  # under the media driver's 10 s client timeout: a longer pause is another test's subject

    def __enter__(self) -> "_Stopped":
        assert broker.proc is not None
        self._pgid = broker.proc.pid
        os.killpg(self._pgid, signal.SIGSTOP)
        # the signal is sent at once, but on a loaded machine the JVM's threads take up to some hundred ms to
        # stop: until they all have, the broker still reads (and the client's send may finish)
        wait_until(lambda: _all_stopped(self._pgid), 10, "every thread of the broker to be stopped", interval=0.005)
        self._timer = threading.Timer(self.WATCHDOG, self._resume)
        self._timer.daemon = True
        self._timer.start()
        return self

    def _resume(self) -> None:
        os.killpg(self._pgid, signal.SIGCONT)

    def __exit__(self, *exc_info) -> None:
        self._timer.cancel()
        self._resume()


class SyncSendDeadlineTest(unittest.TestCase):
    def test_timeout_covers_the_send_to_a_stopped_broker(self) -> None:
        c = Client(broker.socket_path, deadline_margin=MARGIN, reconnect_max_delay=0.5)
        self.addCleanup(c.close)
        self.assertEqual(c.request("calculator", "Add", {"a": 1, "b": 2}, timeout=30), {"value": 3})
        with _Stopped():
            start = time.monotonic()
            with self.assertRaises(RequestTimeout) as caught:
                c.request("kv_store", "Set", {"key": "big", "value": BIG}, timeout=TIMEOUT)
            elapsed = time.monotonic() - start
            self.assertIn("not sent by the deadline", str(caught.exception))
            self.assertLess(elapsed, TIMEOUT + MARGIN + SLACK, f"the call blocked {elapsed:.1f} s")
            self.assertGreaterEqual(elapsed, TIMEOUT + MARGIN - 0.1, "the deadline was not waited for")
            # part of the frame was written: that connection is closed, not reused mid-frame
            wait_until(lambda: not c.connected or c.reconnects > 0 or c._core.connection_number > 1, 10,
                       "the connection left mid-frame to be closed")
            # a small call meanwhile also ends by its deadline (sent into a fresh connection's buffer, never answered)
            start = time.monotonic()
            with self.assertRaises(Exception) as small:
                c.request("calculator", "Add", {"a": 1, "b": 2}, timeout=TIMEOUT)
            self.assertIsInstance(small.exception, (RequestTimeout, ConnectionError))
            self.assertLess(time.monotonic() - start, TIMEOUT + MARGIN + SLACK)

        def served() -> bool:
            try:
                return c.request("calculator", "Add", {"a": 2, "b": 2}, timeout=5) == {"value": 4}
            except Exception:
                return False

        wait_until(served, 60, "the client to be served again after SIGCONT", interval=0.2)
        self.assertGreater(c._core.connection_number, 1, "the connection left mid-frame was replaced")

    def test_request_many_and_stream_obey_the_deadline_too(self) -> None:
        c = Client(broker.socket_path, deadline_margin=MARGIN, reconnect_max_delay=0.5)
        self.addCleanup(c.close)
        self.assertEqual(c.request("calculator", "Add", {"a": 1, "b": 2}, timeout=30), {"value": 3})
        with _Stopped():
            start = time.monotonic()
            results = c.request_many("kv_store", "Set", [{"key": f"k{i}", "value": BIG[:300_000]} for i in range(4)],
                                     timeout=TIMEOUT, return_exceptions=True)
            self.assertLess(time.monotonic() - start, 2 * (TIMEOUT + MARGIN) + SLACK)
            self.assertTrue(all(isinstance(r, Exception) for r in results), results)
            # each call ends by the deadline: as RequestTimeout, or, when the batch was left half-written and the
            # reader closed the connection first (it races the batch under load), as ConnectionClosed saying so
            self.assertTrue(all(isinstance(r, RequestTimeout) or
                                (isinstance(r, ConnectionClosed) and "not sent by the deadline" in str(r))
                                for r in results), results)

        def served() -> bool:
            try:
                return c.request("calculator", "Add", {"a": 2, "b": 2}, timeout=5) == {"value": 4}
            except Exception:
                return False

        wait_until(served, 60, "the client to be served again after SIGCONT", interval=0.2)


class AsyncSendDeadlineTest(unittest.TestCase):
    def test_timeout_covers_the_send_to_a_stopped_broker(self) -> None:
        async def run() -> None:
            c = await AsyncClient(broker.socket_path, deadline_margin=MARGIN).connect()
            try:
                self.assertEqual(await c.request("calculator", "Add", {"a": 1, "b": 2}, timeout=30), {"value": 3})
                with _Stopped():
                    loop = asyncio.get_running_loop()
                    start = loop.time()
                    with self.assertRaises(RequestTimeout) as caught:
                        await c.request("kv_store", "Set", {"key": "big", "value": BIG}, timeout=TIMEOUT)
                    elapsed = loop.time() - start
                    self.assertIn("not sent by the deadline", str(caught.exception))
                    self.assertLess(elapsed, TIMEOUT + MARGIN + SLACK, f"the call blocked {elapsed:.1f} s")
                    # the next call does not pile its frame behind the stuck one: it waits for room by its deadline
                    start = loop.time()
                    with self.assertRaises(RequestTimeout) as second:
                        await c.request("kv_store", "Set", {"key": "big2", "value": BIG}, timeout=TIMEOUT)
                    self.assertIn("not sent by the deadline", str(second.exception))
                    self.assertLess(loop.time() - start, TIMEOUT + MARGIN + SLACK)
                    buffered = c._writer.transport.get_write_buffer_size()
                    self.assertLess(buffered, 2 * len(BIG), f"{buffered} bytes piled up in the send buffer")

                deadline = loop.time() + 60
                while True:
                    try:
                        if await c.request("calculator", "Add", {"a": 2, "b": 2}, timeout=5) == {"value": 4}:
                            break
                    except Exception:
                        pass
                    self.assertLess(loop.time(), deadline, "not served again after SIGCONT")
                    await asyncio.sleep(0.2)
            finally:
                await c.close()

        asyncio.run(run())


if __name__ == "__main__":
    unittest.main()
