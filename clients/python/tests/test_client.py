"""Synchronous client against the real broker (started by _broker.Broker)."""

from __future__ import annotations

import threading
import time
import unittest
import uuid

from _broker import Broker, wait_until

import switchboard
from switchboard import Client

broker = Broker()


def setUpModule() -> None:
    broker.start()


def tearDownModule() -> None:
    broker.stop()


class ClientTestCase(unittest.TestCase):
    def setUp(self) -> None:
        self.c = Client(broker.socket_path)
        self.addCleanup(self.c.close)
        self.u = uuid.uuid4().hex[:10]

    def client(self, **kw) -> Client:
        c = Client(broker.socket_path, **kw)
        self.addCleanup(c.close)
        return c


class RequestResponseTest(ClientTestCase):
    def test_add_and_multiply(self) -> None:
        self.assertEqual(self.c.request("calculator", "Add", {"a": 2, "b": 3}), {"value": 5})
        self.assertEqual(self.c.request("calculator", "Multiply", {"a": -4, "b": 6}), {"value": -24})

    def test_msgpack_format(self) -> None:
        c = self.client(format="msgpack")
        self.assertEqual(c.request("calculator", "Add", {"a": 40, "b": 2}), {"value": 42})
        self.assertEqual([f["remaining"] for f in c.stream("countdown", "Countdown", {"from": 3, "interval_ms": 1})],
                         [2, 1, 0])

    def test_unknown_target(self) -> None:
        with self.assertRaises(switchboard.ActorNotFound) as cm:
            self.c.request(f"no-such-service-{self.u}", "Add", {"a": 1, "b": 1})
        self.assertEqual(cm.exception.code, "ACTOR_NOT_FOUND")

    def test_unknown_message_type(self) -> None:
        with self.assertRaises(switchboard.UnknownMessageType) as cm:
            self.c.request("calculator", f"Divide{self.u}", {"a": 1, "b": 1})
        self.assertEqual(cm.exception.code, "UNKNOWN_MESSAGE_TYPE")

    def test_connection_usable_after_errors(self) -> None:
        with self.assertRaises(switchboard.SwitchboardError):
            self.c.request("calculator", "Nope")
        self.assertEqual(self.c.request("calculator", "Add", {"a": 1, "b": 1}), {"value": 2})

    def test_payload_too_large_is_refused_locally(self) -> None:
        with self.assertRaises(switchboard.PayloadTooLarge):
            self.c.request("kv_store", "Set", {"key": "big", "value": "x" * (switchboard.protocol.DEFAULT_MAX_PAYLOAD + 1)})
        self.assertEqual(self.c.request("calculator", "Add", {"a": 1, "b": 2}), {"value": 3})

    def test_kv_store_and_fire_and_forget(self) -> None:
        key = f"k-{self.u}"
        self.assertEqual(self.c.request("kv_store", "Get", {"key": key})["found"], False)
        self.assertEqual(self.c.request("kv_store", "Set", {"key": key, "value": "v1"}), {"stored": True})
        self.assertEqual(self.c.request("kv_store", "Get", {"key": key}), {"found": True, "value": "v1"})
        self.assertIsNone(self.c.send("kv_store", "Set", {"key": key, "value": "v2"}))
        wait_until(lambda: self.c.request("kv_store", "Get", {"key": key}).get("value") == "v2", 10,
                   "the fire-and-forget Set to be applied")

    def test_pipelined_requests(self) -> None:
        futures = [self.c.request_future("calculator", "Add", {"a": i, "b": 1000}) for i in range(1000)]
        results = [f.result(60) for f in futures]
        self.assertEqual(results, [{"value": i + 1000} for i in range(1000)])

    def test_many_threads_share_one_client(self) -> None:
        errors: list = []

        def worker(base: int) -> None:
            try:
                for i in range(100):
                    r = self.c.request("calculator", "Multiply", {"a": base, "b": i})
                    if r != {"value": base * i}:
                        errors.append((base, i, r))
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=worker, args=(b,)) for b in range(1, 9)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertFalse(any(t.is_alive() for t in threads))
        self.assertEqual(errors, [])


class StreamTest(ClientTestCase):
    def test_stream_order_and_end(self) -> None:
        st = self.c.stream("countdown", "Countdown", {"from": 5, "interval_ms": 5})
        self.assertEqual(list(st), [{"remaining": n} for n in (4, 3, 2, 1, 0)])
        self.assertIsNone(st.final_code)
        self.assertEqual(st.final_sequence, 5)

    def test_stream_cancel(self) -> None:
        st = self.c.stream("countdown", "Countdown", {"from": 100000, "interval_ms": 20})
        got = []
        for frame in st:
            got.append(frame["remaining"])
            if len(got) == 3:
                st.cancel()
        self.assertEqual(got, [99999, 99998, 99997])
        self.assertTrue(st.wait_closed(10), "no final frame after CANCEL")
        self.assertEqual(st.final_code, "CANCELLED")
        self.assertEqual(self.c.request("calculator", "Add", {"a": 1, "b": 1}), {"value": 2})

    def test_stream_to_unknown_target_is_a_final_error(self) -> None:
        with self.assertRaises(switchboard.ActorNotFound):
            list(self.c.stream(f"nobody-{self.u}", "Countdown", {"from": 3, "interval_ms": 1}))


class PubSubTest(ClientTestCase):
    def test_price_feed_wildcard(self) -> None:
        with self.c.subscribe("prices.*") as sub:
            self.assertIn("prices.*", sub.subscribed_types)
            note = sub.get(timeout=15)
            self.assertTrue(note.subject.startswith("prices."), note.subject)
            self.assertEqual(len(note.subject.split(".")), 2)
            self.assertIsInstance(note.sequence, int)

    def test_publish_same_and_other_client(self) -> None:
        other = self.client()
        base = f"test.{self.u}"
        sub = self.c.subscribe(f"{base}.*")
        self.c.publish(f"{base}.a", {"n": 1})
        note = sub.get(timeout=10)
        self.assertEqual((note.subject, note.payload), (f"{base}.a", {"n": 1}))
        other.publish(f"{base}.x.y", {"n": "deep"})  # '*' is exactly one token: not delivered
        other.publish(f"{base}.b", {"n": 2})
        note = sub.get(timeout=10)
        self.assertEqual((note.subject, note.payload), (f"{base}.b", {"n": 2}))
        sub.unsubscribe()
        self.assertFalse(sub.active)
        self.assertEqual(list(sub), [])

    def test_tail_wildcard_and_callback(self) -> None:
        base = f"orders.{self.u}"
        seen: list = []
        done = threading.Event()

        def on_note(note: switchboard.Notification) -> None:
            seen.append((note.subject, note.payload))
            if len(seen) == 2:
                done.set()

        sub = self.c.subscribe([f"{base}.>"], callback=on_note)
        other = self.client()
        other.publish(base, {"skip": True})  # '>' needs at least one more token
        other.publish(f"{base}.eu", 1)
        other.publish(f"{base}.eu.fr", 2)
        self.assertTrue(done.wait(10), f"callback saw only {seen}")
        self.assertEqual(seen, [(f"{base}.eu", 1), (f"{base}.eu.fr", 2)])
        sub.unsubscribe()

    def test_overlapping_patterns_deliver_once_per_subscription(self) -> None:
        # The broker sends one PUSH per publication per connection, whatever patterns overlap; the
        # client hands it to every subscription with a matching pattern, once.
        base = f"ovl.{self.u}"
        star = self.c.subscribe(f"{base}.*")
        tail = self.c.subscribe(f"{base}.>")
        both = self.c.subscribe([f"{base}.*", f"{base}.>"])
        probe = self.c.subscribe(f"{base}.end")
        pub = self.client()
        pub.publish(f"{base}.a", 1)
        pub.publish(f"{base}.a.b", 2)
        pub.publish(f"{base}.c", 3)
        pub.publish(f"{base}.end", 4)
        self.assertEqual(probe.get(timeout=10).payload, 4)

        def drain(sub):
            out = []
            while True:
                try:
                    out.append(sub.get(timeout=0.01).payload)
                except TimeoutError:
                    return out
        self.assertEqual(drain(star), [1, 3, 4])
        self.assertEqual(drain(tail), [1, 2, 3, 4])
        self.assertEqual(drain(both), [1, 2, 3, 4])
        # one PUSH per publication on the connection, numbered 1, 2, ... without gaps
        self.assertEqual(self.c.push_sequence, 4)
        self.assertEqual((self.c.pushes_lost, star.lost, tail.lost), (0, 0, 0))

    def test_burst_on_one_subject_is_neither_merged_nor_duplicated(self) -> None:
        # Many publications on one subject in the same millisecond are distinct publications: the
        # client must not merge them (the old de-duplication by subject and timestamp_ms did).
        n = 2000
        subject = f"burst.{self.u}"
        tail = self.c.subscribe(f"burst.{self.u}", queue_size=n + 10)
        star = self.c.subscribe("burst.*", queue_size=n + 10)
        pub = self.client()
        for i in range(n):
            pub.publish(subject, i, wait=False)
        pub.publish(subject, "end")
        got = {id(tail): [], id(star): []}
        seqs = []
        for sub in (tail, star):
            while True:
                note = sub.get(timeout=30)
                if note.payload == "end":
                    break
                got[id(sub)].append(note.payload)
                if sub is tail:
                    seqs.append(note.sequence)
        received = got[id(tail)]
        self.assertEqual(got[id(star)], received, "both subscriptions see the same PUSH frames")
        self.assertEqual(received, sorted(set(received)), "no duplicate, in publication order")
        self.assertEqual(seqs, sorted(set(seqs)), "sequence strictly increasing")
        # what the broker dropped (if anything) shows as sequence gaps, nothing is merged
        self.assertEqual((tail.dropped, star.dropped), (0, 0))
        self.assertEqual(len(received) + tail.lost, n)
        self.assertEqual(tail.lost, self.c.pushes_lost)
        self.assertEqual(seqs[-1] - seqs[0] + 1, len(seqs) + sum(
            b - a - 1 for a, b in zip(seqs, seqs[1:])))

    def test_retained_message(self) -> None:
        subject = f"status.{self.u}"
        self.client().publish(subject, {"state": "up"}, retain=True)
        sub = self.c.subscribe(subject)
        note = sub.get(timeout=10)
        self.assertEqual((note.subject, note.payload), (subject, {"state": "up"}))


class ServeTest(ClientTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.release = threading.Event()
        self.addCleanup(self.release.set)
        self.entered = threading.Event()
        self.cancel_seen = threading.Event()
        self.server = self.client()
        self.name = f"py-test-{self.u}"

        def handler(req: switchboard.Request):
            if req.message_type == "Echo":
                return {"echo": req.payload, "type": req.message_type}
            if req.message_type == "Fail":
                raise switchboard.ServiceError("MY_CODE", "it failed on purpose")
            if req.message_type == "Count":
                return ({"i": i} for i in range(req.payload["n"]))
            if req.message_type == "Slow":
                def slow():
                    # The client closes the generator when CANCEL arrives while it is suspended at
                    # `yield` (GeneratorExit), or the handler sees it in wait_cancelled: either way
                    # req.cancelled is set by the time `finally` runs.
                    try:
                        i = 0
                        while not req.wait_cancelled(0.02):
                            yield {"i": i}
                            i += 1
                    finally:
                        if req.cancelled:
                            self.cancel_seen.set()
                return slow()
            if req.message_type == "Hang":
                self.entered.set()
                self.release.wait(60)
                return {"late": True}
            raise switchboard.ServiceError("UNEXPECTED", req.message_type)

        self.reg = self.server.serve(self.name, handler, ["Echo", "Fail", "Count", "Slow", "Hang"])

    def test_call_own_service(self) -> None:
        payload = {"nested": {"list": [1, 2.5, "x", None, True]}, "s": "é"}
        self.assertEqual(self.c.request(self.name, "Echo", payload), {"echo": payload, "type": "Echo"})
        # the serving connection can call its own service too
        self.assertEqual(self.server.request(self.name, "Echo", [1]), {"echo": [1], "type": "Echo"})
        mp = self.client(format="msgpack")
        self.assertEqual(mp.request(self.name, "Echo", {"k": 1}), {"echo": {"k": 1}, "type": "Echo"})

    def test_service_error_code_passes_through(self) -> None:
        with self.assertRaises(switchboard.ServiceError) as cm:
            self.c.request(self.name, "Fail", {})
        self.assertEqual(cm.exception.code, "MY_CODE")
        self.assertIn("on purpose", cm.exception.message)

    def test_served_stream(self) -> None:
        self.assertEqual(list(self.c.stream(self.name, "Count", {"n": 4})), [{"i": i} for i in range(4)])
        self.assertEqual(list(self.c.stream(self.name, "Count", {"n": 0})), [])

    def test_served_stream_cancel_reaches_handler(self) -> None:
        st = self.c.stream(self.name, "Slow", {})
        first = [next(st), next(st)]
        self.assertEqual(first, [{"i": 0}, {"i": 1}])
        st.cancel()
        self.assertTrue(self.cancel_seen.wait(10), "the handler never saw the CANCEL")
        self.assertTrue(st.wait_closed(10))
        self.assertEqual(st.final_code, "CANCELLED")

    def test_pipelined_to_socket_service(self) -> None:
        futures = [self.c.request_future(self.name, "Echo", i) for i in range(300)]
        self.assertEqual([f.result(60)["echo"] for f in futures], list(range(300)))

    def test_exclusive_name_in_use(self) -> None:
        with self.assertRaises(switchboard.NameInUse):
            self.client().serve(self.name, lambda req: None)

    def test_discover_lists_service(self) -> None:
        info = self.c.discover()
        self.assertEqual(info["protocol_version"]["current"], 2)
        names = {a["name"] for a in info["actors"]}
        self.assertTrue({"calculator", "countdown", "kv_store", self.name} <= names, names)

    def test_timeout(self) -> None:
        start = time.monotonic()
        with self.assertRaises(switchboard.RequestTimeout):
            self.c.request(self.name, "Hang", {}, timeout=0.5)
        self.assertLess(time.monotonic() - start, 10)

    def test_broker_timeout_is_not_rewritten_as_a_client_deadline(self) -> None:
        # the broker answers TIMEOUT at 0.3 s; the client's own deadline is 2.3 s away
        for call in (lambda: self.c.request(self.name, "Hang", {}, timeout=0.3),
                     lambda: self.c.request_future(self.name, "Hang", {}, timeout=0.3).result(30)):
            with self.assertRaises(switchboard.RequestTimeout) as cm:
                call()
            self.assertFalse(cm.exception.client_side, cm.exception)
            self.assertNotIn("client-side", cm.exception.message)
            self.assertEqual(cm.exception.code, "TIMEOUT")

    def test_client_deadline_is_marked_client_side(self) -> None:
        c = self.client(deadline_margin=0.0)  # the client's deadline and the broker's coincide: either may win
        with self.assertRaises(switchboard.RequestTimeout) as cm:
            c.request(self.name, "Hang", {}, timeout=0.2)
        self.assertEqual(cm.exception.client_side, "client-side" in cm.exception.message)

    def test_serve_forever_returns_when_closed(self) -> None:
        done = threading.Event()

        def serve() -> None:
            self.server.serve_forever()
            done.set()

        threading.Thread(target=serve, daemon=True).start()
        self.assertEqual(self.c.request(self.name, "Echo", 1), {"echo": 1, "type": "Echo"})
        self.assertFalse(done.is_set())
        self.server.close()
        self.assertTrue(done.wait(10), "serve_forever() did not return after close()")

    def test_discover_describe(self) -> None:
        info = self.c.discover(describe=True)
        services = {s["name"]: s for s in info["services"]}
        schema = {t["name"]: t for t in services[self.name]["schema"]}
        self.assertEqual(set(schema), {"Echo", "Fail", "Count", "Slow", "Hang"})
        self.assertTrue(schema["Echo"]["opaque"])
        calc = {t["name"]: t for t in services["calculator"]["schema"]}
        self.assertIn("Add", calc)
        self.assertEqual({f["name"] for f in calc["Add"]["fields"]}, {"a", "b"}, calc["Add"])
        one = self.c.discover(describe="calculator")
        self.assertEqual([s["name"] for s in one["services"] if "schema" in s], ["calculator"])
        self.assertNotIn("schema", {k for s in self.c.discover()["services"] for k in s})

    def test_service_goes_away(self) -> None:
        fut = self.c.request_future(self.name, "Hang", {}, timeout=30)
        self.assertTrue(self.entered.wait(10))
        self.server.close()
        with self.assertRaises(switchboard.ServiceUnavailable):
            fut.result(10)

    def test_pending_calls_fail_when_connection_closes(self) -> None:
        caller = Client(broker.socket_path)
        fut = caller.request_future(self.name, "Hang", {}, timeout=30)
        self.assertTrue(self.entered.wait(10))
        caller.close()
        with self.assertRaises(switchboard.ConnectionClosed):
            fut.result(10)
        with self.assertRaises(switchboard.ConnectionClosed):
            caller.request("calculator", "Add", {"a": 1, "b": 1})

    def test_unregister(self) -> None:
        self.reg.unregister()
        with self.assertRaises(switchboard.ActorNotFound):
            self.c.request(self.name, "Echo", {})


class MiscTest(ClientTestCase):
    def test_stats(self) -> None:
        self.c.request("calculator", "Add", {"a": 1, "b": 1})
        stats = self.c.stats()
        self.assertIsInstance(stats, dict)
        self.assertTrue(stats)

    def test_heartbeat(self) -> None:
        rtt = self.c.heartbeat(timeout=10)
        self.assertGreaterEqual(rtt, 0)
        self.assertEqual(self.c.request("calculator", "Add", {"a": 1, "b": 1}), {"value": 2})

    def test_socket_path_from_environment(self) -> None:
        import os
        from unittest import mock
        with mock.patch.dict(os.environ, {"SWITCHBOARD_SOCKET": broker.socket_path}):
            with Client() as c:
                self.assertEqual(c.request("calculator", "Add", {"a": 2, "b": 2}), {"value": 4})

    def test_connect_failure(self) -> None:
        with self.assertRaises(switchboard.ConnectionClosed):
            Client(broker.socket_path + ".missing")


if __name__ == "__main__":
    unittest.main()
