"""The sans-IO protocol core (switchboard/_core.py) driven directly: frames in, outcomes and frames
out, with no socket, thread or event loop. Both clients run on this core, so what is checked here
holds for Client and AsyncClient alike (the behaviours they used to differ in are covered)."""

from __future__ import annotations

import concurrent.futures
import queue
import threading
import unittest
from typing import Any, Dict, List, Tuple

from _broker import PACKAGE_ROOT  # noqa: F401  (puts the package on sys.path)

import switchboard
from switchboard import _core as C
from switchboard import protocol as P


class FakeClient:
    def __init__(self, core: C.Core) -> None:
        self._core = core
        self.quiet: List[Tuple[int, Any]] = []

    def _send_quiet(self, frame_type: int, body: Any, fmt: Any = None) -> None:
        self.quiet.append((frame_type, body))


class Stream(C.StreamState):
    def __init__(self, client: Any, cid: str) -> None:
        super().__init__(client, cid, 5.0, threading.Event(), queue.Queue())

    def items(self) -> List[Any]:
        out = []
        while True:
            try:
                more, payload = self._take(self._queue.get_nowait())
            except queue.Empty:
                return out
            if not more:
                out.append("END")
                return out
            out.append(payload)


class Subscription(C.SubscriptionState):
    def __init__(self, client: Any, patterns: List[str]) -> None:
        super().__init__(client, patterns, None)
        self._queue = queue.Queue(maxsize=2)
        self._full, self._empty = queue.Full, queue.Empty

    def _requeue_end(self) -> None:
        self._queue.put(C.END)


class Request(C.RequestState):
    def __init__(self, body: Dict[str, Any], fmt: int) -> None:
        super().__init__(body, fmt, threading.Event())


def frames(data: bytes) -> List[Tuple[int, Any]]:
    out = []
    while data:
        length, _, rest = P.parse_header(data[:5])
        out.append((data[5], P.decode_body(data[5 + rest:5 + rest + length], data[6])))
        data = data[5 + rest + length:]
    return out


class CoreTest(unittest.TestCase):
    def setUp(self) -> None:
        self.written: List[bytes] = []
        self.core = C.Core("t-", P.FORMAT_JSON, P.DEFAULT_MAX_PAYLOAD, self.written.append, threading.RLock())
        self.core.started = self.core.connected = True
        self.client = FakeClient(self.core)

    def call(self, kind: str = "payload") -> C.Call:
        fut: concurrent.futures.Future[Any] = concurrent.futures.Future()
        call, data = self.core.start_call(fut, kind, P.REQUEST, {"target": "svc"}, 0.0)
        self.assertEqual(frames(data), [(P.REQUEST, {"target": "svc", "correlation_id": call.correlation_id})])
        return call

    def test_answers_reach_their_calls(self) -> None:
        a, b = self.call(), self.call("body")
        self.core.receive(P.RESPONSE, 1, {"correlation_id": b.correlation_id, "success": True, "payload": 2}, Request)
        self.core.receive(P.RESPONSE, 1, {"correlation_id": a.correlation_id, "success": True, "payload": 1}, Request)
        self.assertEqual(a.future.result(0), 1)  # type: ignore[attr-defined]
        self.assertEqual(b.future.result(0)["payload"], 2)  # type: ignore[attr-defined]
        self.assertEqual(self.core.pending, {})

    def test_the_brokers_timeout_is_kept_as_sent(self) -> None:
        call = self.call()
        self.core.receive(P.ERROR, 1, {"correlation_id": call.correlation_id, "success": False,
                                       "error": "no answer within 300 ms", "error_code": "TIMEOUT"}, Request)
        self.core.expire(call, 2.3)  # the caller's deadline passing afterwards changes nothing
        exc = call.future.exception(0)  # type: ignore[attr-defined]
        self.assertIsInstance(exc, switchboard.RequestTimeout)
        self.assertFalse(exc.client_side)
        self.assertEqual(exc.message, "no answer within 300 ms")

    def test_client_deadline(self) -> None:
        call = self.call()
        err = self.core.expire(call, 2.3)
        self.assertTrue(err.client_side)
        self.assertIs(call.future.exception(0), err)  # type: ignore[attr-defined]
        self.assertEqual(self.core.pending, {})

    def test_a_request_with_nothing_served_is_refused(self) -> None:
        req = self.core.receive(P.REQUEST, 1, {"correlation_id": "b-1", "target": "x", "expects_reply": True}, Request)
        self.assertIsNone(req)
        (ftype, body), = frames(b"".join(self.written))
        self.assertEqual((ftype, body["error_code"], body["correlation_id"]), (P.ERROR, "ACTOR_NOT_FOUND", "b-1"))
        self.written.clear()
        self.core.receive(P.REQUEST, 1, {"correlation_id": "b-2", "target": "x", "expects_stream": True}, Request)
        (ftype, body), = frames(b"".join(self.written))
        self.assertEqual((ftype, body["is_final"], body["error_code"]), (P.STREAM, True, "ACTOR_NOT_FOUND"))

    def test_a_served_request_is_handed_over_and_cancelled(self) -> None:
        self.core.add_service(C.Registration(self.client, "svc", lambda r: r.payload, None, "exclusive"))
        req = self.core.receive(P.REQUEST, 2, {"correlation_id": "b-3", "target": "svc", "payload": 7,
                                               "expects_reply": True}, Request)
        assert req is not None
        self.assertEqual(self.core.handler_of(req)(req), 7)
        self.core.receive(P.CANCEL, 1, {"correlation_id": "b-3"}, Request)
        self.assertTrue(req.cancelled)
        self.assertEqual(self.core.reply_frames(req, 7), b"")  # nothing is sent for a cancelled request

    def test_reply_shaping(self) -> None:
        plain = Request({"correlation_id": "p", "expects_reply": True}, P.FORMAT_MSGPACK)
        self.assertEqual(frames(self.core.reply_frames(plain, {"v": 1})),
                         [(P.RESPONSE, {"correlation_id": "p", "success": True, "payload": {"v": 1}})])
        stream = Request({"correlation_id": "s", "expects_stream": True}, P.FORMAT_JSON)
        self.assertEqual(frames(self.core.reply_frames(stream, 5)),
                         [(P.STREAM, {"correlation_id": "s", "sequence": 0, "is_final": False, "payload": 5}),
                          (P.STREAM, {"correlation_id": "s", "sequence": 1, "is_final": True})])
        unencodable = frames(self.core.reply_frames(plain, object()))
        self.assertEqual(unencodable[0][1]["error_code"], "SERIALIZATION_ERROR")
        failed = frames(self.core.error_frames(stream, switchboard.ServiceError("MINE", "no"), 3))
        self.assertEqual(failed, [(P.STREAM, {"correlation_id": "s", "error": "no", "error_code": "MINE",
                                              "sequence": 3, "is_final": True})])
        fire_and_forget = Request({"correlation_id": "f"}, P.FORMAT_JSON)
        self.assertEqual(self.core.reply_frames(fire_and_forget, 1), b"")

    def test_a_bare_answer_ends_a_stream(self) -> None:
        ok, err = Stream(self.client, "s-1"), Stream(self.client, "s-2")
        for st in (ok, err):
            self.core.open_stream(st, {"target": "svc"})
        self.core.receive(P.STREAM, 1, {"correlation_id": "s-1", "sequence": 0, "is_final": False, "payload": 1},
                          Request)
        self.core.receive(P.RESPONSE, 1, {"correlation_id": "s-1", "success": True}, Request)
        self.core.receive(P.ERROR, 1, {"correlation_id": "s-2", "error": "gone", "error_code": "SERVICE_UNAVAILABLE"},
                          Request)
        self.assertEqual(ok.items(), [1, "END"])
        with self.assertRaises(switchboard.ServiceUnavailable):
            err.items()
        self.assertEqual(err.final_code, "SERVICE_UNAVAILABLE")

    def test_non_object_bodies_are_ignored(self) -> None:
        call = self.call()
        with self.assertLogs("switchboard", "WARNING"):
            self.assertIsNone(self.core.receive(P.RESPONSE, 1, [1, 2], Request))
        self.assertFalse(call.future.done())  # type: ignore[attr-defined]
        self.core.receive(P.HEARTBEAT, 1, None, Request)  # a bare heartbeat is answered
        self.assertEqual(frames(b"".join(self.written)), [(P.HEARTBEAT, {})])

    def test_pushes_and_gaps(self) -> None:
        a, b = Subscription(self.client, ["prices.*"]), Subscription(self.client, ["orders.>"])
        self.core.add_subscription(a)
        self.core.add_subscription(b)
        self.core.receive(P.PUSH, 1, {"message_type": "prices.eu", "payload": 1, "sequence": 1}, Request)
        self.core.receive(P.PUSH, 1, {"message_type": "orders.a.b", "payload": 2, "sequence": 4}, Request)
        self.core.receive(P.RESPONSE, 1, {"correlation_id": "", "notice": "pushes_lost", "sequence": 6}, Request)
        self.assertEqual((a.lost, b.lost, self.core.push_seq.lost), (4, 4, 4))
        self.assertEqual(a._queue.get_nowait().payload, 1)
        note = b._queue.get_nowait()
        self.assertEqual((note.payload, note.gap), (2, 2))
        for i in range(3):  # the bounded queue drops the oldest
            self.core.receive(P.PUSH, 1, {"message_type": "prices.x", "payload": i, "sequence": 7 + i}, Request)
        self.assertEqual(a.dropped, 1)

    def test_a_drop_fails_what_is_in_flight_and_keeps_the_rest(self) -> None:
        call = self.call()
        sub = Subscription(self.client, ["a.*"])
        self.core.add_subscription(sub)
        self.core.add_service(C.Registration(self.client, "svc", print, ["X"], "shared"))
        lost = self.core.connection_end(ConnectionResetError(104, "reset"))
        self.assertEqual(lost.cause, switchboard.ConnectionClosed.LOST)
        self.core.interrupt(lost)
        self.assertIs(call.future.exception(0), lost)  # type: ignore[attr-defined]
        with self.assertRaises(switchboard.ConnectionClosed):
            sub._take(sub._queue.get_nowait())
        self.assertTrue(sub.active)
        with self.assertRaises(switchboard.ConnectionClosed) as cm:
            self.core.check_open()
        self.assertEqual(cm.exception.cause, switchboard.ConnectionClosed.RECONNECTING)
        self.core.reconnected()
        plan = self.core.restore_plan()
        self.assertEqual([(s.frame_type, s.body) for s in plan],
                         [(P.REGISTER, {"service": "svc", "mode": "shared", "message_types": ["X"]}),
                          (P.SUBSCRIBE, {"message_types": ["a.*"]})])

    def test_refusals_end_the_client_and_closing_is_quiet(self) -> None:
        self.core.receive(P.ERROR, 1, {"correlation_id": "", "error": "not you", "error_code": "FORBIDDEN"}, Request)
        refused = self.core.connection_end(None)
        self.assertIsInstance(refused.reason, switchboard.Forbidden)
        self.assertFalse(self.core.reconnects_after(refused, True))
        sub = Subscription(self.client, ["a"])
        self.core.add_subscription(sub)
        self.core.closing = True
        closed = self.core.connection_end(None)
        self.assertEqual(closed.cause, switchboard.ConnectionClosed.BY_CLIENT)
        self.assertTrue(self.core.shut(closed))
        self.assertFalse(self.core.shut(closed))
        with self.assertRaises(EOFError):  # closed by the user: the subscription just ends
            sub._take(sub._queue.get_nowait())


if __name__ == "__main__":
    unittest.main()
