"""asyncio client against the real broker (started by _broker.Broker)."""

from __future__ import annotations

import asyncio
import unittest
import uuid

from _broker import Broker

import switchboard
from switchboard.aio import AsyncClient, AsyncRequest

broker = Broker()


def setUpModule() -> None:
    broker.start()


def tearDownModule() -> None:
    broker.stop()


class AsyncTestCase(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self) -> None:
        self.c = await AsyncClient(broker.socket_path).connect()
        self.u = uuid.uuid4().hex[:10]

    async def asyncTearDown(self) -> None:
        await self.c.close()

    async def client(self, **kw) -> AsyncClient:
        c = await AsyncClient(broker.socket_path, **kw).connect()
        self.addAsyncCleanup(c.close)
        return c


class AsyncRequestTest(AsyncTestCase):
    async def test_request(self) -> None:
        self.assertEqual(await self.c.request("calculator", "Add", {"a": 2, "b": 3}), {"value": 5})
        self.assertEqual(await self.c.request("calculator", "Multiply", {"a": 7, "b": 6}), {"value": 42})

    async def test_msgpack(self) -> None:
        c = await self.client(format="msgpack")
        self.assertEqual(await c.request("calculator", "Add", {"a": 1, "b": 2}), {"value": 3})

    async def test_errors(self) -> None:
        with self.assertRaises(switchboard.ActorNotFound):
            await self.c.request(f"nobody-{self.u}", "Add", {"a": 1, "b": 1})
        with self.assertRaises(switchboard.UnknownMessageType):
            await self.c.request("calculator", f"Divide{self.u}", {"a": 1, "b": 1})

    async def test_pipelined_gather(self) -> None:
        results = await asyncio.gather(*(self.c.request("calculator", "Add", {"a": i, "b": 1}) for i in range(1000)))
        self.assertEqual(list(results), [{"value": i + 1} for i in range(1000)])

    async def test_send_and_kv(self) -> None:
        key = f"ak-{self.u}"
        await self.c.send("kv_store", "Set", {"key": key, "value": "v"})
        deadline = asyncio.get_running_loop().time() + 10
        while (await self.c.request("kv_store", "Get", {"key": key})) != {"found": True, "value": "v"}:
            self.assertLess(asyncio.get_running_loop().time(), deadline, "fire-and-forget Set never applied")
            await asyncio.sleep(0.05)

    async def test_stream(self) -> None:
        st = await self.c.stream("countdown", "Countdown", {"from": 4, "interval_ms": 5})
        self.assertEqual([f async for f in st], [{"remaining": n} for n in (3, 2, 1, 0)])

    async def test_stream_cancel(self) -> None:
        st = await self.c.stream("countdown", "Countdown", {"from": 100000, "interval_ms": 20})
        got = []
        async for f in st:
            got.append(f["remaining"])
            if len(got) == 2:
                st.cancel()
        self.assertEqual(got, [99999, 99998])
        self.assertTrue(await st.wait_closed(10))
        self.assertEqual(st.final_code, "CANCELLED")

    async def test_discover_stats_heartbeat(self) -> None:
        info = await self.c.discover()
        self.assertIn("calculator", {a["name"] for a in info["actors"]})
        self.assertIsInstance(await self.c.stats(), dict)
        self.assertGreaterEqual(await self.c.heartbeat(timeout=10), 0)


class AsyncPubSubTest(AsyncTestCase):
    async def test_subscribe_publish(self) -> None:
        other = await self.client()
        base = f"atest.{self.u}"
        sub = await self.c.subscribe(f"{base}.*")
        await self.c.publish(f"{base}.a", {"n": 1})
        await other.publish(f"{base}.b.c", {"n": "deep"})
        await other.publish(f"{base}.b", {"n": 2})
        n1 = await sub.get(timeout=10)
        n2 = await sub.get(timeout=10)
        self.assertEqual([(n1.subject, n1.payload), (n2.subject, n2.payload)],
                         [(f"{base}.a", {"n": 1}), (f"{base}.b", {"n": 2})])
        await sub.unsubscribe()
        self.assertEqual([n async for n in sub], [])

    async def test_price_feed(self) -> None:
        async with await self.c.subscribe("prices.>") as sub:
            async for note in sub:
                self.assertTrue(note.subject.startswith("prices."))
                break

    async def test_async_callback(self) -> None:
        got: asyncio.Queue = asyncio.Queue()

        async def on_note(note: switchboard.Notification) -> None:
            await got.put(note.payload)

        await self.c.subscribe(f"cb.{self.u}", callback=on_note)
        await (await self.client()).publish(f"cb.{self.u}", "hello")
        self.assertEqual(await asyncio.wait_for(got.get(), 10), "hello")


class AsyncServeTest(AsyncTestCase):
    async def test_serve_and_call(self) -> None:
        server = await self.client()
        name = f"py-async-{self.u}"
        cancelled = asyncio.Event()

        async def handler(req: AsyncRequest):
            if req.message_type == "Echo":
                return {"echo": req.payload}
            if req.message_type == "Fail":
                raise switchboard.ServiceError("ASYNC_FAIL", "no")
            if req.message_type == "Count":
                return counter(req)
            raise switchboard.ServiceError("UNEXPECTED", req.message_type)

        async def counter(req: AsyncRequest):
            # CANCEL either wakes wait_cancelled or, if it arrives while the generator is suspended
            # at `yield`, the client closes the generator (GeneratorExit): `finally` covers both.
            try:
                i = 0
                while i < req.payload["n"]:
                    yield {"i": i}
                    i += 1
                    if await req.wait_cancelled(0.01):
                        return
            finally:
                if req.cancelled:
                    cancelled.set()

        await server.serve(name, handler, ["Echo", "Fail", "Count"])
        self.assertEqual(await self.c.request(name, "Echo", {"x": [1, None]}), {"echo": {"x": [1, None]}})
        with self.assertRaises(switchboard.ServiceError) as cm:
            await self.c.request(name, "Fail", {})
        self.assertEqual(cm.exception.code, "ASYNC_FAIL")
        st = await self.c.stream(name, "Count", {"n": 3})
        self.assertEqual([f async for f in st], [{"i": 0}, {"i": 1}, {"i": 2}])
        st = await self.c.stream(name, "Count", {"n": 100000})
        async for f in st:
            if f["i"] == 2:
                st.cancel()
        await asyncio.wait_for(cancelled.wait(), 10)
        self.assertTrue(await st.wait_closed(10))
        self.assertEqual(st.final_code, "CANCELLED")
        results = await asyncio.gather(*(self.c.request(name, "Echo", i) for i in range(200)))
        self.assertEqual([r["echo"] for r in results], list(range(200)))

    async def test_broker_timeout_and_serve_forever(self) -> None:
        server = await self.client()
        name = f"py-async-slow-{self.u}"

        async def handler(req: AsyncRequest):
            await req.wait_cancelled(5)
            return None

        await server.serve(name, handler)
        forever = asyncio.ensure_future(server.serve_forever())
        with self.assertRaises(switchboard.RequestTimeout) as cm:
            await self.c.request(name, "Anything", {}, timeout=0.3)  # the broker's TIMEOUT, 2 s before the client's
        self.assertFalse(cm.exception.client_side, cm.exception)
        self.assertNotIn("client-side", cm.exception.message)
        self.assertFalse(forever.done())
        await server.close()
        await asyncio.wait_for(forever, 10)
        info = await self.c.discover(describe="calculator")
        calc = [s for s in info["services"] if s["name"] == "calculator"][0]
        self.assertIn("Add", {t["name"] for t in calc["schema"]})

    async def test_pending_fail_on_close(self) -> None:
        server = await self.client()
        name = f"py-async-hang-{self.u}"
        entered = asyncio.Event()
        release = asyncio.Event()
        self.addCleanup(release.set)

        async def handler(req: AsyncRequest):
            entered.set()
            await release.wait()
            return None

        await server.serve(name, handler)
        caller = await AsyncClient(broker.socket_path).connect()
        task = asyncio.ensure_future(caller.request(name, "Anything", {}, timeout=30))
        await asyncio.wait_for(entered.wait(), 10)
        await caller.close()
        with self.assertRaises(switchboard.ConnectionClosed):
            await asyncio.wait_for(task, 10)


if __name__ == "__main__":
    unittest.main()
