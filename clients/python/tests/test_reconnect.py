"""Reconnection against the real broker: SIGKILL it with a call in flight, start it again on the
same socket path and media driver directory, and check that the clients come back on their own.

This module has its own broker (it kills it), started by _broker.Broker. It cannot run against an
external broker (SWITCHBOARD_TEST_SOCKET): that one cannot be killed here, and it says so by failing,
not by skipping.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
import unittest
import uuid

from _broker import Broker, wait_until

import switchboard
from switchboard import Client
from switchboard.aio import AsyncClient, AsyncRequest

broker = Broker()


def setUpModule() -> None:
    if os.environ.get("SWITCHBOARD_TEST_SOCKET"):
        raise AssertionError("test_reconnect needs a broker of its own to kill and restart: unset SWITCHBOARD_TEST_SOCKET")
    broker.start()


def tearDownModule() -> None:
    broker.stop()


PROMPT = 5.0  # seconds: "promptly" for the in-flight failure
RESTART = 120.0  # seconds: a broker start (JVM, stale driver detection) plus the reconnect


class SyncReconnectTest(unittest.TestCase):
    def test_broker_killed_and_restarted(self) -> None:
        u = uuid.uuid4().hex[:10]
        name = f"py-rc-{u}"
        entered = threading.Event()
        disconnects: list = []
        reconnected = threading.Event()

        def handler(req: switchboard.Request):
            if req.message_type == "Hang":  # never answers: the call stays in flight
                entered.set()
                req.wait_cancelled(120)
                return None
            return {"echo": req.payload}

        server = Client(broker.socket_path, on_disconnect=disconnects.append,
                        on_reconnect=lambda c: reconnected.set())
        self.addCleanup(server.close)
        caller = Client(broker.socket_path)
        self.addCleanup(caller.close)
        server.serve(name, handler, ["Hang", "Echo"])
        sub = server.subscribe(f"rc.{u}.>")
        seen: list = []
        cb_sub = server.subscribe(f"rc.{u}.x", callback=lambda n: seen.append(n.payload))
        self.assertEqual(caller.request(name, "Echo", 1), {"echo": 1})

        fut = caller.request_future(name, "Hang", {}, timeout=60)
        stream = caller.stream("countdown", "Countdown", {"from": 1000, "interval_ms": 50})
        self.assertEqual(next(stream), {"remaining": 999})
        self.assertTrue(entered.wait(10))

        broker.kill()
        start = time.monotonic()
        with self.assertRaises(switchboard.ServiceUnavailable) as cm:
            fut.result(PROMPT)
        self.assertLess(time.monotonic() - start, PROMPT)
        self.assertIsInstance(cm.exception, switchboard.ConnectionClosed)
        self.assertEqual(cm.exception.code, "SERVICE_UNAVAILABLE")
        with self.assertRaises(switchboard.ServiceUnavailable):  # the stream gets it too
            for _ in range(100000):
                next(stream)
        with self.assertRaises(switchboard.ServiceUnavailable):  # and the subscription, once
            sub.get(timeout=PROMPT)
        wait_until(lambda: disconnects and not server.connected, PROMPT, "the server to notice the drop")
        self.assertEqual(disconnects[0].code, "SERVICE_UNAVAILABLE")
        # new calls while disconnected fail fast, nothing is queued
        start = time.monotonic()
        with self.assertRaises(switchboard.ServiceUnavailable):
            caller.request("calculator", "Add", {"a": 1, "b": 1}, timeout=30)
        self.assertLess(time.monotonic() - start, 1.0)

        broker.start()  # same socket path, same --aeron-dir: both are stale and replaced
        wait_until(reconnected.is_set, RESTART, "the serving client to reconnect and re-register")
        self.assertEqual(server.reconnects, 1)
        wait_until(lambda: caller.connected, RESTART, "the calling client to reconnect")
        # the served service is callable again, from a second (new) client and from the old caller
        with Client(broker.socket_path, reconnect=False) as fresh:
            self.assertEqual(fresh.request(name, "Echo", 2), {"echo": 2})
            fresh.publish(f"rc.{u}.x", "after")
        self.assertEqual(caller.request(name, "Echo", 3), {"echo": 3})
        note = sub.get(timeout=10)
        self.assertEqual((note.subject, note.payload), (f"rc.{u}.x", "after"))
        self.assertEqual(note.sequence, 1, "a new connection counts PUSH frames from 1")
        self.assertEqual(sub.interruptions, 1)
        wait_until(lambda: seen == ["after"], 10, "the callback subscription to resume")


class AsyncReconnectTest(unittest.IsolatedAsyncioTestCase):
    async def test_broker_killed_and_restarted(self) -> None:
        u = uuid.uuid4().hex[:10]
        name = f"py-arc-{u}"
        entered = asyncio.Event()
        disconnects: list = []
        reconnected = asyncio.Event()

        async def handler(req: AsyncRequest):
            if req.message_type == "Hang":
                entered.set()
                await req.wait_cancelled(120)
                return None
            return {"echo": req.payload}

        server = await AsyncClient(broker.socket_path, on_disconnect=disconnects.append,
                                   on_reconnect=lambda c: reconnected.set()).connect()
        self.addAsyncCleanup(server.close)
        caller = await AsyncClient(broker.socket_path).connect()
        self.addAsyncCleanup(caller.close)
        await server.serve(name, handler, ["Hang", "Echo"])
        sub = await server.subscribe(f"arc.{u}.>")
        self.assertEqual(await caller.request(name, "Echo", 1), {"echo": 1})

        task = asyncio.ensure_future(caller.request(name, "Hang", {}, timeout=60))
        await asyncio.wait_for(entered.wait(), 10)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, broker.kill)
        start = time.monotonic()
        with self.assertRaises(switchboard.ServiceUnavailable) as cm:
            await asyncio.wait_for(task, PROMPT)
        self.assertLess(time.monotonic() - start, PROMPT)
        self.assertIsInstance(cm.exception, switchboard.ConnectionClosed)
        with self.assertRaises(switchboard.ServiceUnavailable):
            await sub.get(timeout=PROMPT)
        with self.assertRaises(switchboard.ServiceUnavailable):
            await caller.request("calculator", "Add", {"a": 1, "b": 1})
        self.assertTrue(disconnects)

        await loop.run_in_executor(None, broker.start)
        await asyncio.wait_for(reconnected.wait(), RESTART)
        deadline = time.monotonic() + RESTART
        while not caller.connected:
            self.assertLess(time.monotonic(), deadline, "the calling client did not reconnect")
            await asyncio.sleep(0.05)
        fresh = await AsyncClient(broker.socket_path, reconnect=False).connect()
        try:
            self.assertEqual(await fresh.request(name, "Echo", 2), {"echo": 2})
            await fresh.publish(f"arc.{u}.y", "after")
        finally:
            await fresh.close()
        self.assertEqual(await caller.request(name, "Echo", 3), {"echo": 3})
        note = await sub.get(timeout=10)
        self.assertEqual((note.subject, note.payload, note.sequence), (f"arc.{u}.y", "after", 1))
        self.assertEqual(server.reconnects, 1)


if __name__ == "__main__":
    unittest.main()
