"""Writes frames.json (the frame vectors). The MessagePack bytes come from the Python client's encoder and are
checked independently by the Java codec (SharedVectorsTest): run it after editing a vector below, then run both
suites. Usage: python3 clients/vectors/make_frames.py [OUT]"""
import json, struct, sys
sys.path.insert(0, str(__import__('pathlib').Path(__file__).resolve().parent.parent / 'python'))
from switchboard import protocol as P, msgpack as M

TYPES = {1:"REQUEST",2:"RESPONSE",3:"ERROR",4:"HEARTBEAT",5:"PUSH",6:"SUBSCRIBE",7:"UNSUBSCRIBE",8:"DISCOVER",9:"STREAM",10:"REGISTER",11:"UNREGISTER",12:"PUBLISH",13:"CANCEL",14:"STATS"}
def jb(o): return json.dumps(o, separators=(",",":"), ensure_ascii=False).encode()
def v2(t, fmt, payload): return struct.pack(">IBBB", len(payload), 2, t, fmt) + payload
def v1(t, payload): return struct.pack(">IBB", len(payload), 1, t) + payload
valid = []
def add(name, t, fmt, payload, body, encode, note=None, version=2):
    raw = v2(t, fmt, payload) if version == 2 else v1(t, payload)
    d = {"name": name, "hex": raw.hex(), "version": version, "type": TYPES[t], "format": "json" if fmt == 1 else "msgpack",
         "payload_hex": payload.hex(), "body": body, "encode": encode}
    if note: d["note"] = note
    valid.append(d)

req = {"correlation_id":"py-1","target":"calculator","message_type":"Add","payload":{"a":2,"b":3},"expects_reply":True,"expects_stream":False,"response_timeout_ms":30000}
add("json request", 1, 1, jb(req), req, "exact")
resp = {"correlation_id":"c-7","success":True,"payload":{"text":"é € \"q\" \\ \n\t","list":[1,-2,2.5,None,True,False,[],{}]}}
add("json response with non-ASCII text and escapes", 2, 1, jb(resp), resp, "exact", "characters of the Basic Multilingual Plane are written as UTF-8, not escaped; newline, tab, quote and backslash are escaped")
emoji = {"correlation_id":"c-8","success":True,"payload":"😀"}
add("json text outside the Basic Multilingual Plane", 2, 1, jb(emoji), emoji, "decode", "encoders differ and both are valid JSON: Python writes the 4 UTF-8 bytes, Jackson the escapes \\ud83d\\ude00")
emoji_esc = b'{"correlation_id":"c-9","success":true,"payload":"\\ud83d\\ude00"}'
add("json surrogate pair escape", 2, 1, emoji_esc, {"correlation_id":"c-9","success":True,"payload":"😀"}, "decode")
add("json heartbeat, empty object", 4, 1, b"{}", {}, "exact")
err = {"correlation_id":"","success":False,"error":"peer runs as another user, one not allowed","error_code":"FORBIDDEN"}
add("json connection-level error (empty correlation id)", 3, 1, jb(err), err, "exact")
push = {"message_type":"prices.eu.acme","payload":{"price":101.25},"notification_id":"n-1","timestamp_ms":1700000000000,"sequence":3}
add("json push", 5, 1, jb(push), push, "exact")
st = {"correlation_id":"s-1","sequence":2,"is_final":True,"error":"stream cancelled","error_code":"CANCELLED"}
add("json final stream frame with an error", 9, 1, jb(st), st, "exact")
v1body = {"correlation_id":"old-1","success":True,"payload":"v1"}
add("version 1 frame: 6-byte header, no format byte, JSON", 2, 1, jb(v1body), v1body, "decode", "clients write version 2 only", version=1)
ws = b' {"a" : [1, 2] }\n'
add("json with insignificant whitespace", 2, 1, ws, {"a":[1,2]}, "decode")
deep = {"d": 0}
for i in range(1, 30): deep = {"d": deep}
add("json nested 30 objects deep", 2, 1, jb(deep), deep, "exact")
mreq = {"correlation_id":"py-2","target":"calculator","message_type":"Add","payload":{"a":40,"b":2},"expects_reply":True,"expects_stream":False,"response_timeout_ms":30000}
add("msgpack request", 1, 2, M.packb(mreq), mreq, "exact")
mvals = {"nil":None,"t":True,"f":False,"pos":127,"neg":-32,"u8":200,"u16":60000,"u32":4000000000,"i8":-100,"i16":-30000,"i32":-2000000000,"i64":-9000000000000000000,"u64":18446744073709551615,"f64":-2.5,"str":"é€😀"}
add("msgpack scalars: every integer width, float64, UTF-8 text", 2, 2, M.packb({"correlation_id":"m-1","success":True,"payload":mvals}), {"correlation_id":"m-1","success":True,"payload":mvals}, "exact", "integers in the smallest encoding; floats as float64")
long = {"s40": "x"*40, "a20": list(range(20)), "m20": {f"k{i:02d}": i for i in range(20)}, "s300": "y"*300}
add("msgpack str8, str16, array16, map16", 2, 2, M.packb({"correlation_id":"m-2","payload":long}), {"correlation_id":"m-2","payload":long}, "exact")
f32 = bytes([0x82, 0xa1, 0x66, 0xca]) + struct.pack(">f", 1.5) + bytes([0xa1, 0x6e, 0xc0])
add("msgpack float32 on input", 2, 2, f32, {"f":1.5,"n":None}, "decode", "encoders write float64")

invalid = []
def bad(name, raw, code, stage, peers, note=None):
    d = {"name": name, "hex": raw.hex(), "error": code, "stage": stage, "peers": peers}
    if note: d["note"] = note
    invalid.append(d)
bad("unsupported version 7", struct.pack(">IBBB", 2, 7, 2, 1) + b"{}", "PROTOCOL_ERROR", "header", "all")
bad("version 0", struct.pack(">IBBB", 2, 0, 2, 1) + b"{}", "PROTOCOL_ERROR", "header", "all")
bad("unknown frame type 0x00", struct.pack(">IBBB", 2, 2, 0, 1) + b"{}", "PROTOCOL_ERROR", "header", "broker", "clients ignore frames of types they do not know")
bad("unknown frame type 0x0f", struct.pack(">IBBB", 2, 2, 0x0f, 1) + b"{}", "PROTOCOL_ERROR", "header", "broker", "clients ignore frames of types they do not know")
bad("unknown format 0x03", struct.pack(">IBBB", 2, 2, 2, 3) + b"{}", "PROTOCOL_ERROR", "header", "all")
bad("length over the 16 MiB limit", struct.pack(">IBBB", 16*1024*1024+1, 2, 2, 1), "PAYLOAD_TOO_LARGE", "header", "all", "refused from the header alone, before any payload byte")
invalid_payloads = []
def badp(name, fmt, payload, peers, note=None):
    d = {"name": name, "format": fmt, "payload_hex": payload.hex(), "error": "SERIALIZATION_ERROR", "peers": peers}
    if note: d["note"] = note
    invalid_payloads.append(d)
badp("json syntax error", "json", b'{"a":}', "all")
badp("json trailing bytes", "json", b'{"a":1} x', "all")
badp("json two documents", "json", b'{}{}', "all")
badp("json invalid UTF-8 (lone continuation byte)", "json", b'{"a":"\x80"}', "all")
badp("json overlong UTF-8 for '/'", "json", b'{"a":"\xc0\xaf"}', "all")
badp("json escaped lone surrogate", "json", b'{"a":"\\ud800"}', "broker", "Python's json module accepts it")
badp("empty payload", "json", b'', "broker", "clients read an empty payload as no body (null)")
badp("msgpack truncated map", "msgpack", bytes([0x82, 0xa1, 0x61, 0x01]), "all")
badp("msgpack trailing bytes", "msgpack", bytes([0x80, 0xc0]), "all")
badp("msgpack str with invalid UTF-8", "msgpack", bytes([0x81, 0xa1, 0x61, 0xa1, 0xff]), "all")
badp("msgpack reserved byte 0xc1", "msgpack", bytes([0xc1]), "all")
badp("msgpack ext type", "msgpack", bytes([0xd4, 0x01, 0x00]), "broker", "the broker refuses extension types; a client may decode them")
badp("msgpack str32 promising 4 GiB", "msgpack", bytes([0xdb, 0xff, 0xff, 0xff, 0xff]), "all", "nothing is allocated for the promised length")
json.dump({"valid": valid, "invalid_frames": invalid, "invalid_payloads": invalid_payloads}, open(sys.argv[1] if len(sys.argv) > 1 else str(__import__("pathlib").Path(__file__).resolve().parent / "frames.json"), "w"), indent=1, ensure_ascii=False)
