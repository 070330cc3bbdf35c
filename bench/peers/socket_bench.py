#!/usr/bin/env python3
"""Socket-path benchmark driven from one Python process (standard library only).

Systems, each reached over a Unix socket by the same client code path (a socket, a
reader thread that decodes every reply a recv brought, and for pipelining one buffer written
with one sendall and one waiter per batch):
  switchboard  the real Python client (clients/python) -> gateway -> Java service `bench`
               (opaque Echo over Aeron IPC)
  echo         the same Python client -> bare Java echo server with the same framing (the floor)
  redis        a minimal RESP client written below in the same style (reader thread over a
               256 KiB buffer; a Future per single command; a batch encoded into one buffer,
               one sendall, one waiter, replies matched in order) -> redis-server's Unix socket

Scenarios: closed-loop round trip (one call in flight; p50/p90/p99), pipelined throughput
(requests/s) and pub/sub (publisher and subscriber connections in this process; messages
delivered/s).

Pipelined: batches of `--window` requests (256), one batch in flight at a time: the batch is
encoded into one buffer, written with one sendall, and its replies are awaited by one waiter
(switchboard and echo: Client.request_many; redis: RespClient.command_many); the next batch is
encoded when the previous one is answered. (Two batches in flight from two threads measured no
faster: the Python process is CPU-bound, not waiting.) The rate counts the requests of every
batch completed until `--seconds` have passed, over the time to the end of the last batch.

Payload: {"data": <32 characters>}, JSON-encoded and the reply JSON-decoded by the client on
every path, with the Python client's own JSON functions (switchboard.protocol encode_body /
decode_body) so that Redis is not charged a slower encoder; for Redis the payload is the
argument of ECHO.

Output, one line per figure and repeat, tab-separated, appended to --out:
  socket  python  <system>  <metric>  <repeat>  <value>
metrics: rtt_p50 rtt_p90 rtt_p99 (ns), rtt_count, pipelined_rps, pubsub_rps, pubsub_published_rps
"""

import argparse
import collections
import concurrent.futures
import os
import socket
import sys
import threading
import time

PAYLOAD = {"data": "0123456789abcdef0123456789abcdef"}
SERVICE = "bench"
ECHO = "Echo"


class RespBatch:
    """The replies of one command_many(): filled in order by the reader, one Event to wait on."""

    def __init__(self, n):
        self.results = [None] * n
        self.filled = 0
        self.done = threading.Event()


class RespClient:
    """Minimal Redis client over a Unix socket: RESP2 commands out, replies matched FIFO by a
    reader thread -- to a Future per single command, or to the slots of a batch (one waiter per
    batch); pub/sub messages go to a callback."""

    def __init__(self, path, on_message=None):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.rfile = self.sock.makefile("rb", buffering=256 * 1024)
        self.pending = collections.deque()
        self.lock = threading.Lock()
        self.on_message = on_message
        self.reader = threading.Thread(target=self._read_loop, daemon=True)
        self.reader.start()

    @staticmethod
    def encode(args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            if isinstance(a, str):
                a = a.encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        return b"".join(out)

    def command_future(self, *args):
        fut = concurrent.futures.Future()
        data = self.encode(args)
        with self.lock:
            self.pending.append(fut)
            self.sock.sendall(data)
        return fut

    def command(self, *args):
        return self.command_future(*args).result(30)

    def command_many(self, commands):
        """Send every command (a sequence of argument tuples) with one sendall; return the replies
        in order (an error reply is a RuntimeError instance in its place)."""
        batch = RespBatch(len(commands))
        data = b"".join([self.encode(args) for args in commands])
        with self.lock:
            self.pending.append(batch)
            self.sock.sendall(data)
        if not batch.done.wait(30):
            raise TimeoutError("no complete reply to the batch within 30 s")
        return batch.results

    def _read_reply(self):
        line = self.rfile.readline()
        if not line:
            raise EOFError
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            return RuntimeError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.rfile.read(n + 2)
            return data[:-2]
        if kind == b"*":
            n = int(rest)
            return [self._read_reply() for _ in range(n)] if n >= 0 else None
        raise RuntimeError("bad RESP line %r" % line)

    def _read_loop(self):
        try:
            while True:
                reply = self._read_reply()
                if (self.on_message is not None and isinstance(reply, list) and reply
                        and reply[0] in (b"message", b"pmessage")):
                    self.on_message(reply)
                    continue
                waiter = self.pending[0]
                if type(waiter) is RespBatch:
                    waiter.results[waiter.filled] = reply
                    waiter.filled += 1
                    if waiter.filled == len(waiter.results):
                        self.pending.popleft()
                        waiter.done.set()
                    continue
                self.pending.popleft()
                if isinstance(reply, Exception):
                    waiter.set_exception(reply)
                else:
                    waiter.set_result(reply)
        except (EOFError, OSError, ValueError):
            pass

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


class SwitchboardCalls:
    """Request-response over the real Python client (gateway or bare echo server)."""

    def __init__(self, switchboard, path):
        self.client = switchboard.Client(path)

    def call(self):
        return self.client.request(SERVICE, ECHO, PAYLOAD)

    def call_many(self, n):
        return self.client.request_many(SERVICE, ECHO, [PAYLOAD] * n)

    def close(self):
        self.client.close()


class RedisCalls:
    """Request-response as ECHO over the RESP client, JSON in and out like the gateway path,
    with the Python client's JSON functions."""

    def __init__(self, switchboard, path):
        self.client = RespClient(path)
        self.encode = switchboard.protocol.encode_body
        self.decode = switchboard.protocol.decode_body
        self.json = switchboard.protocol.FORMAT_JSON

    def call(self):
        return self.decode(self.client.command("ECHO", self.encode(PAYLOAD, self.json)), self.json)

    def call_many(self, n):
        fmt = self.json
        replies = self.client.command_many([("ECHO", self.encode(PAYLOAD, fmt)) for _ in range(n)])
        return [r if isinstance(r, Exception) else self.decode(r, fmt) for r in replies]

    def close(self):
        self.client.close()


def percentile(sorted_values, p):
    if not sorted_values:
        return 0
    i = min(len(sorted_values) - 1, max(0, int(round(p / 100.0 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[i]


def round_trip(calls, seconds):
    clock = time.perf_counter_ns
    samples = []
    end = clock() + int(seconds * 1e9)
    while True:
        t0 = clock()
        if t0 >= end:
            break
        reply = calls.call()
        samples.append(clock() - t0)
    if not isinstance(reply, dict) or reply.get("data") != PAYLOAD["data"]:
        raise RuntimeError("unexpected echo reply %r" % (reply,))
    samples.sort()
    return samples


def pipelined(calls, seconds, window):
    """Batches of `window` requests, one in flight at a time, until `seconds` have passed."""
    done = 0
    start = time.perf_counter()
    end = start + seconds
    while True:
        replies = calls.call_many(window)
        done += len(replies)
        if time.perf_counter() >= end:
            break
    elapsed = time.perf_counter() - start
    if len(replies) != window or replies[-1] != PAYLOAD:
        raise RuntimeError("unexpected pipelined reply %r" % (replies[-1:],))
    return done / elapsed


class Counter:
    def __init__(self):
        self.n = 0
        self.last = 0.0

    def hit(self, *_):
        self.n += 1
        self.last = time.perf_counter()


def drain(counter, published, start, timeout=5.0):
    deadline = time.perf_counter() + timeout
    seen = -1
    while counter.n < published and time.perf_counter() < deadline:
        if counter.n == seen:
            time.sleep(0.2)
            if counter.n == seen:
                break
        seen = counter.n
        time.sleep(0.05)
    return counter.n / max(1e-9, (counter.last or time.perf_counter()) - start)


def pubsub_switchboard(switchboard, path, seconds):
    counter = Counter()
    sub = switchboard.Client(path, subscription_queue_size=10_000_000)
    pub = switchboard.Client(path)
    try:
        sub.subscribe("benchps.>", callback=counter.hit)
        published = 0
        start = time.perf_counter()
        end = start + seconds
        while True:
            pub.publish("benchps.t", PAYLOAD, wait=False)
            published += 1
            if (published & 255) == 0 and time.perf_counter() >= end:
                break
        pub_rate = published / (time.perf_counter() - start)
        pub.heartbeat(30)  # everything sent before it has been read by the broker
        return drain(counter, published, start), pub_rate
    finally:
        pub.close()
        sub.close()


def pubsub_redis(switchboard, path, seconds):
    encode, decode, fmt = switchboard.protocol.encode_body, switchboard.protocol.decode_body, switchboard.protocol.FORMAT_JSON
    counter = Counter()
    sub = RespClient(path, on_message=lambda m: (decode(m[-1], fmt), counter.hit()))
    pub = RespClient(path)
    try:
        sub.command("PSUBSCRIBE", "benchps.*")
        published = 0
        last = None
        start = time.perf_counter()
        end = start + seconds
        while True:
            last = pub.command_future("PUBLISH", "benchps.t", encode(PAYLOAD, fmt))
            published += 1
            if (published & 255) == 0 and time.perf_counter() >= end:
                break
        pub_rate = published / (time.perf_counter() - start)
        last.result(30)
        return drain(counter, published, start), pub_rate
    finally:
        pub.close()
        sub.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--system", required=True, choices=["switchboard", "echo", "redis"])
    ap.add_argument("--socket", required=True)
    ap.add_argument("--client-path", default="clients/python")
    ap.add_argument("--seconds", type=float, default=3)
    ap.add_argument("--warmup", type=float, default=1)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--window", type=int, default=256)
    ap.add_argument("--scenarios", default="rtt,pipelined,pubsub")
    ap.add_argument("--out")
    args = ap.parse_args()
    sys.path.insert(0, os.path.abspath(args.client_path))
    import switchboard  # noqa: E402  (the real client, from the repository)

    out = open(args.out, "a") if args.out else sys.stdout

    def emit(metric, repeat, value):
        out.write("socket\tpython\t%s\t%s\t%d\t%s\n" % (args.system, metric, repeat, value))
        out.flush()

    scenarios = args.scenarios.split(",")
    calls = RedisCalls(switchboard, args.socket) if args.system == "redis" else SwitchboardCalls(switchboard, args.socket)
    try:
        if "rtt" in scenarios:
            round_trip(calls, args.warmup)
            for r in range(args.repeats):
                s = round_trip(calls, args.seconds)
                emit("rtt_count", r, len(s))
                for p in (50, 90, 99):
                    emit("rtt_p%d" % p, r, percentile(s, p))
                print("python %-11s round trip #%d: %d calls p50 %.1f us p90 %.1f us p99 %.1f us" % (
                    args.system, r, len(s), percentile(s, 50) / 1e3, percentile(s, 90) / 1e3,
                    percentile(s, 99) / 1e3), file=sys.stderr)
        if "pipelined" in scenarios:
            pipelined(calls, args.warmup, args.window)
            for r in range(args.repeats):
                rate = pipelined(calls, args.seconds, args.window)
                emit("pipelined_rps", r, "%.0f" % rate)
                print("python %-11s pipelined #%d (window %d): %.0f requests/s" % (
                    args.system, r, args.window, rate), file=sys.stderr)
    finally:
        calls.close()
    if "pubsub" in scenarios and args.system != "echo":
        for r in range(args.repeats):
            if args.system == "redis":
                rate, pub_rate = pubsub_redis(switchboard, args.socket, args.seconds)
            else:
                rate, pub_rate = pubsub_switchboard(switchboard, args.socket, args.seconds)
            emit("pubsub_rps", r, "%.0f" % rate)
            emit("pubsub_published_rps", r, "%.0f" % pub_rate)
            print("python %-11s pub/sub 1->1 #%d: published %.0f/s, delivered %.0f/s" % (
                args.system, r, pub_rate, rate), file=sys.stderr)


if __name__ == "__main__":
    main()
