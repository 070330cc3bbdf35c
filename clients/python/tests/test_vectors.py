"""The shared test vectors of clients/vectors (frames, subject patterns, error codes) run against
this client's codec, pattern matching and error mapping; the Java codec runs the same files
(gateway-codec's SharedVectorsTest). The folder is found relative to this file; a missing or
empty folder fails the test."""

from __future__ import annotations

import json
import unittest
from pathlib import Path
from typing import Any, Dict, List

from _broker import REPO_ROOT

import switchboard
from switchboard import _core as C
from switchboard import errors as E
from switchboard import protocol as P

VECTORS = REPO_ROOT / "clients" / "vectors"
TYPES = {"REQUEST": P.REQUEST, "RESPONSE": P.RESPONSE, "ERROR": P.ERROR, "HEARTBEAT": P.HEARTBEAT, "PUSH": P.PUSH,
         "SUBSCRIBE": P.SUBSCRIBE, "UNSUBSCRIBE": P.UNSUBSCRIBE, "DISCOVER": P.DISCOVER, "STREAM": P.STREAM,
         "REGISTER": P.REGISTER, "UNREGISTER": P.UNREGISTER, "PUBLISH": P.PUBLISH, "CANCEL": P.CANCEL,
         "STATS": P.STATS}
FORMATS = {"json": P.FORMAT_JSON, "msgpack": P.FORMAT_MSGPACK}


def load(name: str) -> Dict[str, Any]:
    path = VECTORS / name
    if not path.is_file():
        raise AssertionError(f"test vectors {path} are missing: the shared vectors live in clients/vectors")
    data: Dict[str, Any] = json.loads(path.read_text("utf-8"))
    return data


def same(a: Any, b: Any) -> bool:
    """Equal values of the same kind: True is not 1, 1 is not "1" (1 and 1.0 are numbers alike)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def repeat(entry: Dict[str, Any], key: str) -> str:
    if key in entry:
        text: str = entry[key]
        return text
    r = entry[key + "_repeat"]
    return str(r["unit"] * r["times"] + r["then"])


def header(raw: bytes) -> Any:
    """What the client's reader takes from a frame's header: (length, version, type, format, header size)."""
    length, version, rest = P.parse_header(raw[:5])
    if length > P.ABSOLUTE_MAX_PAYLOAD:
        raise P.frame_too_large(length)
    fmt = raw[6] if rest == 2 else P.FORMAT_JSON
    if fmt not in (P.FORMAT_JSON, P.FORMAT_MSGPACK):
        raise switchboard.ProtocolError(f"unknown format 0x{fmt:02x}")
    return length, version, raw[5], fmt, 5 + rest


class FrameVectorsTest(unittest.TestCase):
    """Run with every codec this Python has: the standard library's and this package's always,
    orjson and msgpack when installed."""

    frames = load("frames.json")

    def each_codec(self) -> Any:
        saved = P.JSON_CODEC, P.MSGPACK_CODEC
        for jc in P.json_codecs():
            for mc in P.msgpack_codecs():
                P.use_codecs(jc, mc)
                try:
                    yield f"{jc.name}+{mc.name}"
                finally:
                    P.use_codecs(*saved)

    def test_there_are_vectors(self) -> None:
        self.assertGreaterEqual(len(self.frames["valid"]), 10)
        self.assertGreaterEqual(len(self.frames["invalid_frames"]), 5)
        self.assertGreaterEqual(len(self.frames["invalid_payloads"]), 10)

    def test_valid_frames_decode(self) -> None:
        for codecs in self.each_codec():
            for v in self.frames["valid"]:
                with self.subTest(v["name"], codecs=codecs):
                    raw = bytes.fromhex(v["hex"])
                    length, version, ftype, fmt, size = header(raw)
                    self.assertEqual((version, ftype, fmt), (v["version"], TYPES[v["type"]], FORMATS[v["format"]]))
                    self.assertEqual(raw[size:], bytes.fromhex(v["payload_hex"]))
                    self.assertEqual(length, len(raw) - size)
                    body = P.decode_body(raw[size:], fmt)
                    self.assertTrue(same(body, v["body"]), f"{body!r} != {v['body']!r}")

    def test_exact_frames_encode_byte_for_byte(self) -> None:
        for codecs in self.each_codec():
            exact = [v for v in self.frames["valid"] if v["encode"] == "exact"]
            self.assertGreaterEqual(len(exact), 8)
            for v in exact:
                with self.subTest(v["name"], codecs=codecs):
                    self.assertEqual(P.encode_frame(TYPES[v["type"]], v["body"], FORMATS[v["format"]],
                                                    P.ABSOLUTE_MAX_PAYLOAD).hex(), v["hex"])

    def test_every_frame_round_trips(self) -> None:
        for codecs in self.each_codec():
            for v in self.frames["valid"]:
                with self.subTest(v["name"], codecs=codecs):
                    fmt = FORMATS[v["format"]]
                    again = P.decode_body(P.encode_body(v["body"], fmt), fmt)
                    self.assertTrue(same(again, v["body"]))

    def test_invalid_headers_are_refused(self) -> None:
        for v in self.frames["invalid_frames"]:
            if v["peers"] != "all":
                continue  # the broker's strict decoder only: a client ignores a frame of an unknown type
            with self.subTest(v["name"]):
                with self.assertRaises(switchboard.SwitchboardError) as cm:
                    header(bytes.fromhex(v["hex"]))
                self.assertEqual(cm.exception.code, v["error"])

    def test_invalid_payloads_are_refused(self) -> None:
        for codecs in self.each_codec():
            for v in self.frames["invalid_payloads"]:
                if v["peers"] != "all":
                    continue
                with self.subTest(v["name"], codecs=codecs):
                    with self.assertRaises(switchboard.SwitchboardError) as cm:
                        P.decode_body(bytes.fromhex(v["payload_hex"]), FORMATS[v["format"]])
                    self.assertEqual(cm.exception.code, v["error"])


class SubjectVectorsTest(unittest.TestCase):
    subjects = load("subjects.json")

    def test_matching(self) -> None:
        self.assertGreaterEqual(len(self.subjects["patterns"]), 8)
        for v in self.subjects["patterns"]:
            self.assertIsNone(P.subject_problem(v["pattern"], True), v["pattern"])
            for s in v["match"]:
                self.assertTrue(P.pattern_matches(v["pattern"], s), f"{v['pattern']} should match {s}")
                self.assertIsNone(P.subject_problem(s, False), s)
            for s in v["no_match"]:
                self.assertFalse(P.pattern_matches(v["pattern"], s), f"{v['pattern']} should not match {s}")

    def test_invalid_patterns_and_subjects(self) -> None:
        for v in self.subjects["invalid_patterns"]:
            p = repeat(v, "pattern")
            self.assertIsNotNone(P.subject_problem(p, True), f"{p!r} ({v['why']})")
            with self.assertRaises(switchboard.InvalidRequest):
                C.check_patterns([p])
        for v in self.subjects["invalid_subjects"]:
            self.assertIsNotNone(P.subject_problem(v["subject"], False), f"{v['subject']!r} ({v['why']})")
        for v in self.subjects["valid_lengths"]:
            self.assertIsNone(P.subject_problem(repeat(v, "pattern"), True))


class ErrorVectorsTest(unittest.TestCase):
    errors = load("errors.json")

    def test_codes_and_classes(self) -> None:
        codes: List[Dict[str, Any]] = self.errors["codes"]
        self.assertEqual(len(codes), 17)
        for v in codes:
            with self.subTest(v["code"]):
                exc = switchboard.error_from_code(v["code"], "m")
                self.assertEqual(type(exc).__name__, v["class"])
                self.assertIs(type(exc), getattr(E, v["class"]))
                self.assertEqual(exc.code, v["code"])
                self.assertEqual(exc.message, "m")

    def test_which_refusals_end_reconnection(self) -> None:
        core = C.Core("t-", P.FORMAT_JSON, P.DEFAULT_MAX_PAYLOAD, lambda data: None)
        for v in self.errors["codes"]:
            with self.subTest(v["code"]):
                reason = switchboard.error_from_code(v["code"], "closing")
                exc = switchboard.ConnectionClosed("closed", reason)
                self.assertEqual(core.reconnects_after(exc, True), v["reconnect"])

    def test_service_defined_codes(self) -> None:
        for v in self.errors["service_defined"]:
            with self.subTest(v["error_code"]):
                exc = switchboard.error_from_code(v["error_code"], v["error"])
                self.assertEqual(type(exc).__name__, v["class"])
                self.assertEqual(exc.code, v["code"])


if __name__ == "__main__":
    unittest.main()
