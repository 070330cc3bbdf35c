"""request_many() of Client and AsyncClient against the real broker (started by _broker.Broker).

The demo services answer most batches; a service served by the test itself gives per-request
errors, requests that hang (for timeouts and dropped connections) and an order of answers that
differs from the order of the batch.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
import unittest
import uuid

from _broker import Broker

import switchboard
from switchboard import Client
from switchboard.aio import AsyncClient, AsyncRequest

broker = Broker()


def setUpModule() -> None:
    broker.start()


def tearDownModule() -> None:
    broker.stop()


MARGIN = 2.0  # the clients' default deadline margin


class BatchTestCase(unittest.TestCase):
    """A caller ``c`` and a service ``name`` served by another client. Message type ``Op`` does
    what the payload's ``op`` says: ``echo``, ``fail`` (ServiceError with ``code``), ``hang``
    (until the test ends or releases it), ``wait`` (for ``signal`` to be set, then fail with
    ``code``) and ``signal`` (set it, then fail with ``code``)."""

    def setUp(self) -> None:
        self.u = uuid.uuid4().hex[:10]
        self.c = self.client()
        self.name = f"py-batch-{self.u}"
        self.release = threading.Event()
        self.addCleanup(self.release.set)
        self.signal = threading.Event()
        self.hanging = threading.Semaphore(0)
        self.answered: list = []  # payloads whose handler finished, in the order they finished
        self.server = self.client()

        def handler(req: switchboard.Request):
            p = req.payload
            try:
                op = p["op"]
                if op == "echo":
                    return {"echo": p.get("n")}
                if op == "hang":
                    self.hanging.release()
                    self.release.wait(60)
                    return {"late": p.get("n")}
                if op == "wait":
                    self.signal.wait(30)
                elif op == "signal":
                    self.signal.set()
                raise switchboard.ServiceError(p["code"], f"request {p.get('n')} failed on purpose")
            finally:
                self.answered.append(p)

        self.server.serve(self.name, handler, ["Op"], mode="exclusive")

    def client(self, **kw) -> Client:
        c = Client(broker.socket_path, **kw)
        self.addCleanup(c.close)
        return c

    def assert_usable(self, c: Client) -> None:
        self.assertEqual(c.request("calculator", "Add", {"a": 20, "b": 22}), {"value": 42})
        self.assertEqual(c.request_many("calculator", "Add", [{"a": 1, "b": 1}, {"a": 2, "b": 2}]),
                         [{"value": 2}, {"value": 4}])


class RequestManyTest(BatchTestCase):
    def test_results_come_in_payload_order(self) -> None:
        payloads = [{"a": i, "b": 1000} for i in range(1000)]
        self.assertEqual(self.c.request_many("calculator", "Add", payloads),
                         [{"value": i + 1000} for i in range(1000)])

    def test_results_keep_payload_order_when_answers_come_in_another(self) -> None:
        # request 0 waits until request 2 has answered, so the answers arrive 1, 2, 0 (or 2, 1, 0)
        payloads = [{"op": "wait", "code": "ZERO", "n": 0}, {"op": "echo", "n": 1},
                    {"op": "signal", "code": "TWO", "n": 2}]
        results = self.c.request_many(self.name, "Op", payloads, return_exceptions=True)
        self.assertEqual(self.answered[-1]["n"], 0, "request 0 was not the last to be answered")
        self.assertEqual([type(r) for r in results], [switchboard.ServiceError, dict, switchboard.ServiceError])
        self.assertEqual([results[0].code, results[1], results[2].code], ["ZERO", {"echo": 1}, "TWO"])

    def test_large_batch(self) -> None:
        n = 10_000  # ten times the default window: written in pieces as answers come back
        results = self.c.request_many("calculator", "Multiply", ({"a": i, "b": 3} for i in range(n)))
        self.assertEqual(len(results), n)
        self.assertEqual(results, [{"value": 3 * i} for i in range(n)])
        self.assert_usable(self.c)

    def test_window_of_one(self) -> None:
        self.assertEqual(self.c.request_many("calculator", "Add", [{"a": i, "b": i} for i in range(50)], window=1),
                         [{"value": 2 * i} for i in range(50)])
        with self.assertRaises(ValueError):
            self.c.request_many("calculator", "Add", [{"a": 1, "b": 1}], window=0)

    def test_empty_batch(self) -> None:
        self.assertEqual(self.c.request_many("calculator", "Add", []), [])
        self.assertEqual(self.c.request_many("calculator", "Add", iter(())), [])
        self.assert_usable(self.c)

    def test_msgpack(self) -> None:
        c = self.client(format="msgpack")
        self.assertEqual(c.request_many("calculator", "Add", [{"a": i, "b": -1} for i in range(300)]),
                         [{"value": i - 1} for i in range(300)])
        self.assertEqual(c.request_many(self.name, "Op", [{"op": "echo", "n": "é"}]), [{"echo": "é"}])

    def test_mixed_errors_with_return_exceptions(self) -> None:
        payloads = [{"op": "echo", "n": 0}, {"op": "fail", "code": "BAD_ONE", "n": 1}, {"op": "echo", "n": 2},
                    {"op": "fail", "code": "BAD_TWO", "n": 3}, {"op": "echo", "n": 4}]
        results = self.c.request_many(self.name, "Op", payloads, return_exceptions=True)
        self.assertEqual(results[0::2], [{"echo": 0}, {"echo": 2}, {"echo": 4}])
        self.assertIsInstance(results[1], switchboard.ServiceError)
        self.assertEqual((results[1].code, results[3].code), ("BAD_ONE", "BAD_TWO"))
        self.assertIn("request 3 failed", results[3].message)
        self.assert_usable(self.c)

    def test_first_error_in_payload_order_is_raised_after_all_completed(self) -> None:
        # request 1 fails only after request 3 has failed, so FIRST arrives after SECOND
        payloads = [{"op": "echo", "n": 0}, {"op": "wait", "code": "FIRST", "n": 1}, {"op": "echo", "n": 2},
                    {"op": "signal", "code": "SECOND", "n": 3}, {"op": "echo", "n": 4}]
        with self.assertRaises(switchboard.ServiceError) as cm:
            self.c.request_many(self.name, "Op", payloads)
        self.assertEqual(cm.exception.code, "FIRST")
        self.assertEqual(sorted(p["n"] for p in self.answered), [0, 1, 2, 3, 4])
        self.assert_usable(self.c)

    def test_broker_errors_per_batch(self) -> None:
        with self.assertRaises(switchboard.ActorNotFound):
            self.c.request_many(f"nobody-{self.u}", "Add", [{"a": 1, "b": 1}] * 3)
        results = self.c.request_many("calculator", f"Divide{self.u}", [{"a": 1, "b": 1}] * 3, return_exceptions=True)
        self.assertEqual([type(r) for r in results], [switchboard.UnknownMessageType] * 3)
        self.assert_usable(self.c)

    def test_service_error_from_the_demo_service(self) -> None:
        key = f"k-{self.u}"
        results = self.c.request_many("kv_store", "Set", [{"key": key, "value": "v"}, {"key": "", "value": "v"}],
                                      return_exceptions=True)
        self.assertEqual(results[0], {"stored": True})
        self.assertIsInstance(results[1], switchboard.ServiceError)
        self.assertEqual(results[1].code, "EMPTY_KEY")

    def test_unencodable_payload_raises_before_anything_is_sent(self) -> None:
        key = f"k-{self.u}"
        payloads = [{"key": key, "value": "v"}, {"key": key + "x", "value": object()}]
        with self.assertRaises(switchboard.SerializationError):
            self.c.request_many("kv_store", "Set", payloads)
        self.assertEqual(self.c.request("kv_store", "Get", {"key": key}).get("found"), False)

        results = self.c.request_many("kv_store", "Set", payloads, return_exceptions=True)
        self.assertEqual(results[0], {"stored": True})
        self.assertIsInstance(results[1], switchboard.SerializationError)
        self.assertEqual(self.c.request("kv_store", "Get", {"key": key}), {"found": True, "value": "v"})

    def test_payload_too_large(self) -> None:
        payloads = [{"op": "echo", "n": 1}, {"op": "echo", "n": "x" * (switchboard.protocol.DEFAULT_MAX_PAYLOAD + 1)}]
        with self.assertRaises(switchboard.PayloadTooLarge):
            self.c.request_many(self.name, "Op", payloads)
        results = self.c.request_many(self.name, "Op", payloads, return_exceptions=True)
        self.assertEqual(results[0], {"echo": 1})
        self.assertIsInstance(results[1], switchboard.PayloadTooLarge)

    def test_timeout(self) -> None:
        payloads = [{"op": "echo", "n": 0}, {"op": "hang", "n": 1}, {"op": "echo", "n": 2}, {"op": "hang", "n": 3}]
        start = time.monotonic()
        results = self.c.request_many(self.name, "Op", payloads, timeout=0.5, return_exceptions=True)
        elapsed = time.monotonic() - start
        self.assertEqual((results[0], results[2]), ({"echo": 0}, {"echo": 2}))
        self.assertIsInstance(results[1], switchboard.RequestTimeout)
        self.assertIsInstance(results[3], switchboard.RequestTimeout)
        self.assertGreaterEqual(elapsed, 0.5)
        self.assertLess(elapsed, 0.5 + MARGIN + 5)

        with self.assertRaises(switchboard.RequestTimeout):
            self.c.request_many(self.name, "Op", payloads, timeout=0.5)
        self.release.set()
        self.assert_usable(self.c)

    def test_closed_client(self) -> None:
        c = self.client()
        c.close()
        with self.assertRaises(switchboard.ConnectionClosed):
            c.request_many("calculator", "Add", [{"a": 1, "b": 1}])
        with self.assertRaises(switchboard.ConnectionClosed):
            c.request_many("calculator", "Add", [])

    def test_close_during_batch_fails_what_is_in_flight(self) -> None:
        for return_exceptions in (True, False):
            caller = Client(broker.socket_path)
            payloads = [{"op": "hang", "n": 0}, {"op": "hang", "n": 1}]
            with concurrent.futures.ThreadPoolExecutor(1) as ex:
                fut = ex.submit(caller.request_many, self.name, "Op", payloads, 30.0,
                                return_exceptions=return_exceptions)
                for _ in payloads:
                    self.assertTrue(self.hanging.acquire(timeout=10), "a hanging request never reached the service")
                start = time.monotonic()
                caller.close()
                if return_exceptions:
                    results = fut.result(10)
                    self.assertEqual([type(r) for r in results], [switchboard.ConnectionClosed] * 2)
                else:
                    with self.assertRaises(switchboard.ConnectionClosed):
                        fut.result(10)
                self.assertLess(time.monotonic() - start, 5)
            with self.assertRaises(switchboard.ConnectionClosed):
                caller.request_many(self.name, "Op", payloads)

    def test_service_going_away_fails_its_requests(self) -> None:
        payloads = [{"op": "hang", "n": 0}, {"op": "hang", "n": 1}]
        with concurrent.futures.ThreadPoolExecutor(1) as ex:
            fut = ex.submit(self.c.request_many, self.name, "Op", payloads, 30.0)
            for _ in payloads:
                self.assertTrue(self.hanging.acquire(timeout=10), "a hanging request never reached the service")
            self.server.close()
            with self.assertRaises(switchboard.ServiceUnavailable):
                fut.result(10)
        self.assert_usable(self.c)

    def test_batches_from_several_threads_share_one_client(self) -> None:
        def run(base: int) -> list:
            return self.c.request_many("calculator", "Multiply", [{"a": base, "b": i} for i in range(500)], window=64)

        with concurrent.futures.ThreadPoolExecutor(4) as ex:
            futures = {base: ex.submit(run, base) for base in range(1, 5)}
            single = [self.c.request("calculator", "Add", {"a": i, "b": 1}) for i in range(20)]
            for base, fut in futures.items():
                self.assertEqual(fut.result(60), [{"value": base * i} for i in range(500)])
        self.assertEqual(single, [{"value": i + 1} for i in range(20)])


class AsyncRequestManyTest(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self) -> None:
        self.u = uuid.uuid4().hex[:10]
        self.c = await AsyncClient(broker.socket_path).connect()
        self.server = await AsyncClient(broker.socket_path).connect()
        self.name = f"py-abatch-{self.u}"
        self.release = asyncio.Event()
        self.hanging = asyncio.Queue()

        async def handler(req: AsyncRequest):
            p = req.payload
            if p["op"] == "echo":
                return {"echo": p.get("n")}
            if p["op"] == "hang":
                await self.hanging.put(p)
                await self.release.wait()
                return {"late": p.get("n")}
            raise switchboard.ServiceError(p["code"], f"request {p.get('n')} failed on purpose")

        await self.server.serve(self.name, handler, ["Op"])

    async def asyncTearDown(self) -> None:
        self.release.set()
        await self.c.close()
        await self.server.close()

    async def test_order_and_large_batch(self) -> None:
        n = 10_000
        self.assertEqual(await self.c.request_many("calculator", "Add", [{"a": i, "b": 7} for i in range(n)]),
                         [{"value": i + 7} for i in range(n)])
        self.assertEqual(await self.c.request_many("calculator", "Add", [{"a": i, "b": i} for i in range(20)], window=1),
                         [{"value": 2 * i} for i in range(20)])

    async def test_empty_batch_and_closed_client(self) -> None:
        self.assertEqual(await self.c.request_many("calculator", "Add", []), [])
        other = await AsyncClient(broker.socket_path).connect()
        await other.close()
        with self.assertRaises(switchboard.ConnectionClosed):
            await other.request_many("calculator", "Add", [{"a": 1, "b": 1}])

    async def test_mixed_errors(self) -> None:
        payloads = [{"op": "echo", "n": 0}, {"op": "fail", "code": "FIRST", "n": 1}, {"op": "fail", "code": "SECOND", "n": 2}]
        results = await self.c.request_many(self.name, "Op", payloads, return_exceptions=True)
        self.assertEqual(results[0], {"echo": 0})
        self.assertEqual([results[1].code, results[2].code], ["FIRST", "SECOND"])
        with self.assertRaises(switchboard.ServiceError) as cm:
            await self.c.request_many(self.name, "Op", payloads)
        self.assertEqual(cm.exception.code, "FIRST")
        with self.assertRaises(switchboard.SerializationError):
            await self.c.request_many(self.name, "Op", [{"op": "echo", "n": object()}])
        self.assertEqual(await self.c.request("calculator", "Add", {"a": 1, "b": 2}), {"value": 3})

    async def test_timeout(self) -> None:
        payloads = [{"op": "hang", "n": 0}, {"op": "echo", "n": 1}]
        loop = asyncio.get_running_loop()
        start = loop.time()
        results = await self.c.request_many(self.name, "Op", payloads, timeout=0.5, return_exceptions=True)
        self.assertLess(loop.time() - start, 0.5 + MARGIN + 5)
        self.assertIsInstance(results[0], switchboard.RequestTimeout)
        self.assertEqual(results[1], {"echo": 1})
        self.release.set()
        self.assertEqual(await self.c.request_many("calculator", "Add", [{"a": 1, "b": 1}]), [{"value": 2}])

    async def test_close_during_batch(self) -> None:
        caller = await AsyncClient(broker.socket_path).connect()
        task = asyncio.ensure_future(caller.request_many(self.name, "Op", [{"op": "hang", "n": 0}, {"op": "hang", "n": 1}],
                                                         return_exceptions=True))
        for _ in range(2):
            await asyncio.wait_for(self.hanging.get(), 10)
        await caller.close()
        results = await asyncio.wait_for(task, 10)
        self.assertEqual([type(r) for r in results], [switchboard.ConnectionClosed] * 2)


if __name__ == "__main__":
    unittest.main()
