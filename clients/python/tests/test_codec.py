"""Pure codec checks (no broker needed): MessagePack, framing, subject patterns,
socket path resolution, error mapping."""

from __future__ import annotations

import os
import unittest
from unittest import mock

import _broker  # noqa: F401  (puts the package on sys.path)

import switchboard
from switchboard import msgpack
from switchboard import protocol as P


class MsgPackTest(unittest.TestCase):
    def test_round_trip(self) -> None:
        values = [None, True, False, 0, 1, 127, 128, 255, 256, 65535, 65536, 2**32, 2**64 - 1,
                  -1, -32, -33, -128, -129, -32768, -32769, -2**31 - 1, -2**63, 0.0, -1.5, 1e300,
                  "", "a", "x" * 31, "x" * 32, "é" * 200, "y" * 70000, b"", b"\x00\xff", b"z" * 70000,
                  [], [1, [2, [3]]], list(range(16)), list(range(70000)), {}, {"a": {"b": [1, 2.5, None]}},
                  {str(i): i for i in range(16)}, {1: "int key"}]
        for v in values:
            self.assertEqual(msgpack.unpackb(msgpack.packb(v)), v)

    def test_known_encodings(self) -> None:
        self.assertEqual(msgpack.packb({"a": 1}), b"\x81\xa1a\x01")
        self.assertEqual(msgpack.packb([None, True, False]), b"\x93\xc0\xc3\xc2")
        self.assertEqual(msgpack.packb(-1), b"\xff")
        self.assertEqual(msgpack.packb(200), b"\xcc\xc8")
        self.assertEqual(msgpack.packb(1.0), b"\xcb?\xf0\x00\x00\x00\x00\x00\x00")
        self.assertEqual(msgpack.unpackb(b"\xca?\x80\x00\x00"), 1.0)  # float32
        self.assertEqual(msgpack.unpackb(b"\xd4\x05\x01"), msgpack.ExtType(5, b"\x01"))

    def test_errors(self) -> None:
        with self.assertRaises(msgpack.MsgPackError):
            msgpack.unpackb(b"\x92\x01")  # truncated array
        with self.assertRaises(msgpack.MsgPackError):
            msgpack.unpackb(b"\x01\x02")  # trailing bytes
        with self.assertRaises(msgpack.MsgPackError):
            msgpack.unpackb(b"\xc1")  # never used
        with self.assertRaises(msgpack.MsgPackError):
            msgpack.packb(object())
        with self.assertRaises(msgpack.MsgPackError):
            msgpack.packb(2**64)


class JsonBodyTest(unittest.TestCase):
    """Every JSON codec this Python has (the standard library's always, orjson when installed)
    accepts and refuses what json.dumps / json.loads do, as SerializationError, but for orjson's
    documented differences (NaN written as null, its own float spelling)."""

    def each_codec(self):
        for codec in P.json_codecs():
            with self.subTest(codec.name):
                saved = P.JSON_CODEC, P.MSGPACK_CODEC
                P.use_codecs(codec, saved[1])
                try:
                    yield codec.name
                finally:
                    P.use_codecs(*saved)

    def test_standard_library_codec_is_always_there(self) -> None:
        self.assertEqual(P.json_codecs()[-1].name, "json")
        self.assertEqual(P.msgpack_codecs()[-1].name, "switchboard.msgpack")

    def test_round_trip_matches_the_json_module(self) -> None:
        import json
        for name in self.each_codec():
            for value in ({"a": [1, -2.5, 1e300, None, True, False, "é\n\"\\\u2028", {}]}, [], "s", 3, None,
                          {"nested": [[{"k": [0.1]}]], "1": 2}):
                data = P.encode_body(value, P.FORMAT_JSON)
                if name == "json":
                    self.assertEqual(data, json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
                self.assertEqual(json.loads(data), value)
                self.assertEqual(P.decode_body(data, P.FORMAT_JSON), value)
                self.assertEqual(P.decode_body(bytearray(data), P.FORMAT_JSON), value)

    def test_whitespace_and_empty(self) -> None:
        for _ in self.each_codec():
            self.assertEqual(P.decode_body(b' \n{"a": 1}\t ', P.FORMAT_JSON), {"a": 1})
            self.assertIsNone(P.decode_body(b"", P.FORMAT_JSON))

    def test_refusals(self) -> None:
        circular: list = []
        circular.append(circular)
        for name in self.each_codec():
            refused = [circular, {"o": object()}, {(1, 2): 1}, "\ud800"]
            if name == "json":
                refused.append({"f": float("nan")})
            else:
                self.assertEqual(P.encode_body({"f": float("nan")}, P.FORMAT_JSON), b'{"f":null}')
            for value in refused:
                with self.assertRaises(switchboard.SerializationError, msg=repr(value)[:40]):
                    P.encode_body(value, P.FORMAT_JSON)
            for data in (b'{"a":', b'{"a":1} x', b"\xff", b"nope", b"[1,]"):
                with self.assertRaises(switchboard.SerializationError, msg=repr(data)):
                    P.decode_body(data, P.FORMAT_JSON)


class FrameTest(unittest.TestCase):
    def test_header(self) -> None:
        data = P.encode_frame(P.REQUEST, {"a": 1})
        self.assertEqual(data[:7], b"\x00\x00\x00\x07\x02\x01\x01")
        self.assertEqual(data[7:], b'{"a":1}')
        data = P.encode_frame(P.STATS, {"a": 1}, P.FORMAT_MSGPACK)
        self.assertEqual(data[:7], b"\x00\x00\x00\x04\x02\x0e\x02")
        self.assertEqual(P.decode_body(data[7:], P.FORMAT_MSGPACK), {"a": 1})

    def test_limits(self) -> None:
        with self.assertRaises(switchboard.PayloadTooLarge):
            P.encode_frame(P.REQUEST, "x" * 100, max_payload=50)
        with self.assertRaises(switchboard.SerializationError):
            P.encode_frame(P.REQUEST, {"b": b"bytes are not JSON"})
        with self.assertRaises(switchboard.ProtocolError):
            P.parse_header(b"\x00\x00\x00\x00\x07")

    def test_patterns(self) -> None:
        m = P.pattern_matches
        self.assertTrue(m("prices.*", "prices.ACME"))
        self.assertFalse(m("prices.*", "prices.ACME.x"))
        self.assertFalse(m("prices.*", "prices"))
        self.assertTrue(m("orders.>", "orders.eu"))
        self.assertTrue(m("orders.>", "orders.eu.fr"))
        self.assertFalse(m("orders.>", "orders"))
        self.assertTrue(m("PriceUpdate", "PriceUpdate"))
        self.assertFalse(m("PriceUpdate", "PriceUpdates"))
        self.assertTrue(m("*.b.*", "a.b.c"))

    def test_socket_path(self) -> None:
        with mock.patch.dict(os.environ, {}, clear=True):
            self.assertEqual(P.resolve_socket_path("/x.sock"), "/x.sock")
            self.assertEqual(P.resolve_socket_path(), f"/tmp/switchboard-{os.getuid()}/broker.sock")
            os.environ["XDG_RUNTIME_DIR"] = "/run/user/7"
            self.assertEqual(P.resolve_socket_path(), "/run/user/7/switchboard/broker.sock")
            os.environ["SWITCHBOARD_SOCKET"] = "/e.sock"
            self.assertEqual(P.resolve_socket_path(), "/e.sock")

    def test_error_mapping(self) -> None:
        e = switchboard.error_from_code("TIMEOUT", "slow")
        self.assertIsInstance(e, switchboard.RequestTimeout)
        self.assertIsInstance(e, TimeoutError)
        self.assertEqual((e.code, e.message), ("TIMEOUT", "slow"))
        e = switchboard.error_from_code("CUSTOM", "m")
        self.assertIsInstance(e, switchboard.ServiceError)
        self.assertEqual(e.code, "CUSTOM")
        self.assertIsInstance(switchboard.ConnectionClosed(), ConnectionError)


if __name__ == "__main__":
    unittest.main()


class PushSequenceTest(unittest.TestCase):
    def test_a_loss_notice_counts_the_tail_once_and_the_next_push_adds_nothing(self):
        seq = P.PushSequence()
        self.assertEqual(seq.observe(1), 0)
        self.assertEqual(seq.observe(3), 1)  # 2 dropped
        notice = {"correlation_id": "", "success": True, "notice": "pushes_lost", "lost": 4, "sequence": 7}
        self.assertTrue(P.is_loss_notice(notice))
        self.assertEqual(seq.notice(notice["sequence"]), 4)  # 4..7 dropped, known before any later PUSH
        self.assertEqual(seq.observe(8), 0)
        self.assertEqual(seq.notice(8), 0)  # a notice for what was already seen counts nothing
        self.assertEqual(seq.notice(True), 0)
        self.assertEqual(seq.lost, 5)
        self.assertFalse(P.is_loss_notice({"correlation_id": "x", "notice": "pushes_lost"}))
