"""request_many() and the reader against a fake broker (tests/_fake_peer.py): what the real broker
cannot be made to do on demand -- never answer, answer in reverse order, deliver a few bytes at a
time, send a frame larger than the receive buffer, break the framing -- and the window, counted
on the peer's side of the socket."""

from __future__ import annotations

import asyncio
import concurrent.futures
import struct
import time
import unittest
from unittest import mock

from _broker import wait_until
from _fake_peer import FakePeer, error, response

import switchboard
from switchboard import Client
from switchboard import client as client_module
from switchboard import protocol as P
from switchboard.aio import AsyncClient


class PeerTestCase(unittest.TestCase):
    def setUp(self) -> None:
        self.peer = FakePeer()
        self.addCleanup(self.peer.close)
        self.pool = concurrent.futures.ThreadPoolExecutor(2)
        self.addCleanup(self.pool.shutdown, wait=False, cancel_futures=True)

    def connect(self, **kw) -> tuple:
        c = Client(self.peer.path, reconnect=False, **kw)
        self.addCleanup(c.close)
        return c, self.peer.accept()


class RequestManyPeerTest(PeerTestCase):
    def test_frames_are_ordinary_requests_and_answers_map_back_in_any_order(self) -> None:
        c, conn = self.connect()
        payloads = [{"i": i} for i in range(50)] + [None, "text", [1, 2]]
        fut = self.pool.submit(c.request_many, "svc", "Op", payloads, 7.5, return_exceptions=True)
        frames = conn.read_frames(len(payloads))
        for (ftype, body), payload in zip(frames, payloads):
            self.assertEqual(ftype, P.REQUEST)
            self.assertEqual(body["payload"], payload)
            self.assertEqual({k: body[k] for k in ("target", "message_type", "expects_reply", "expects_stream",
                                                   "response_timeout_ms")},
                             {"target": "svc", "message_type": "Op", "expects_reply": True, "expects_stream": False,
                              "response_timeout_ms": 7500})
        cids = [body["correlation_id"] for _, body in frames]
        self.assertEqual(len(set(cids)), len(cids))
        # answer in reverse order; every seventh with an ERROR
        conn.send(b"".join(error(cid, "ODD", f"no {k}") if k % 7 == 0 else response(cid, {"k": k})
                           for k, cid in reversed(list(enumerate(cids)))))
        results = fut.result(10)
        for k, r in enumerate(results):
            if k % 7 == 0:
                self.assertIsInstance(r, switchboard.ServiceError)
                self.assertEqual((r.code, r.message), ("ODD", f"no {k}"))
            else:
                self.assertEqual(r, {"k": k})

    def test_client_side_deadline(self) -> None:
        c, conn = self.connect(deadline_margin=0.2)
        start = time.monotonic()
        fut = self.pool.submit(c.request_many, "svc", "Op", [1, 2, 3], 0.3)
        frames = conn.read_frames(3)  # the peer reads them and never answers
        with self.assertRaises(switchboard.RequestTimeout):
            fut.result(10)
        self.assertGreaterEqual(time.monotonic() - start, 0.5)
        self.assertEqual(c._core.pending, {})  # nothing of the batch is left behind
        # late answers are dropped; the client goes on
        conn.send(b"".join(response(body["correlation_id"], "late") for _, body in frames))
        fut = self.pool.submit(c.request_many, "svc", "Op", ["again"], 5.0)
        (_, body), = conn.read_frames(1)
        conn.send(response(body["correlation_id"], "fresh"))
        self.assertEqual(fut.result(10), ["fresh"])

    def test_window_bounds_the_requests_in_flight(self) -> None:
        c, conn = self.connect()
        window, total = 4, 10
        fut = self.pool.submit(c.request_many, "svc", "Op", list(range(total)), 5.0, window=window)
        received, unanswered, most = 0, [], 0
        while received < total:
            frames = conn.read_frames(1) + conn.frames_now()  # one, and whatever else is there already
            received += len(frames)
            unanswered += [body for _, body in frames]
            most = max(most, len(unanswered))
            self.assertLessEqual(len(unanswered), window)
            if len(unanswered) == window or received == total:  # answer only when the window is full
                conn.send(b"".join(response(b["correlation_id"], b["payload"] * 10) for b in unanswered))
                unanswered = []
        self.assertEqual(fut.result(10), [i * 10 for i in range(total)])
        self.assertEqual(most, window)
        self.assertEqual(conn.frames_now(), [])

    def test_what_the_window_holds_back_times_out_unsent(self) -> None:
        c, conn = self.connect(deadline_margin=0.1)
        fut = self.pool.submit(c.request_many, "svc", "Op", list(range(6)), 0.2, return_exceptions=True, window=2)
        results = fut.result(10)
        self.assertEqual([type(r) for r in results], [switchboard.RequestTimeout] * 6)
        self.assertIn("not sent", results[5].message)
        self.assertEqual(len(conn.frames_now()), 2)  # only the window was ever written
        self.assertEqual(c._core.pending, {})

    def test_dropped_connection_fails_the_batch(self) -> None:
        c, conn = self.connect()
        fut = self.pool.submit(c.request_many, "svc", "Op", list(range(5)), 30.0, return_exceptions=True)
        frames = conn.read_frames(5)
        conn.send(response(frames[0][1]["correlation_id"], "first"))
        conn.close()
        results = fut.result(10)
        self.assertEqual(results[0], "first")
        self.assertEqual([type(r) for r in results[1:]], [switchboard.ConnectionClosed] * 4)
        with self.assertRaises(switchboard.ConnectionClosed):
            c.request_many("svc", "Op", [1])

    def test_batch_is_not_continued_on_a_new_connection(self) -> None:
        c = Client(self.peer.path, reconnect=True, reconnect_delay=0.01, reconnect_max_delay=0.01)
        self.addCleanup(c.close)
        first = self.peer.accept()
        # Hold the batch after its window wait until the client has reconnected: the case of a
        # caller whose wake-up is slower than the reconnect.
        wait_until_answered, waits = client_module._Batch.wait_until, []

        def held(batch, level: int, deadline: float) -> bool:
            ok = wait_until_answered(batch, level, deadline)
            waits.append(level)
            if len(waits) == 1:
                wait_until(lambda: c.reconnects >= 1, 10, "the client to reconnect")
            return ok

        with mock.patch.object(client_module._Batch, "wait_until", held):
            fut = self.pool.submit(c.request_many, "svc", "Op", list(range(4)), 30.0, return_exceptions=True, window=2)
            first.read_frames(2)
            first.close()
            second = self.peer.accept()
            results = fut.result(10)
        self.assertEqual([type(r) for r in results], [switchboard.ConnectionClosed] * 4)
        self.assertIn("connection lost during the batch", results[3].message)
        self.assertEqual(second.frames_now(), [])  # nothing of the batch went out on the new connection
        fut = self.pool.submit(c.request_many, "svc", "Op", ["new"], 5.0)
        (_, body), = second.read_frames(1)
        second.send(response(body["correlation_id"], "ok"))
        self.assertEqual(fut.result(10), ["ok"])


class ReaderPeerTest(PeerTestCase):
    def test_bytes_arriving_a_few_at_a_time(self) -> None:
        c, conn = self.connect()
        fut = self.pool.submit(c.request_many, "svc", "Op", list(range(40)), 10.0)
        frames = conn.read_frames(40)
        data = b"".join(response(body["correlation_id"], {"n": body["payload"], "s": "é" * (k % 5)})
                        for k, (_, body) in enumerate(frames))
        for i in range(0, len(data), 3):
            conn.send(data[i:i + 3])
        self.assertEqual(fut.result(10), [{"n": k, "s": "é" * (k % 5)} for k in range(40)])

    def test_frames_split_across_the_end_of_the_receive_buffer(self) -> None:
        c, conn = self.connect()
        n = 3000  # about 450 KiB of answers: more than the 256 KiB buffer, so partial frames move to its front
        fut = self.pool.submit(c.request_many, "svc", "Op", list(range(n)), 30.0, window=n)
        frames = conn.read_frames(n)
        data = b"".join(response(body["correlation_id"], {"n": body["payload"], "pad": "p" * 70}) for _, body in frames)
        self.assertGreater(len(data), 256 * 1024)
        for i in range(0, len(data), 997):
            conn.send(data[i:i + 997])
        self.assertEqual(fut.result(30), [{"n": k, "pad": "p" * 70} for k in range(n)])

    def test_frame_larger_than_the_receive_buffer(self) -> None:
        c, conn = self.connect()
        big = "x" * (3 * 1024 * 1024)  # beyond the client's 256 KiB buffer (and its 1 MiB send limit)
        fut = self.pool.submit(c.request_many, "svc", "Op", [1, 2, 3], 10.0)
        cids = [body["correlation_id"] for _, body in conn.read_frames(3)]
        conn.send(response(cids[0], "small") + response(cids[1], big)[:1000])
        conn.send(response(cids[1], big)[1000:] + response(cids[2], "after"))
        self.assertEqual(fut.result(10), ["small", big, "after"])
        fut = self.pool.submit(c.request, "svc", "Op", 4, 10.0)  # back on the usual buffer
        (_, body), = conn.read_frames(1)
        conn.send(response(body["correlation_id"], "next"))
        self.assertEqual(fut.result(10), "next")

    def test_version_1_frame(self) -> None:
        c, conn = self.connect()
        fut = self.pool.submit(c.request, "svc", "Op", 1, 10.0)
        (_, body), = conn.read_frames(1)
        data = P.encode_body({"correlation_id": body["correlation_id"], "success": True, "payload": "v1"}, P.FORMAT_JSON)
        conn.send(struct.pack(">IBB", len(data), P.VERSION_1, P.RESPONSE) + data)  # 6-byte header, JSON
        self.assertEqual(fut.result(10), "v1")

    def test_unknown_version_breaks_the_connection(self) -> None:
        c, conn = self.connect()
        fut = self.pool.submit(c.request_many, "svc", "Op", [1], 30.0)
        conn.read_frames(1)
        conn.send(b"\x00\x00\x00\x02\x07\x02\x01{}")
        with self.assertRaises(switchboard.ConnectionClosed) as cm:
            fut.result(10)
        self.assertIn("protocol broken", cm.exception.message)


class AsyncRequestManyPeerTest(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self) -> None:
        self.peer = FakePeer()
        self.c = await AsyncClient(self.peer.path, reconnect=False, deadline_margin=0.2).connect()
        self.conn = await asyncio.to_thread(self.peer.accept)

    async def asyncTearDown(self) -> None:
        await self.c.close()
        self.peer.close()

    async def test_window_and_reverse_order(self) -> None:
        window, total = 4, 10
        task = asyncio.ensure_future(self.c.request_many("svc", "Op", list(range(total)), 5.0, window=window))

        def serve() -> int:
            received, unanswered, most = 0, [], 0
            while received < total:
                (_, body), = self.conn.read_frames(1)
                received += 1
                unanswered.append(body)
                most = max(most, len(unanswered))
                if len(unanswered) == window or received == total:
                    self.conn.send(b"".join(response(b["correlation_id"], -b["payload"]) for b in reversed(unanswered)))
                    unanswered = []
            return most

        most = await asyncio.to_thread(serve)
        self.assertEqual(await asyncio.wait_for(task, 10), [-i for i in range(total)])
        self.assertEqual(most, window)

    async def test_client_side_deadline(self) -> None:
        task = asyncio.ensure_future(self.c.request_many("svc", "Op", [1, 2], 0.3, return_exceptions=True))
        await asyncio.to_thread(self.conn.read_frames, 2)
        results = await asyncio.wait_for(task, 10)
        self.assertEqual([type(r) for r in results], [switchboard.RequestTimeout] * 2)
        self.assertEqual(self.c._core.pending, {})

    async def test_bytes_arriving_a_few_at_a_time(self) -> None:
        task = asyncio.ensure_future(self.c.request_many("svc", "Op", list(range(20)), 10.0))
        frames = await asyncio.to_thread(self.conn.read_frames, 20)
        data = b"".join(response(body["correlation_id"], body["payload"] + 100) for _, body in frames)

        def dribble() -> None:
            for i in range(0, len(data), 5):
                self.conn.send(data[i:i + 5])

        await asyncio.to_thread(dribble)
        self.assertEqual(await asyncio.wait_for(task, 10), [k + 100 for k in range(20)])


if __name__ == "__main__":
    unittest.main()
