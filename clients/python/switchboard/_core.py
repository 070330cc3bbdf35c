"""The protocol state of one client, shared by :class:`switchboard.Client` and
:class:`switchboard.AsyncClient` ("sans-IO": no socket, no thread, no event loop).

It holds the pending calls and decides their outcomes, demultiplexes PUSH frames to subscriptions
and counts sequence gaps, keeps the served services and the requests being served, shapes replies
(value, generator items, error, final stream frame) into encoded frames, fails everything in flight
when a connection ends, and plans what to send again after a reconnect. The two clients keep only
their I/O: how they read, write, wait and run handlers.

Thread safety: every change of state is made under ``lock`` (a ``threading.RLock`` for the
thread-based client, a no-op for the asyncio one); outcomes are handed to futures, streams and
subscriptions after the lock is released.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import random
from typing import (Any, Callable, ContextManager, Dict, Iterable, Iterator, List, Optional, Protocol, Sequence,
                    Tuple, Union)

from . import protocol as P
from .errors import (ConnectionClosed, Forbidden, RequestTimeout, SwitchboardError, UnsupportedProtocolVersion,
                     error_from_code)
from .protocol import Notification

log = logging.getLogger("switchboard")

#: a batch slot not answered yet
UNSET: Any = object()
#: end-of-queue marker of a subscription
END: Any = object()

#: frames to write: (frame type, body, format)
Reply = Tuple[int, Dict[str, Any], int]


class FutureLike(Protocol):
    """What a pending call's outcome needs: ``concurrent.futures.Future`` and ``asyncio.Future`` both fit."""

    def done(self) -> bool: ...

    def set_result(self, result: Any, /) -> None: ...

    def set_exception(self, exception: BaseException, /) -> None: ...


class Event(Protocol):
    """``threading.Event`` or ``asyncio.Event``."""

    def set(self) -> None: ...

    def is_set(self) -> bool: ...


def outcome(frame_type: int, body: Dict[str, Any]) -> Tuple[bool, Any]:
    """``(ok, value)`` of a RESPONSE or ERROR body: the payload, or the exception for its code."""
    if frame_type == P.ERROR or body.get("success") is False:
        return False, error_from_code(body.get("error_code"), body.get("error"))
    return True, body.get("payload")


def strip(body: Dict[str, Any]) -> Dict[str, Any]:
    """A control reply without its envelope fields."""
    return {k: v for k, v in body.items() if k not in ("correlation_id", "success")}


class Call:
    """A pending call answered by one RESPONSE or ERROR: ``kind`` "payload" gives the payload,
    "body" the whole body."""

    __slots__ = ("future", "kind", "correlation_id", "deadline")

    def __init__(self, future: FutureLike, kind: str, correlation_id: str, deadline: float):
        self.future = future
        self.kind = kind
        self.correlation_id = correlation_id
        self.deadline = deadline

    def resolve(self, frame_type: int, body: Dict[str, Any]) -> None:
        if self.future.done():
            return
        ok, value = outcome(frame_type, body)
        if not ok:
            self.future.set_exception(value)
        else:
            self.future.set_result(value if self.kind == "payload" else body)

    def fail(self, exc: BaseException) -> None:
        if not self.future.done():
            self.future.set_exception(exc)


class BatchSlots:
    """The slots of one ``request_many()``; subclasses add how the caller waits (``_wake``)."""

    __slots__ = ("results", "outstanding", "_wake_at")

    def __init__(self, n: int):
        self.results: List[Any] = [UNSET] * n
        self.outstanding = 0  # written (or about to be) and not answered yet
        self._wake_at = -1

    def _fill(self, indexes: Sequence[int], values: Sequence[Any]) -> bool:
        """Fill slots; True if the caller waits for this level and is to be woken."""
        results = self.results
        for i, v in zip(indexes, values, strict=True):
            results[i] = v
        self.outstanding -= len(indexes)
        if self.outstanding <= self._wake_at:
            self._wake_at = -1
            return True
        return False

    def settle_many(self, indexes: Sequence[int], values: Sequence[Any]) -> None:
        raise NotImplementedError

    def settle(self, index: int, value: Any) -> None:
        self.settle_many((index,), (value,))


class BatchCall:
    """One request of a batch in the pending map: settles its slot."""

    __slots__ = ("batch", "index")

    def __init__(self, batch: BatchSlots, index: int):
        self.batch = batch
        self.index = index

    def resolve(self, frame_type: int, body: Dict[str, Any]) -> None:
        self.batch.settle(self.index, outcome(frame_type, body)[1])

    def fail(self, exc: BaseException) -> None:
        self.batch.settle(self.index, exc)


class StreamState:
    """What a request-stream call knows, whatever waits on it; subclasses hold the queue."""

    def __init__(self, client: Any, correlation_id: str, idle_timeout: float, finished: Event, frames: Any):
        self._client = client
        self._queue = frames  # an unbounded queue.Queue or asyncio.Queue of frame bodies and errors
        self.correlation_id = correlation_id
        self._idle_timeout = idle_timeout
        self._done = False
        self._cancelled = False
        self._finished = finished
        #: payloads received so far
        self.received = 0
        #: error code of the final frame (None: ended normally or not yet)
        self.final_code: Optional[str] = None
        self.final_sequence: Optional[int] = None

    def _queue_put(self, item: Any) -> None:
        self._queue.put_nowait(item)

    def _on_frame(self, body: Dict[str, Any]) -> None:
        """Queue one STREAM frame (called with the final one at most once)."""
        final = bool(body.get("is_final"))
        if final:
            self.final_code = body.get("error_code") or (None if not body.get("error") else "INTERNAL_ERROR")
            self.final_sequence = body.get("sequence")
        self._queue_put(body)
        if final:
            self._finished.set()

    def _fail(self, exc: BaseException) -> None:
        self._queue_put(exc)
        self._finished.set()

    def _idle(self) -> RequestTimeout:
        """No frame within the idle timeout: the stream is given up and the broker told."""
        self._done = True
        self._client._core.forget(self.correlation_id)
        self._client._send_quiet(P.CANCEL, {"correlation_id": self.correlation_id})
        return RequestTimeout(f"no stream frame within {self._idle_timeout:.1f} s (client-side deadline)",
                              client_side=True)

    def _take(self, item: Any) -> Tuple[bool, Any]:
        """``(more, payload)`` for one queued item; raises the stream's error."""
        if isinstance(item, BaseException):
            self._done = True
            raise item
        if item.get("is_final"):
            self._done = True
            if item.get("error") or item.get("error_code"):
                raise error_from_code(item.get("error_code"), item.get("error"))
            return False, None
        self.received += 1
        return True, item.get("payload")

    def cancel(self) -> None:
        """Send CANCEL for this stream and stop iterating. The broker's final frame (code
        CANCELLED) is awaited with ``wait_closed()``."""
        if self._done or self._cancelled:
            self._done = True
            return
        self._cancelled = True
        self._done = True
        self._client._send_quiet(P.CANCEL, {"correlation_id": self.correlation_id})

    @property
    def cancelled(self) -> bool:
        return self._cancelled


class SubscriptionState:
    """What a subscription knows, whatever waits on it; subclasses hold the bounded queue."""

    def __init__(self, client: Any, patterns: Sequence[str], callback: Optional[Callable[[Notification], Any]]):
        self._client = client
        self.patterns = tuple(patterns)
        #: notifications dropped locally because the queue was full
        self.dropped = 0
        #: notifications the broker dropped on this connection while this subscription was active
        self.lost = 0
        #: how many times the connection dropped while this subscription was active
        self.interruptions = 0
        self.subscribed_types: List[str] = []
        self._active = True
        self._end_exc: Optional[BaseException] = None
        self._ended = False
        self._callback = callback

    #: the bounded queue (``queue.Queue`` or ``asyncio.Queue``), its Full and Empty exceptions, and
    #: the lock that makes dropping the oldest and adding one step (a no-op for asyncio)
    _queue: Any
    _full: type[BaseException]
    _empty: type[BaseException]
    _put_lock: ContextManager[Any] = contextlib.nullcontext()

    def _put(self, item: Any) -> None:
        """Queue ``item``; when the queue is full the oldest notification is dropped and counted."""
        with self._put_lock:
            while True:
                try:
                    self._queue.put_nowait(item)
                    return
                except self._full:
                    try:
                        self._queue.get_nowait()
                        if item is not END:
                            self.dropped += 1
                    except self._empty:
                        pass

    def _requeue_end(self) -> None:
        raise NotImplementedError

    def _matches(self, subject: str) -> bool:
        return self._active and P.any_matches(self.patterns, subject)

    def _interrupt(self, exc: ConnectionClosed) -> None:
        """The connection dropped and the client reconnects: ``get()`` raises ``exc`` once, in order
        with the notifications, then continues with what arrives after the reconnect."""
        self.interruptions += 1
        self._put(exc)

    def _end(self, exc: Optional[BaseException] = None) -> None:
        if self._ended:
            return
        self._ended = True
        self._active = False
        self._end_exc = exc
        self._put(END)

    def _take(self, item: Any) -> Notification:
        if item is END:
            self._requeue_end()  # keep the marker for other readers
            if self._end_exc is not None:
                raise self._end_exc
            raise EOFError("subscription ended")
        if isinstance(item, BaseException):
            raise item
        note: Notification = item
        return note

    def _keeps_going(self, exc: SwitchboardError) -> bool:
        """For a callback loop: whether ``get()``'s error leaves the subscription running (a dropped
        connection that the client reconnects)."""
        return isinstance(exc, ConnectionClosed) and not self._ended

    @property
    def active(self) -> bool:
        return self._active


class RequestState:
    """A request forwarded by the broker to a service served by this client."""

    def __init__(self, body: Dict[str, Any], fmt: int, cancelled: Event):
        self.raw = body
        self.format = fmt
        self.correlation_id: str = body.get("correlation_id", "")
        self.service: str = body.get("target", "")
        self.message_type: str = body.get("message_type", "")
        self.payload: Any = body.get("payload")
        self.expects_reply: bool = bool(body.get("expects_reply", False))
        self.expects_stream: bool = bool(body.get("expects_stream", False))
        self.response_timeout_ms: int = body.get("response_timeout_ms", 30000)
        self._cancelled = cancelled

    @property
    def cancelled(self) -> bool:
        """True once the broker sent CANCEL for this request (or the connection dropped)."""
        return self._cancelled.is_set()

    @property
    def answers(self) -> bool:
        """Whether the caller waits for an answer."""
        return self.expects_reply or self.expects_stream

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.service!r}, {self.message_type!r}, correlation_id={self.correlation_id!r})"


class Registration:
    """Handle of a service served by this client (``serve()``)."""

    def __init__(self, client: Any, service: str, handler: Callable[..., Any], message_types: Optional[List[str]],
                 mode: str):
        self._client = client
        self.service = service
        self.handler = handler
        self.message_types = message_types
        self.mode = mode

    def body(self) -> Dict[str, Any]:
        """The REGISTER body."""
        body: Dict[str, Any] = {"service": self.service, "mode": self.mode}
        if self.message_types is not None:
            body["message_types"] = self.message_types
        return body

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.service!r}, mode={self.mode!r})"


class RestoreStep:
    """One control call to send again after a reconnect."""

    def __init__(self, core: "Core", frame_type: int, body: Dict[str, Any], what: str):
        self._core = core
        self.frame_type = frame_type
        self.body = body
        self.what = what

    def done(self, reply: Dict[str, Any]) -> None:
        if self.frame_type == P.SUBSCRIBE:
            self._core.subscribed_types = list(reply.get("subscribed_types") or [])

    def failed(self, exc: SwitchboardError) -> None:
        self._core.restore_ok = False
        log.error("switchboard: %s after reconnect failed: %s", self.what, exc)


class Backoff:
    """Reconnection delays: exponential, each jittered to 50-100 %."""

    def __init__(self, first: float, most: float):
        self._delay = first
        self._most = max(first, most)

    def next(self) -> float:
        wait = self._delay * random.uniform(0.5, 1.0)
        self._delay = min(self._delay * 2, self._most)
        return wait


def check_mode(mode: str) -> None:
    if mode not in ("exclusive", "shared"):
        raise ValueError(f"mode must be 'exclusive' or 'shared', not {mode!r}")


def check_patterns(patterns: Union[str, Iterable[str]]) -> List[str]:
    """The patterns of a SUBSCRIBE as a list; an invalid one is refused here, as the broker would
    (INVALID_REQUEST), before anything is sent."""
    pats = [patterns] if isinstance(patterns, str) else list(patterns)
    if not pats:
        raise ValueError("at least one pattern is needed")
    for p in pats:
        problem = P.subject_problem(p, True) if isinstance(p, str) else f"not a string: {type(p).__name__}"
        if problem is not None:
            raise error_from_code("INVALID_REQUEST", f"invalid pattern {p!r}: {problem}")
    return pats


class Core:
    """The protocol state of one client (see the module's documentation)."""

    def __init__(self, prefix: str, fmt: int, max_payload: int, write: Callable[[bytes], Any],
                 lock: Optional[ContextManager[Any]] = None):
        self.lock: ContextManager[Any] = lock if lock is not None else contextlib.nullcontext()
        self.prefix = prefix
        self.format = fmt
        self.max_payload = max_payload
        self._write = write  # writes encoded frames now (by the client's send timeout) or raises
        self.ids: Iterator[int] = itertools.count(1)
        self.pending: Dict[str, Any] = {}  # correlation id -> Call | BatchCall | StreamState
        self.subs: List[SubscriptionState] = []
        self.services: Dict[str, Registration] = {}
        self.served: Dict[str, RequestState] = {}
        self.heartbeat_waiters: List[FutureLike] = []
        self.push_seq = P.PushSequence()
        self.subscribed_types: List[str] = []
        self.serving = False  # a serve() was called: requests are handed to the client's handlers
        # connection state
        self.started = False
        self.connected = False
        self.closing = False
        self.closed = False
        self.closed_exc: Optional[ConnectionClosed] = None
        self.close_reason: Optional[SwitchboardError] = None  # the ERROR the broker sent before closing
        self.abandoned: Optional[str] = None  # why this client closed its connection mid-frame
        self.connection_number = 1  # counts reconnects: a batch is written on one connection only
        self.restore_ok = True

    # ------------------------------------------------------------ outgoing
    def next_id(self) -> str:
        return f"{self.prefix}{next(self.ids)}"

    def encode(self, frame_type: int, body: Any, fmt: Optional[int] = None) -> bytes:
        return P.encode_frame(frame_type, body, self.format if fmt is None else fmt, self.max_payload)

    def send_quiet(self, frame_type: int, body: Any, fmt: Optional[int] = None) -> None:
        try:
            data = self.encode(frame_type, body, fmt)
        except SwitchboardError as exc:
            log.debug("dropped frame 0x%02x: %s", frame_type, exc)
            return
        self.write_quiet(data)

    def write_quiet(self, data: bytes) -> None:
        """Write frames that belong to no caller (replies of served requests, heartbeat answers): a
        failure is logged, not raised (the connection's end is reported by the reader)."""
        if data:
            try:
                self._write(data)
            except SwitchboardError as exc:
                log.debug("dropped %d bytes of frames: %s", len(data), exc)

    def check_open(self) -> None:
        if not self.started:
            raise ConnectionClosed("not connected: call connect() or use 'async with'",
                                   cause=ConnectionClosed.NEVER_OPENED)
        if self.closed or self.closing:
            raise self.closed_exc or ConnectionClosed("client closed", cause=ConnectionClosed.BY_CLIENT)
        if not self.connected:  # reconnecting: fail fast, nothing is queued
            raise ConnectionClosed(f"not connected to the broker (reconnecting): {self.closed_exc}",
                                   self.closed_exc.reason if self.closed_exc else None,
                                   cause=ConnectionClosed.RECONNECTING)

    def writable(self) -> None:
        """Raise if nothing may be written now (closed, or between connections)."""
        if self.closed or not self.connected:
            raise self.closed_exc or ConnectionClosed(cause=ConnectionClosed.RECONNECTING)

    def start_call(self, future: FutureLike, kind: str, frame_type: int, body: Dict[str, Any],
                   deadline: float) -> Tuple[Call, bytes]:
        """Register a call and return it with its encoded frame (nothing registered if encoding fails)."""
        cid = self.next_id()
        body["correlation_id"] = cid
        data = self.encode(frame_type, body)
        call = Call(future, kind, cid, deadline)
        with self.lock:
            self.check_open()
            self.pending[cid] = call
        return call, data

    def open_stream(self, stream: StreamState, body: Dict[str, Any]) -> bytes:
        body["correlation_id"] = stream.correlation_id
        data = self.encode(P.REQUEST, body)
        with self.lock:
            self.check_open()
            self.pending[stream.correlation_id] = stream
        return data

    def forget(self, correlation_id: str) -> None:
        with self.lock:
            self.pending.pop(correlation_id, None)

    def expire(self, call: Call, timeout: Optional[float]) -> RequestTimeout:
        """The caller's deadline passed: the call fails with a client-side RequestTimeout unless its
        answer (the broker's own TIMEOUT included) arrived first."""
        with self.lock:
            if self.pending.get(call.correlation_id) is call:
                del self.pending[call.correlation_id]
        within = f"within {timeout:.1f} s" if timeout is not None else "by the deadline"
        err = RequestTimeout(f"no answer {within} (client-side deadline)", client_side=True)
        call.fail(err)
        return err

    @staticmethod
    def envelope(target: str, message_type: str, payload: Any, timeout: float, expects_reply: bool,
                 expects_stream: bool) -> Dict[str, Any]:
        return {"target": target, "message_type": message_type, "payload": payload, "expects_reply": expects_reply,
                "expects_stream": expects_stream, "response_timeout_ms": P.timeout_ms(timeout)}

    @staticmethod
    def publish_body(subject: str, payload: Any, retain: bool) -> Dict[str, Any]:
        body: Dict[str, Any] = {"message_type": subject, "payload": payload}
        if retain:
            body["retain"] = True
        return body

    @staticmethod
    def discover_body(include_actors: bool, include_message_types: bool, describe: bool) -> Dict[str, Any]:
        return {"include_actors": include_actors, "include_message_types": include_message_types or describe}

    @staticmethod
    def stats_of(body: Dict[str, Any]) -> Dict[str, Any]:
        payload = body.get("payload")
        return payload if isinstance(payload, dict) else strip(body)

    # ---------------------------------------------------------- subscriptions
    def add_subscription(self, sub: SubscriptionState) -> None:
        with self.lock:
            self.check_open()
            self.subs.append(sub)  # before SUBSCRIBE: retained messages may arrive before the reply

    def subscribed(self, sub: SubscriptionState, reply: Optional[Dict[str, Any]]) -> None:
        """SUBSCRIBE answered (``reply``) or failed (None)."""
        if reply is None:
            with self.lock:
                if sub in self.subs:
                    self.subs.remove(sub)
            sub._end()
            return
        sub.subscribed_types = list(reply.get("subscribed_types") or [])
        self.subscribed_types = list(sub.subscribed_types)

    def remove_subscription(self, sub: Optional[SubscriptionState]) -> Optional[List[str]]:
        """End ``sub`` (None: every subscription); return the patterns to UNSUBSCRIBE (an empty
        list: all of them) or None when the broker need not be told."""
        with self.lock:
            if sub is None:
                ending = list(self.subs)
                self.subs.clear()
                remove: Optional[List[str]] = []
            elif sub not in self.subs:
                return None
            else:
                ending = [sub]
                self.subs.remove(sub)
                still = {p for s in self.subs for p in s.patterns}
                remove = [p for p in dict.fromkeys(sub.patterns) if p not in still] or None
        for s in ending:
            s._end()
        return remove

    def unsubscribed(self, reply: Dict[str, Any]) -> List[str]:
        self.subscribed_types = list(reply.get("subscribed_types") or [])
        return list(self.subscribed_types)

    # ------------------------------------------------------------ services
    def add_service(self, reg: Registration) -> None:
        with self.lock:
            self.check_open()
            if reg.service in self.services:
                raise ValueError(f"service {reg.service!r} is already served by this client")
            self.services[reg.service] = reg
            self.serving = True

    def drop_service(self, service: str) -> bool:
        with self.lock:
            return self.services.pop(service, None) is not None

    def handler_of(self, req: RequestState) -> Callable[..., Any]:
        reg = self.services.get(req.service)
        if reg is None:
            raise error_from_code("ACTOR_NOT_FOUND", f"service {req.service!r} is not served here")
        return reg.handler

    def served_done(self, req: RequestState) -> None:
        with self.lock:
            self.served.pop(req.correlation_id, None)

    # ------------------------------------------------------------ replies
    def reply_frames(self, req: RequestState, result: Any) -> bytes:
        """The encoded answer to ``req`` for a handler's plain result (b"" when none is due): a
        RESPONSE, or for a stream request one item and the final frame. A result that cannot be
        encoded is answered with its error instead."""
        if req.cancelled or not req.answers:
            return b""
        cid = req.correlation_id
        try:
            if req.expects_stream:
                return (self.encode(P.STREAM, {"correlation_id": cid, "sequence": 0, "is_final": False,
                                               "payload": result}, req.format)
                        + self.stream_end(req, 1))
            return self.encode(P.RESPONSE, {"correlation_id": cid, "success": True, "payload": result}, req.format)
        except SwitchboardError as exc:  # not serialisable, too large
            return self.error_frames(req, exc)

    def error_frames(self, req: RequestState, exc: BaseException, sequence: int = 0) -> bytes:
        """The encoded error answer to ``req`` (b"" when none is due): an ERROR, or a final STREAM frame
        numbered ``sequence``. A handler's own exception (not a SwitchboardError) is logged."""
        if not isinstance(exc, SwitchboardError):
            log.error("handler of %s failed", req.service, exc_info=exc)
        if req.cancelled or not req.answers:
            return b""
        err: Dict[str, Any] = P.error_body(req.correlation_id, exc)
        if req.expects_stream:
            err.pop("success")
            err.update(sequence=sequence, is_final=True)
            return self.encode(P.STREAM, err, req.format)
        return self.encode(P.ERROR, err, req.format)

    def stream_failure(self, req: RequestState, exc: BaseException, sequence: int) -> bytes:
        """What to send when a stream handler's generator failed with ``exc`` after ``sequence``
        items: its error as the final frame, or nothing when sending itself failed."""
        if isinstance(exc, (ConnectionClosed, RequestTimeout)):
            return b""
        return self.error_frames(req, exc, sequence)

    def stream_item(self, req: RequestState, sequence: int, item: Any) -> bytes:
        """One STREAM item (raises SerializationError / PayloadTooLarge for an item that cannot be sent)."""
        return self.encode(P.STREAM, {"correlation_id": req.correlation_id, "sequence": sequence, "is_final": False,
                                      "payload": item}, req.format)

    def stream_end(self, req: RequestState, sequence: int) -> bytes:
        if req.cancelled:
            return b""
        return self.encode(P.STREAM, {"correlation_id": req.correlation_id, "sequence": sequence, "is_final": True},
                           req.format)

    # ------------------------------------------------------------ incoming
    def receive(self, frame_type: int, fmt: int, body: Any,
                make_request: Callable[[Dict[str, Any], int], RequestState]) -> Optional[RequestState]:
        """Take one decoded frame from the broker; return a request for the client to serve, if any."""
        if not isinstance(body, dict):
            if frame_type != P.HEARTBEAT:
                log.warning("frame 0x%02x with a non-object body ignored", frame_type)
                return None
            body = {}
        if frame_type == P.RESPONSE or frame_type == P.ERROR:
            cid = body.get("correlation_id")
            if not cid:
                self._connection_notice(frame_type, body)
            elif isinstance(cid, str):
                self.answer([(frame_type, body)])
        elif frame_type == P.STREAM:
            cid = body.get("correlation_id")
            with self.lock:
                st = self.pending.get(cid) if isinstance(cid, str) else None
                if isinstance(st, StreamState) and body.get("is_final"):
                    del self.pending[cid]
            if isinstance(st, StreamState):
                st._on_frame(body)
        elif frame_type == P.PUSH:
            # One PUSH per publication per connection: every local subscription whose patterns match
            # the subject gets it; a sequence gap is counted against every active one.
            with self.lock:
                gap = self.push_seq.observe(body.get("sequence"))
                active = [s for s in self.subs if s._active]
            note = Notification.from_body(body, gap)
            for s in active:
                if gap:
                    s.lost += gap
                if P.any_matches(s.patterns, note.subject):
                    s._put(note)
        elif frame_type == P.HEARTBEAT:
            with self.lock:
                waiters = list(self.heartbeat_waiters)
                self.heartbeat_waiters.clear()
            for w in waiters:
                if not w.done():
                    w.set_result(None)
            if not waiters:
                self.send_quiet(P.HEARTBEAT, {}, P.FORMAT_JSON)
        elif frame_type == P.REQUEST:
            req = make_request(body, fmt)
            with self.lock:
                accept = self.serving and not self.closing
                if accept:
                    self.served[req.correlation_id] = req
            if accept:
                return req
            if req.answers:
                refusal = error_from_code("ACTOR_NOT_FOUND",
                                          f"nothing is served on this connection for {req.service!r}")
                self.write_quiet(self.error_frames(req, refusal))
        elif frame_type == P.CANCEL:
            with self.lock:
                cid = body.get("correlation_id")
                served = self.served.get(cid) if isinstance(cid, str) else None
            if served is not None:
                served._cancelled.set()
        else:
            log.debug("ignored frame type 0x%02x", frame_type)
        return None

    def _connection_notice(self, frame_type: int, body: Dict[str, Any]) -> None:
        """A RESPONSE or ERROR without correlation id: about the connection itself."""
        if frame_type == P.ERROR:
            self.close_reason = error_from_code(body.get("error_code"), body.get("error"))
            log.warning("broker error on the connection: %s", self.close_reason)
        elif P.is_loss_notice(body):
            # pushes dropped at the tail of the stream: counted now, not at the next PUSH
            with self.lock:
                gap = self.push_seq.notice(body.get("sequence"))
                active = [s for s in self.subs if s._active]
            for s in active:
                s.lost += gap

    def answer(self, replies: List[Tuple[int, Dict[str, Any]]]) -> None:
        """Hand RESPONSE / ERROR frames, ``(type, body)`` with a string correlation id each, to their
        calls: one acquisition of the lock for all of them, and one settlement of a batch for each
        run of replies to the same batch."""
        with self.lock:
            pop = self.pending.pop
            calls = [pop(body["correlation_id"], None) for _, body in replies]
        batch: Optional[BatchSlots] = None
        indexes: List[int] = []
        values: List[Any] = []
        for (frame_type, body), call in zip(replies, calls, strict=True):
            if call is None:  # already answered, timed out or forgotten
                continue
            try:
                if type(call) is BatchCall:
                    if call.batch is not batch:
                        if batch is not None and indexes:
                            batch.settle_many(indexes, values)
                            indexes, values = [], []
                        batch = call.batch
                    indexes.append(call.index)
                    values.append(outcome(frame_type, body)[1])
                elif isinstance(call, StreamState):
                    # a bare answer to a stream request ends the stream: its error, or nothing more
                    final = dict(body, is_final=True)
                    if frame_type == P.RESPONSE and not body.get("error_code"):
                        final.pop("error", None)
                    call._on_frame(final)
                else:
                    call.resolve(frame_type, body)
            except Exception:
                log.exception("error dispatching frame 0x%02x", frame_type)
        if batch is not None and indexes:
            batch.settle_many(indexes, values)

    # ------------------------------------------------------------ connection ends
    def connection_end(self, error: Optional[BaseException]) -> ConnectionClosed:
        """The exception for the end of the current connection: ``error`` is what reading raised
        (None: end of stream)."""
        reason = self.close_reason
        if self.closing:
            return ConnectionClosed("client closed", reason, cause=ConnectionClosed.BY_CLIENT)
        if isinstance(error, SwitchboardError):
            return ConnectionClosed(f"protocol broken: {error}", error, cause=ConnectionClosed.PROTOCOL)
        if self.abandoned is not None:
            return ConnectionClosed(self.abandoned, RequestTimeout(self.abandoned, client_side=True),
                                    cause=ConnectionClosed.ABANDONED)
        if reason is not None:
            return self._closed_by_broker(reason)
        if error is not None:
            return ConnectionClosed(f"connection lost: {error}", cause=ConnectionClosed.LOST)
        return ConnectionClosed("connection closed by broker", cause=ConnectionClosed.BY_BROKER)

    @staticmethod
    def _closed_by_broker(reason: SwitchboardError) -> ConnectionClosed:
        return ConnectionClosed(f"connection closed by broker after {reason}", reason, cause=ConnectionClosed.BY_BROKER)

    def write_failed(self, error: BaseException) -> ConnectionClosed:
        """The exception for a write the broker's end refused (broken pipe, reset): the broker's own word
        (FORBIDDEN, CONNECTION_LIMIT_REACHED...) when its last frame said why, else the failure. The I/O
        layer first gives the reader a moment to read that frame."""
        reason = self.close_reason
        if reason is None and self.closed_exc is not None:
            reason = self.closed_exc.reason
        if reason is not None:
            return self._closed_by_broker(reason)
        return ConnectionClosed(f"send failed: {error}", cause=ConnectionClosed.LOST)

    def reconnects_after(self, exc: ConnectionClosed, reconnect: bool) -> bool:
        """Whether the client reconnects after the connection ended with ``exc``: not when closed,
        not when told not to, and not when the broker refused this client for good."""
        return not self.closing and reconnect and not isinstance(exc.reason, (Forbidden, UnsupportedProtocolVersion))

    def _take_in_flight(self) -> Tuple[List[Any], List[FutureLike], List[RequestState]]:
        pending = list(self.pending.values())
        self.pending.clear()
        waiters = list(self.heartbeat_waiters)
        self.heartbeat_waiters.clear()
        served = list(self.served.values())
        self.served.clear()
        return pending, waiters, served

    @staticmethod
    def _fail_in_flight(exc: ConnectionClosed, pending: List[Any], waiters: List[FutureLike],
                        served: List[RequestState]) -> None:
        for p in pending:
            if isinstance(p, StreamState):
                p._fail(exc)
            else:
                p.fail(exc)
        for w in waiters:
            if not w.done():
                w.set_exception(exc)
        for r in served:
            r._cancelled.set()

    def interrupt(self, exc: ConnectionClosed) -> None:
        """The connection dropped and the client will reconnect: everything in flight fails now with
        ``exc`` (SERVICE_UNAVAILABLE); subscriptions and registrations are kept."""
        with self.lock:
            self.connected = False
            self.closed_exc = exc
            in_flight = self._take_in_flight()
            subs = [s for s in self.subs if s._active]
        self._fail_in_flight(exc, *in_flight)
        for s in subs:
            s._interrupt(exc)

    def shut(self, exc: ConnectionClosed) -> bool:
        """The client is closed for good: fail everything with ``exc``, end every subscription
        (quietly when the user closed the client). False if it was closed already."""
        with self.lock:
            if self.closed:
                return False
            self.closed = True
            self.closed_exc = exc
            in_flight = self._take_in_flight()
            subs = list(self.subs)
            self.subs.clear()
        self._fail_in_flight(exc, *in_flight)
        for s in subs:
            s._end(None if exc.cause == ConnectionClosed.BY_CLIENT else exc)
        return True

    def reconnected(self) -> None:
        """A new connection is open (called under the I/O layer's own checks)."""
        with self.lock:
            self.close_reason = None
            self.abandoned = None
            self.push_seq.reset()
            self.connection_number += 1
            self.connected = True

    def restore_plan(self) -> List[RestoreStep]:
        """After a reconnect: REGISTER every served service and one SUBSCRIBE for every pattern."""
        with self.lock:
            regs = list(self.services.values())
            patterns = list(dict.fromkeys(p for s in self.subs if s._active for p in s.patterns))
        self.restore_ok = True
        steps = [RestoreStep(self, P.REGISTER, reg.body(), f"re-registering {reg.service}") for reg in regs]
        if patterns:
            steps.append(RestoreStep(self, P.SUBSCRIBE, {"message_types": patterns}, "re-subscribing"))
        return steps

    # ------------------------------------------------------------ batches
    def batch(self, make_slots: Callable[[int], BatchSlots], target: str, message_type: str,
              payloads: Iterable[Any], timeout: float, return_exceptions: bool, window: int) -> Optional["BatchPlan"]:
        """Encode a ``request_many()`` batch (None for no payloads); raises for a closed client or, without
        ``return_exceptions``, for a payload that cannot be encoded, before anything is sent."""
        if window < 1:
            raise ValueError("window must be at least 1")
        items = payloads if isinstance(payloads, list) else list(payloads)
        self.check_open()
        if not items:
            return None
        slots = make_slots(len(items))
        encoder = P.RequestEncoder(target, message_type, timeout, self.format, self.max_payload)
        data, sent, ends, cids = P.encode_requests(encoder, items, self.ids, self.prefix, slots.results,
                                                   return_exceptions)
        return BatchPlan(self, slots, data, sent, ends, cids, window, return_exceptions)


class BatchPlan:
    """Which requests of a ``request_many()`` batch to write next and what becomes of them: at most
    ``window`` unanswered at a time; a batch is written on one connection only."""

    def __init__(self, core: Core, slots: BatchSlots, data: memoryview, sent: List[int], ends: List[int],
                 cids: List[str], window: int, return_exceptions: bool):
        self.core = core
        self.return_exceptions = return_exceptions
        self.slots = slots
        self.data = data
        self.sent = sent  # slot of each encoded request
        self.ends = ends  # end offset of each encoded request in data
        self.cids = cids
        self.window = window
        self.step = max(1, window // 2)  # refill: write again once this many answers made room
        self.total = len(sent)
        self.pos = 0  # requests written so far
        self.connection = core.connection_number
        self.failure: Optional[SwitchboardError] = None

    def results(self) -> List[Any]:
        """The batch's answers in order; without ``return_exceptions`` the first error is raised."""
        if not self.return_exceptions:
            for r in self.slots.results:
                if isinstance(r, BaseException):
                    raise r
        return self.slots.results

    def next_take(self) -> Tuple[int, int]:
        """``(how many to write next, the unanswered level to wait for first)``; 0 to write when done."""
        if self.pos >= self.total:
            return 0, 0
        if not self.pos:
            return min(self.total, self.window), self.window
        take = min(self.total - self.pos, self.step)
        return take, self.window - take

    def begin(self, take: int) -> memoryview:
        """Register the next ``take`` requests as pending and return their bytes; raises ConnectionClosed
        when the client is closed or reconnected since the batch began."""
        core = self.core
        end = self.pos + take
        pending = core.pending
        with core.lock:
            core.check_open()
            if core.connection_number != self.connection:
                raise ConnectionClosed(f"connection lost during the batch: {core.closed_exc}",
                                       core.closed_exc.reason if core.closed_exc else None, cause=ConnectionClosed.LOST)
            self.slots.outstanding += take
            for k in range(self.pos, end):
                pending[self.cids[k]] = BatchCall(self.slots, self.sent[k])
        start = self.ends[self.pos - 1] if self.pos else 0
        return self.data[start:self.ends[end - 1]]

    def written(self, take: int) -> None:
        self.pos += take

    def not_written(self, take: int, exc: SwitchboardError) -> None:
        """The chunk of ``take`` requests failed to be written: those still pending get ``exc``."""
        end = self.pos + take
        with self.core.lock:
            mine = [k for k in range(self.pos, end) if self.core.pending.pop(self.cids[k], None) is not None]
        self.slots.settle_many([self.sent[k] for k in mine], [exc] * len(mine))
        self.pos = end
        self.failure = exc

    def stop(self, exc: SwitchboardError) -> None:
        self.failure = exc

    def no_room(self, wait: float) -> None:
        self.failure = RequestTimeout(f"not sent: no room in the window within {wait:.1f} s", client_side=True)

    def finish_unsent(self) -> None:
        """What was never written gets the failure that stopped the batch."""
        if self.failure is not None:
            for k in range(self.pos, self.total):
                self.slots.results[self.sent[k]] = self.failure

    def expire(self, wait: float) -> None:
        """The deadline passed: what is still pending fails with a client-side RequestTimeout."""
        err = RequestTimeout(f"no answer within {wait:.1f} s (client-side deadline)", client_side=True)
        with self.core.lock:
            late = [self.sent[k] for k in range(self.pos) if self.core.pending.pop(self.cids[k], None) is not None]
        self.slots.settle_many(late, [err] * len(late))

    def discard(self) -> None:
        """Leave nothing of this batch in the pending map (the caller was cancelled)."""
        with self.core.lock:
            for k in range(self.pos):
                self.core.pending.pop(self.cids[k], None)


def log_callback_failure(what: str) -> None:
    log.exception("%s failed", what)


#: connect() errors that mean "no broker listening yet" (worth waiting for on the first connect)
_NOT_UP_YET = (FileNotFoundError, ConnectionRefusedError)


class ConnectWait:
    """The first connect's wait for a broker that is not up yet: ``wait_for_broker`` seconds at
    most (0: fail at once), retrying with backoff while the socket is missing or refuses."""

    def __init__(self, path: str, wait: float, now: float):
        self.path = path
        self.deadline = now + max(0.0, wait)
        self.wait = wait
        self._backoff = Backoff(0.02, 0.5)

    def retry_in(self, exc: BaseException, now: float) -> Optional[float]:
        """Seconds to wait before connecting again after ``exc``, or None to give up."""
        if not isinstance(exc, _NOT_UP_YET) or now >= self.deadline:
            return None
        return min(self._backoff.next(), self.deadline - now)

    def error(self, exc: BaseException) -> ConnectionClosed:
        waited = f" (waited {self.wait:g} s for the broker)" if self.wait > 0 and isinstance(exc, _NOT_UP_YET) else ""
        return ConnectionClosed(f"cannot connect to {self.path}: {exc!r}{waited}", cause=ConnectionClosed.NOT_CONNECTED)


def describe_targets(reply: Dict[str, Any], describe: Union[bool, str]) -> List[str]:
    """The services whose message types ``discover(describe=...)`` asks the broker to describe."""
    names = [s.get("name") for s in reply.get("services") or [] if isinstance(s, dict)]
    if describe is True:
        return [n for n in names if isinstance(n, str)]
    return [n for n in names if n == describe]


def attach_schema(reply: Dict[str, Any], described: Dict[str, Any]) -> None:
    """Put the ``schema`` (each message type with its fields) of one described service into ``reply``."""
    for d in described.get("services") or []:
        if isinstance(d, dict) and "schema" in d:
            for s in reply.get("services") or []:
                if isinstance(s, dict) and s.get("name") == d.get("name"):
                    s["schema"] = d["schema"]


class ClientState:
    """The options and the read-only state both clients have."""

    _core: Core

    def _configure(self, socket_path: Optional[str], format: str, max_payload: int, connect_timeout: float,
                   subscription_queue_size: int, deadline_margin: float, send_timeout: float, reconnect: bool,
                   reconnect_delay: float, reconnect_max_delay: float,
                   on_disconnect: Optional[Callable[[ConnectionClosed], Any]],
                   on_reconnect: Optional[Callable[[Any], Any]]) -> None:
        self.socket_path = P.resolve_socket_path(socket_path)
        self._default_path = P.is_default_socket_path(socket_path)
        self._format = P.format_code(format)
        self.max_payload = max_payload
        self._connect_timeout = connect_timeout
        self._sub_queue_size = subscription_queue_size
        self._margin = deadline_margin
        self._send_timeout = send_timeout
        self._reconnect = reconnect
        self._reconnect_delay = reconnect_delay
        self._reconnect_max_delay = reconnect_max_delay
        self._on_disconnect_cb = on_disconnect
        self._on_reconnect_cb = on_reconnect
        #: how many times this client has reconnected (and re-registered, re-subscribed)
        self.reconnects = 0

    @property
    def closed(self) -> bool:
        """True once the client is closed for good (``close()``, or a refusal without reconnecting)."""
        return self._core.closed

    @property
    def connected(self) -> bool:
        """True while a connection to the broker is open (False while reconnecting)."""
        return self._core.connected and not self._core.closed

    @property
    def push_sequence(self) -> int:
        """``sequence`` of the last PUSH received on the current connection (0: none yet)."""
        return self._core.push_seq.last

    @property
    def pushes_lost(self) -> int:
        """PUSH frames the broker dropped for this client (gaps in ``sequence``), over all its connections."""
        return self._core.push_seq.lost

    @property
    def subscribed_types(self) -> List[str]:
        """The patterns this connection holds at the broker (from its last SUBSCRIBE/UNSUBSCRIBE answer)."""
        return self._core.subscribed_types
