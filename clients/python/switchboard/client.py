"""Synchronous, thread-safe Switchboard client.

One socket, one background reader thread that demultiplexes replies by
correlation id, so any number of requests may be in flight from any number of
threads. Handlers of ``serve()`` and subscription callbacks run on other
threads than the reader, so they may themselves call the client.

The reader receives into one large buffer and decodes every complete frame a
``recv`` brought before receiving again. ``request_many()`` encodes a batch of
requests into one buffer, writes it with one ``sendall`` per window, and waits
on one condition for the whole batch (no Future per call).
"""

from __future__ import annotations

import concurrent.futures
import heapq
import inspect
import itertools
import logging
import queue
import random
import select
import socket
import threading
import time
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Union

from . import protocol as P
from .errors import (
    Cancelled,
    ConnectionClosed,
    Forbidden,
    ProtocolError,
    UnsupportedProtocolVersion,
    RequestTimeout,
    SwitchboardError,
    error_from_code,
)
from .protocol import BatchCall as _BatchCall, Notification

__all__ = ["Client", "Stream", "Subscription", "Request", "Registration"]

log = logging.getLogger("switchboard")

DEADLINE_MARGIN = 2.0

#: default ``window`` of request_many(): requests of one batch in flight at once
BATCH_WINDOW = 1024

_RECV_SIZE = 256 * 1024  # receive buffer; a larger frame gets a buffer of its own size
_ANSWER_GROUP = 256  # replies decoded before they are handed on (one lock acquisition for the group)

_DONTWAIT = getattr(socket, "MSG_DONTWAIT", 0)

_END = object()  # end-of-queue marker
_UNSET = object()  # a batch slot not answered yet


class Request:
    """A request forwarded by the broker to a service served by this client."""

    def __init__(self, body: dict, fmt: int):
        self.raw = body
        self.format = fmt
        self.correlation_id: str = body.get("correlation_id", "")
        self.service: str = body.get("target", "")
        self.message_type: str = body.get("message_type", "")
        self.payload: Any = body.get("payload")
        self.expects_reply: bool = bool(body.get("expects_reply", False))
        self.expects_stream: bool = bool(body.get("expects_stream", False))
        self.response_timeout_ms: int = body.get("response_timeout_ms", 30000)
        self._cancelled = threading.Event()

    @property
    def cancelled(self) -> bool:
        """True once the broker sent CANCEL for this request."""
        return self._cancelled.is_set()

    def wait_cancelled(self, timeout: Optional[float] = None) -> bool:
        """Block up to ``timeout`` seconds; True if the request was cancelled.
        Handy in stream handlers instead of ``time.sleep``."""
        return self._cancelled.wait(timeout)

    def __repr__(self) -> str:
        return f"Request({self.service!r}, {self.message_type!r}, correlation_id={self.correlation_id!r})"


class _Call:
    """A pending call answered by one RESPONSE or ERROR."""

    __slots__ = ("future", "kind", "deadline")

    def __init__(self, kind: str):
        self.future: concurrent.futures.Future = concurrent.futures.Future()
        self.deadline = 0.0  # time.monotonic() by which the call is answered, its send included
        self.kind = kind  # "payload": return body["payload"]; "body": return the body

    def resolve(self, frame_type: int, body: dict) -> None:
        if self.future.done():
            return
        if frame_type == P.ERROR or body.get("success") is False:
            self.future.set_exception(error_from_code(body.get("error_code"), body.get("error")))
        elif self.kind == "payload":
            self.future.set_result(body.get("payload"))
        else:
            self.future.set_result(body)

    def fail(self, exc: BaseException) -> None:
        if not self.future.done():
            self.future.set_exception(exc)


class _Batch:
    """The outcome of one ``request_many()``: a slot per request and ONE condition its caller
    waits on. Slots are filled by whoever removed the request from the client's pending map
    (the reader thread, a disconnect, or the caller at its deadline), so each exactly once."""

    __slots__ = ("results", "outstanding", "_wake_at", "_cv")

    def __init__(self, n: int):
        self.results: List[Any] = [_UNSET] * n
        self.outstanding = 0  # written (or about to be) and not answered yet
        self._wake_at = -1
        self._cv = threading.Condition(threading.Lock())

    def add(self, n: int) -> None:
        with self._cv:
            self.outstanding += n

    def settle(self, index: int, value: Any) -> None:
        """Fill slot ``index`` of a request that was written: a payload or an exception."""
        with self._cv:
            self.results[index] = value
            self.outstanding -= 1
            if self.outstanding <= self._wake_at:
                self._wake_at = -1
                self._cv.notify()

    def settle_many(self, indexes: List[int], values: List[Any]) -> None:
        """``settle`` for several slots under one acquisition of the lock."""
        with self._cv:
            results = self.results
            for i, v in zip(indexes, values):
                results[i] = v
            self.outstanding -= len(indexes)
            if self.outstanding <= self._wake_at:
                self._wake_at = -1
                self._cv.notify()

    def wait_until(self, level: int, deadline: float) -> bool:
        """Wait until at most ``level`` requests are unanswered; False at the deadline."""
        with self._cv:
            while self.outstanding > level:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._wake_at = level
                self._cv.wait(remaining)
            return True


class Stream:
    """Iterator over the payloads of a request-stream call.

    Iteration ends after the final frame; a final frame with an error raises the
    matching exception. ``cancel()`` asks the broker to end the stream and ends
    the iteration at once. Also a context manager that cancels on exit if the
    stream is not finished.
    """

    def __init__(self, client: "Client", correlation_id: str, idle_timeout: float):
        self._client = client
        self.correlation_id = correlation_id
        self._queue: "queue.Queue[Any]" = queue.Queue()
        self._idle_timeout = idle_timeout
        self._done = False
        self._cancelled = False
        self._finished = threading.Event()
        self.received = 0
        #: error code of the final frame (None: ended normally or not yet)
        self.final_code: Optional[str] = None
        self.final_sequence: Optional[int] = None

    # called by the reader thread
    def _on_frame(self, body: dict) -> bool:
        """Queue one STREAM frame; return True if it was the final one."""
        final = bool(body.get("is_final"))
        if final:
            self.final_code = body.get("error_code") or (None if not body.get("error") else "INTERNAL_ERROR")
            self.final_sequence = body.get("sequence")
        self._queue.put(body)
        if final:
            self._finished.set()
        return final

    def _fail(self, exc: BaseException) -> None:
        self._queue.put(exc)
        self._finished.set()

    def __iter__(self) -> "Stream":
        return self

    def __next__(self) -> Any:
        if self._done:
            raise StopIteration
        try:
            item = self._queue.get(timeout=self._idle_timeout)
        except queue.Empty:
            self._done = True
            self._client._forget(self.correlation_id)
            self._client._send_quiet(P.CANCEL, {"correlation_id": self.correlation_id})
            raise RequestTimeout(f"no stream frame within {self._idle_timeout:.1f} s") from None
        if isinstance(item, BaseException):
            self._done = True
            raise item
        if item.get("is_final"):
            self._done = True
            if item.get("error") or item.get("error_code"):
                raise error_from_code(item.get("error_code"), item.get("error"))
            raise StopIteration
        self.received += 1
        return item.get("payload")

    def cancel(self) -> None:
        """Send CANCEL for this stream and stop iterating. The broker's final
        frame (code CANCELLED) is awaited with ``wait_closed()``."""
        if self._done or self._cancelled:
            self._done = True
            return
        self._cancelled = True
        self._done = True
        self._client._send_quiet(P.CANCEL, {"correlation_id": self.correlation_id})

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def wait_closed(self, timeout: Optional[float] = None) -> bool:
        """Wait until the broker's final frame arrived (or the connection dropped)."""
        return self._finished.wait(timeout)

    def __enter__(self) -> "Stream":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        if not self._done:
            self.cancel()


class Subscription:
    """Notifications of one ``subscribe()`` call.

    Iterate it (blocking) or call ``get(timeout)``; with a callback, a thread of
    its own calls the callback for each notification. The local queue is
    bounded: when it is full the oldest notification is dropped and counted in
    ``dropped``.

    ``lost`` counts the notifications the BROKER dropped on this client's
    connection while this subscription was active, from gaps in the
    per-connection ``sequence`` (seen when the next PUSH arrives). The broker
    does not say what a dropped PUSH was, so with several subscriptions on one
    client it is an upper bound for each (exact for a client's only
    subscription). Publications missed while disconnected are not counted:
    see ``interruptions``.

    When the connection drops and the client reconnects (the default), the
    next ``get()`` (or iteration step) raises :class:`ConnectionClosed` (a
    ``ServiceUnavailable``) once, at that point of the sequence of
    notifications; the client subscribes again after reconnecting and later
    ``get()`` calls (or a new ``for`` loop) return what is published from then
    on. What was published while disconnected is not delivered. A callback
    subscription just carries on. Without reconnection the subscription ends
    with that error.
    """

    def __init__(self, client: "Client", patterns: Sequence[str], maxsize: int,
                 callback: Optional[Callable[[Notification], Any]] = None):
        self._client = client
        self.patterns = tuple(patterns)
        self._queue: "queue.Queue[Any]" = queue.Queue(maxsize=max(1, maxsize))
        self._put_lock = threading.Lock()
        self.dropped = 0
        self.lost = 0
        #: how many times the connection dropped while this subscription was active
        self.interruptions = 0
        self.subscribed_types: List[str] = []
        self._active = True
        self._end_exc: Optional[BaseException] = None
        self._ended = False
        self._callback = callback
        self._thread: Optional[threading.Thread] = None

    def _start_callback_thread(self) -> None:
        if self._callback is None:
            return
        self._thread = threading.Thread(target=self._run_callback, name="switchboard-subscription", daemon=True)
        self._thread.start()

    def _run_callback(self) -> None:
        while True:
            try:
                note = self.get()
            except EOFError:
                return
            except ConnectionClosed:
                if self._ended:
                    return
                continue  # the connection dropped; the client reconnects and delivery resumes
            except SwitchboardError:
                return
            try:
                self._callback(note)  # type: ignore[misc]
            except Exception:  # a callback error must not end the subscription
                log.exception("subscription callback failed")

    def _matches(self, subject: str) -> bool:
        return self._active and P.any_matches(self.patterns, subject)

    def _put(self, item: Any) -> None:
        with self._put_lock:
            while True:
                try:
                    self._queue.put_nowait(item)
                    return
                except queue.Full:
                    try:
                        self._queue.get_nowait()
                        if item is not _END:
                            self.dropped += 1
                    except queue.Empty:
                        pass

    def _interrupt(self, exc: ConnectionClosed) -> None:
        """The connection dropped and the client reconnects: ``get()`` raises ``exc`` once, in
        order with the notifications, then continues with what arrives after the reconnect."""
        self.interruptions += 1
        self._put(exc)

    def _end(self, exc: Optional[BaseException] = None) -> None:
        if self._ended:
            return
        self._ended = True
        self._active = False
        self._end_exc = exc
        self._put(_END)

    def get(self, timeout: Optional[float] = None) -> Notification:
        """Next notification; raises TimeoutError if none arrives in time,
        ConnectionClosed (once per drop) if the connection dropped, and
        ``EOFError`` if the subscription ended."""
        try:
            item = self._queue.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"no notification within {timeout} s") from None
        if item is _END:
            self._queue.put(_END)  # keep the marker for other readers
            if self._end_exc is not None:
                raise self._end_exc
            raise EOFError("subscription ended")
        if isinstance(item, BaseException):
            raise item
        return item

    def __iter__(self) -> Iterator[Notification]:
        return self

    def __next__(self) -> Notification:
        try:
            return self.get()
        except EOFError:
            raise StopIteration from None

    @property
    def active(self) -> bool:
        return self._active

    def unsubscribe(self, timeout: float = 30.0) -> None:
        self._client.unsubscribe(self, timeout=timeout)

    def __enter__(self) -> "Subscription":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        if self._active:
            try:
                self.unsubscribe()
            except SwitchboardError:
                pass


class Registration:
    """Handle of a service served by this client (``serve()``)."""

    def __init__(self, client: "Client", service: str, handler: Callable, message_types: Optional[List[str]], mode: str):
        self._client = client
        self.service = service
        self.handler = handler
        self.message_types = message_types
        self.mode = mode

    def unregister(self, timeout: float = 30.0) -> None:
        self._client.unregister(self.service, timeout=timeout)

    def __repr__(self) -> str:
        return f"Registration({self.service!r}, mode={self.mode!r})"


class Client:
    """Synchronous Switchboard client.

    ``Client(socket_path=None, format="json")``: the path follows the protocol's
    rules when not given. ``format="msgpack"`` sends MessagePack frames.

    Reconnection (``reconnect=True``, the default): when the connection drops
    (broker killed or restarted), every call in flight -- requests, futures,
    streams, control calls, heartbeats -- fails at once with
    :class:`ConnectionClosed`, a :class:`ServiceUnavailable` (code
    SERVICE_UNAVAILABLE); requests being served get ``cancelled``. The client
    then reconnects with exponential backoff (``reconnect_delay`` 0.1 s,
    doubling up to ``reconnect_max_delay`` 2 s, each wait jittered to 50-100 %),
    re-sends REGISTER for every service it serves and one SUBSCRIBE for every
    pattern its subscriptions hold, and then calls ``on_reconnect(client)``
    (``on_disconnect(exc)`` was called at the drop; both also logged on the
    ``switchboard`` logger). New calls made while disconnected fail fast with
    ConnectionClosed: nothing is queued (``connected`` tells the state).
    ``reconnect=False`` keeps the old behaviour: the client is closed for good.

    Every call's ``timeout`` covers sending too: a broker that does not read (stopped with SIGSTOP,
    hung) fails the call with :class:`RequestTimeout` by its deadline, never blocking the caller
    longer. If the deadline passes with part of a frame written, the connection cannot be used any
    more (the broker would read the next frame from the middle of this one): it is closed and, with
    ``reconnect``, opened again. Frames that belong to no call of the caller (a served request's
    reply, a heartbeat answer) are given ``send_timeout`` (10 s).

    Before each connect the socket path is checked (:func:`switchboard.protocol.check_socket_path`):
    a default path's directory must be this user's (or root's), not group/other-writable and not a
    symbolic link, and no path may go through a symbolic link, else :class:`UnsafeSocketPath`.
    """

    def __init__(
        self,
        socket_path: Optional[str] = None,
        *,
        format: str = "json",
        max_payload: int = P.DEFAULT_MAX_PAYLOAD,
        connect_timeout: float = 5.0,
        handler_threads: int = 16,
        subscription_queue_size: int = 1000,
        deadline_margin: float = DEADLINE_MARGIN,
        send_timeout: float = 10.0,
        reconnect: bool = True,
        reconnect_delay: float = 0.1,
        reconnect_max_delay: float = 2.0,
        on_disconnect: Optional[Callable[[ConnectionClosed], Any]] = None,
        on_reconnect: Optional[Callable[["Client"], Any]] = None,
    ):
        self.socket_path = P.resolve_socket_path(socket_path)
        self._default_path = P.is_default_socket_path(socket_path)
        self._connect_timeout = connect_timeout
        self._send_timeout = send_timeout
        self._abandoned: Optional[str] = None  # why this client closed its connection mid-frame
        self._reconnect = reconnect
        self._reconnect_delay = reconnect_delay
        self._reconnect_max_delay = max(reconnect_max_delay, reconnect_delay)
        self._on_disconnect_cb = on_disconnect
        self._on_reconnect_cb = on_reconnect
        self._connected = False
        self._stop = threading.Event()  # set by close(): ends a reconnection wait
        #: how many times this client has reconnected (and re-registered, re-subscribed)
        self.reconnects = 0
        self._format = P.format_code(format)
        self.max_payload = max_payload
        self._handler_threads = handler_threads
        self._sub_queue_size = subscription_queue_size
        self._margin = deadline_margin

        self._lock = threading.RLock()
        self._send_lock = threading.Lock()
        self._ids = itertools.count(1)
        self._pending: Dict[str, Union[_Call, _BatchCall, Stream]] = {}
        self._subs: List[Subscription] = []
        self._push_seq = P.PushSequence()
        self._connection_number = 1  # counts reconnects: a batch is written on one connection only
        self._services: Dict[str, Registration] = {}
        self._served: Dict[str, Request] = {}
        self._heartbeat_waiters: List[concurrent.futures.Future] = []
        self._executor: Optional[concurrent.futures.ThreadPoolExecutor] = None
        self._closed = False
        self._closing = False
        self._close_reason: Optional[SwitchboardError] = None
        self._closed_exc: Optional[ConnectionClosed] = None
        self.subscribed_types: List[str] = []

        # deadline sweeper for request_future()
        self._deadlines: list = []
        self._deadline_cv = threading.Condition(self._lock)
        self._sweeper: Optional[threading.Thread] = None

        self._sock = self._open_socket()
        self._connected = True
        self._reader = threading.Thread(target=self._read_loop, name="switchboard-reader", daemon=True)
        self._reader.start()

    def _open_socket(self) -> socket.socket:
        P.check_socket_path(self.socket_path, self._default_path)  # UnsafeSocketPath: another user's socket
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(self._connect_timeout)
            sock.connect(self.socket_path)
            sock.settimeout(None)
        except OSError as exc:
            sock.close()
            raise ConnectionClosed(f"cannot connect to {self.socket_path}: {exc}") from exc
        return sock

    # ------------------------------------------------------------------ basics
    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def connected(self) -> bool:
        """True while a connection to the broker is open (False while reconnecting)."""
        return self._connected and not self._closed

    @property
    def push_sequence(self) -> int:
        """``sequence`` of the last PUSH received on the current connection (0: none yet)."""
        return self._push_seq.last

    @property
    def pushes_lost(self) -> int:
        """PUSH frames the broker dropped for this client (gaps in ``sequence``), over all its connections."""
        return self._push_seq.lost

    def close(self) -> None:
        """Close the connection; every pending call fails with ConnectionClosed."""
        with self._lock:
            if self._closing:
                already = True
            else:
                already = False
                self._closing = True
        self._stop.set()
        if not already:
            try:
                self._sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if threading.current_thread() is not self._reader:
            self._reader.join(timeout=10)
        self._on_disconnect(ConnectionClosed("client closed"))
        try:
            self._sock.close()
        except OSError:
            pass
        ex = self._executor
        if ex is not None:
            ex.shutdown(wait=False, cancel_futures=True)
        with self._deadline_cv:
            self._deadline_cv.notify_all()

    def _next_id(self) -> str:
        return f"py-{next(self._ids)}"

    def _check_open(self) -> None:
        if self._closed or self._closing:
            raise self._closed_exc or ConnectionClosed("client closed")
        if not self._connected:  # reconnecting: fail fast, nothing is queued
            raise ConnectionClosed(f"not connected to the broker (reconnecting): {self._closed_exc}",
                                   self._closed_exc.reason if self._closed_exc else None)

    def _send(self, frame_type: int, body: Any, fmt: Optional[int] = None, deadline: Optional[float] = None) -> None:
        self._send_bytes(P.encode_frame(frame_type, body, self._format if fmt is None else fmt, self.max_payload),
                         deadline)

    def _send_bytes(self, data: Any, deadline: Optional[float] = None) -> None:
        """Write encoded frames (bytes or a memoryview of them) by ``deadline`` (``time.monotonic()``;
        None: ``send_timeout`` from now), else raise RequestTimeout. The socket stays blocking for
        the reader thread: each write is non-blocking (MSG_DONTWAIT) and waits with poll() for room
        until the deadline. A deadline passed with part of a frame written closes the connection."""
        if deadline is None:
            deadline = time.monotonic() + self._send_timeout
        if not self._send_lock.acquire(timeout=max(0.0, deadline - time.monotonic())):
            raise RequestTimeout(f"not sent by the deadline: another send to {self.socket_path} is blocked "
                                 "(is the broker stopped or not reading?)")
        try:
            if self._closed or not self._connected:
                raise self._closed_exc or ConnectionClosed()
            sock = self._sock
            view = memoryview(data).cast("B")
            total = len(view)
            sent = 0
            poller = None
            while sent < total:
                try:
                    sent += sock.send(view[sent:], _DONTWAIT)
                    continue
                except BlockingIOError:
                    pass
                except InterruptedError:
                    continue
                except OSError as exc:
                    raise ConnectionClosed(f"send failed: {exc}") from exc
                remaining = deadline - time.monotonic()
                if remaining > 0:
                    if poller is None:
                        poller = select.poll()
                        poller.register(sock.fileno(), select.POLLOUT)
                    if poller.poll(max(1, int(remaining * 1000))):
                        continue
                    if deadline - time.monotonic() > 0:
                        continue
                why = (f"not sent by the deadline: the broker at {self.socket_path} did not read "
                       f"(is it stopped?); {sent} of {total} bytes written")
                if sent:
                    self._abandon_mid_frame(why)
                raise RequestTimeout(why)
        finally:
            self._send_lock.release()

    def _abandon_mid_frame(self, why: str) -> None:
        """Part of a frame is written and the rest will not be: the broker would take the next frame's
        bytes for this one's, so the connection is closed (the reader then reconnects, if enabled)."""
        log.warning("switchboard: %s; closing the connection", why)
        self._abandoned = f"connection closed by the client: {why}"
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _send_quiet(self, frame_type: int, body: Any, fmt: Optional[int] = None) -> None:
        try:
            self._send(frame_type, body, fmt)
        except SwitchboardError as exc:
            log.debug("dropped frame 0x%02x: %s", frame_type, exc)

    def _forget(self, correlation_id: str) -> None:
        with self._lock:
            self._pending.pop(correlation_id, None)

    def _start_call(self, frame_type: int, body: dict, kind: str, timeout: float) -> _Call:
        call = _Call(kind)
        call.deadline = time.monotonic() + timeout + self._margin
        cid = self._next_id()
        body["correlation_id"] = cid
        with self._lock:
            self._check_open()
            self._pending[cid] = call
        try:
            self._send(frame_type, body, None, call.deadline)
        except BaseException:
            self._forget(cid)
            raise
        call.future.correlation_id = cid  # type: ignore[attr-defined]
        return call

    def _wait(self, call: _Call, timeout: float) -> Any:
        try:
            return call.future.result(max(0.0, call.deadline - time.monotonic()))
        except concurrent.futures.TimeoutError:
            self._forget(call.future.correlation_id)  # type: ignore[attr-defined]
            err = RequestTimeout(f"no answer within {timeout + self._margin:.1f} s (client-side deadline)")
            call.fail(err)
            raise err from None

    def _control(self, frame_type: int, body: dict, kind: str, timeout: float) -> Any:
        return self._wait(self._start_call(frame_type, body, kind, timeout), timeout)

    # ----------------------------------------------------------- request/reply
    def _envelope(self, target: str, message_type: str, payload: Any, timeout: float,
                  expects_reply: bool, expects_stream: bool) -> dict:
        return {
            "target": target,
            "message_type": message_type,
            "payload": payload,
            "expects_reply": expects_reply,
            "expects_stream": expects_stream,
            "response_timeout_ms": P.timeout_ms(timeout),
        }

    def request(self, target: str, message_type: str, payload: Any = None, timeout: float = 30.0) -> Any:
        """Call ``target`` and return the reply payload; raises the error's exception."""
        call = self._start_call(P.REQUEST, self._envelope(target, message_type, payload, timeout, True, False), "payload",
                                timeout)
        return self._wait(call, timeout)

    def request_future(self, target: str, message_type: str, payload: Any = None,
                       timeout: float = 30.0) -> concurrent.futures.Future:
        """Send a request and return at once a Future of its reply payload
        (for pipelining). The Future fails with RequestTimeout if nothing
        arrives by timeout + margin."""
        call = self._start_call(P.REQUEST, self._envelope(target, message_type, payload, timeout, True, False), "payload",
                                timeout)
        self._add_deadline(call, call.deadline)
        return call.future

    def request_many(self, target: str, message_type: str, payloads: Iterable[Any], timeout: float = 30.0, *,
                     return_exceptions: bool = False, window: int = BATCH_WINDOW) -> List[Any]:
        """Call ``target`` once per payload, pipelined, and return the reply payloads in the order
        of ``payloads``.

        The REQUEST frames are encoded into one buffer and written with one ``sendall`` when the
        batch fits in ``window``; a larger batch keeps at most ``window`` requests in flight,
        writing the next ones as answers come back, so the broker's queue of replies for this
        connection stays bounded. The calling thread waits on one condition for the whole batch.

        ``timeout`` is each request's timeout, sent to the broker as for ``request()``; what has
        no answer ``timeout`` + margin after the batch's last write fails with RequestTimeout.

        Errors, like ``asyncio.gather``: by default every request is still awaited and then the
        first error in the order of ``payloads`` is raised; with ``return_exceptions=True`` the
        list holds the exception instance in that request's place. A payload that cannot be
        encoded (SerializationError, PayloadTooLarge) raises before anything is sent, or with
        ``return_exceptions=True`` takes its place in the list and is not sent. A dropped
        connection fails what is in flight with ConnectionClosed, and what was not written yet
        with ConnectionClosed too (a batch is never continued on a new connection); a closed or
        reconnecting client raises ConnectionClosed at once.
        An empty ``payloads`` returns ``[]``.
        """
        items = payloads if isinstance(payloads, list) else list(payloads)
        if window < 1:
            raise ValueError("window must be at least 1")
        self._check_open()
        if not items:
            return []
        encoder = P.RequestEncoder(target, message_type, timeout, self._format, self.max_payload)
        batch = _Batch(len(items))
        results = batch.results
        data, sent, ends, cids = P.encode_requests(encoder, items, self._ids, "py-", results, return_exceptions)
        self._write_batch(batch, data, sent, ends, cids, window, timeout + self._margin)
        if not return_exceptions:
            for r in results:
                if isinstance(r, BaseException):
                    raise r
        return results

    def _write_batch(self, batch: _Batch, data: memoryview, sent: List[int], ends: List[int], cids: List[str],
                     window: int, wait: float) -> None:
        """Write the batch's frames, at most ``window`` unanswered at a time, and wait for every
        answer; what cannot be written or is not answered in time gets its error in its slot."""
        total = len(sent)
        pos = 0  # requests written so far
        step = max(1, window // 2)  # refill: write again once this many answers made room
        deadline = time.monotonic() + wait
        failure: Optional[SwitchboardError] = None
        connection = self._connection_number
        while pos < total:
            take = min(total - pos, window)
            if pos:
                take = min(total - pos, step)
                if not batch.wait_until(window - take, deadline):
                    failure = RequestTimeout(f"not sent: no room in the window within {wait:.1f} s")
                    break
            end = pos + take
            pending = self._pending
            try:
                with self._lock:
                    self._check_open()
                    if self._connection_number != connection:  # dropped and reconnected meanwhile
                        raise ConnectionClosed(f"connection lost during the batch: {self._closed_exc}",
                                               self._closed_exc.reason if self._closed_exc else None)
                    batch.add(take)
                    for k in range(pos, end):
                        pending[cids[k]] = _BatchCall(batch, sent[k])
            except ConnectionClosed as exc:
                failure = exc
                break
            try:
                self._send_bytes(data[ends[pos - 1] if pos else 0:ends[end - 1]], deadline)
            except (ConnectionClosed, RequestTimeout) as exc:
                # the chunk's requests may have been failed already by the disconnect
                with self._lock:
                    mine = [k for k in range(pos, end) if pending.pop(cids[k], None) is not None]
                for k in mine:
                    batch.settle(sent[k], exc)
                pos = end
                failure = exc
                break
            pos = end
            deadline = time.monotonic() + wait
        if failure is not None:
            for k in range(pos, total):
                batch.results[sent[k]] = failure
        if not batch.wait_until(0, deadline):
            err = RequestTimeout(f"no answer within {wait:.1f} s (client-side deadline)")
            with self._lock:
                late = [sent[k] for k in range(pos) if self._pending.pop(cids[k], None) is not None]
            batch.settle_many(late, [err] * len(late))
            # what the reader (or a disconnect) took from the pending map just before is being
            # settled by it now: wait for that, so that no slot is read before it is written
            if not batch.wait_until(0, time.monotonic() + wait):
                raise RuntimeError("request_many: a batch slot was never settled")  # a bug, not a timeout

    def send(self, target: str, message_type: str, payload: Any = None, timeout: float = 30.0) -> None:
        """Fire-and-forget: returns once the broker handed the message to the
        service (``{"status": "delivered"}``); raises if it could not."""
        call = self._start_call(P.REQUEST, self._envelope(target, message_type, payload, timeout, False, False), "payload",
                                timeout)
        self._wait(call, timeout)

    def stream(self, target: str, message_type: str, payload: Any = None, timeout: float = 30.0) -> Stream:
        """Start a request-stream call; iterate the result for the payloads.
        ``timeout`` is sent to the broker and also bounds (plus margin) the wait
        for each next frame on the client side."""
        body = self._envelope(target, message_type, payload, timeout, False, True)
        cid = self._next_id()
        body["correlation_id"] = cid
        st = Stream(self, cid, timeout + self._margin)
        with self._lock:
            self._check_open()
            self._pending[cid] = st
        try:
            self._send(P.REQUEST, body, None, time.monotonic() + timeout + self._margin)
        except BaseException:
            self._forget(cid)
            raise
        return st

    # ------------------------------------------------------------- pub / sub
    def subscribe(self, patterns: Union[str, Iterable[str]], callback: Optional[Callable[[Notification], Any]] = None,
                  *, queue_size: Optional[int] = None, timeout: float = 30.0) -> Subscription:
        """Subscribe to subjects (``*`` one token, ``>`` trailing tokens).
        Returns a Subscription to iterate, or that calls ``callback``."""
        pats = [patterns] if isinstance(patterns, str) else list(patterns)
        if not pats:
            raise ValueError("at least one pattern is needed")
        sub = Subscription(self, pats, queue_size or self._sub_queue_size, callback)
        with self._lock:
            self._check_open()
            self._subs.append(sub)  # before SUBSCRIBE: retained messages may arrive before the reply
        try:
            body = self._control(P.SUBSCRIBE, {"message_types": pats}, "body", timeout)
        except BaseException:
            with self._lock:
                if sub in self._subs:
                    self._subs.remove(sub)
            sub._end()
            raise
        sub.subscribed_types = list(body.get("subscribed_types") or [])
        self.subscribed_types = list(sub.subscribed_types)
        sub._start_callback_thread()
        return sub

    def unsubscribe(self, subscription: Optional[Subscription] = None, timeout: float = 30.0) -> List[str]:
        """End a subscription (or, without argument, every subscription of this
        connection). Patterns still held by other subscriptions stay subscribed
        at the broker. Returns the patterns the connection holds afterwards."""
        with self._lock:
            if subscription is None:
                ending = list(self._subs)
                self._subs.clear()
                remove: Optional[List[str]] = []  # empty list: broker removes everything
            else:
                if subscription not in self._subs:
                    return list(self.subscribed_types)
                ending = [subscription]
                self._subs.remove(subscription)
                still = {p for s in self._subs for p in s.patterns}
                remove = [p for p in dict.fromkeys(subscription.patterns) if p not in still]
                if not remove:
                    remove = None
        for s in ending:
            s._end()
        if remove is None:
            return list(self.subscribed_types)
        body = self._control(P.UNSUBSCRIBE, {"message_types": remove}, "body", timeout)
        self.subscribed_types = list(body.get("subscribed_types") or [])
        return list(self.subscribed_types)

    def publish(self, subject: str, payload: Any = None, retain: bool = False, *,
                wait: bool = True, timeout: float = 30.0) -> Optional[dict]:
        """Publish ``payload`` on ``subject``. With ``wait`` (default) a
        correlation id is sent and the broker's acknowledgement awaited (its
        body is returned); ``wait=False`` sends without correlation id."""
        body: Dict[str, Any] = {"message_type": subject, "payload": payload}
        if retain:
            body["retain"] = True
        if not wait:
            self._check_open()
            self._send(P.PUBLISH, body, None, time.monotonic() + timeout)
            return None
        reply = self._control(P.PUBLISH, body, "body", timeout)
        return {k: v for k, v in reply.items() if k not in ("correlation_id", "success")}

    # ------------------------------------------------------------- serving
    def serve(self, service: str, handler: Callable[[Request], Any], message_types: Optional[Iterable[str]] = None,
              mode: str = "exclusive", timeout: float = 30.0) -> Registration:
        """Register ``service`` and answer the requests the broker forwards.

        ``handler(request)`` runs on a worker thread with a :class:`Request`.
        Its return value becomes the RESPONSE payload; raising
        ``ServiceError(code, message)`` (or any SwitchboardError) answers with
        that code, any other exception with INTERNAL_ERROR; returning a
        generator answers with STREAM frames and a final frame. A CANCEL from
        the broker sets ``request.cancelled`` and stops the generator.
        """
        if mode not in ("exclusive", "shared"):
            raise ValueError("mode must be 'exclusive' or 'shared'")
        mts = list(message_types) if message_types is not None else None
        reg = Registration(self, service, handler, mts, mode)
        with self._lock:
            self._check_open()
            if service in self._services:
                raise ValueError(f"service {service!r} is already served by this client")
            self._services[service] = reg
            if self._executor is None:
                self._executor = concurrent.futures.ThreadPoolExecutor(
                    max_workers=self._handler_threads, thread_name_prefix="switchboard-handler")
        body: Dict[str, Any] = {"service": service, "mode": mode}
        if mts is not None:
            body["message_types"] = mts
        try:
            self._control(P.REGISTER, body, "body", timeout)
        except BaseException:
            with self._lock:
                self._services.pop(service, None)
            raise
        return reg

    def unregister(self, service: str, timeout: float = 30.0) -> None:
        with self._lock:
            present = self._services.pop(service, None)
        if present is None:
            return
        self._control(P.UNREGISTER, {"service": service}, "body", timeout)

    def _handle_request(self, req: Request) -> None:
        cid = req.correlation_id
        replies = req.expects_reply or req.expects_stream
        try:
            reg = self._services.get(req.service)
            if reg is None:
                raise error_from_code("ACTOR_NOT_FOUND", f"service {req.service!r} is not served here")
            result = reg.handler(req)
            if inspect.isgenerator(result):
                if req.expects_stream:
                    self._stream_out(req, result)
                    return
                result = list(result)  # a generator answering a plain request: its items as a list
            if req.cancelled or not replies:
                return
            if req.expects_stream:  # a plain value answering a stream request: one frame
                self._send_quiet(P.STREAM, {"correlation_id": cid, "sequence": 0, "is_final": False, "payload": result}, req.format)
                self._send_quiet(P.STREAM, {"correlation_id": cid, "sequence": 1, "is_final": True}, req.format)
            else:
                self._send_reply(P.RESPONSE, {"correlation_id": cid, "success": True, "payload": result}, req)
        except Exception as exc:
            if not isinstance(exc, SwitchboardError):
                log.exception("handler of %s failed", req.service)
            if req.cancelled or not replies:
                return
            err = P.error_body(cid, exc)
            if req.expects_stream:
                err.pop("success")
                err.update(sequence=0, is_final=True)
                self._send_quiet(P.STREAM, err, req.format)
            else:
                self._send_quiet(P.ERROR, err, req.format)
        finally:
            with self._lock:
                self._served.pop(cid, None)

    def _send_reply(self, frame_type: int, body: dict, req: Request) -> None:
        try:
            self._send(frame_type, body, req.format)
        except ConnectionClosed:
            pass
        except SwitchboardError as exc:  # e.g. result not serialisable or too large
            self._send_quiet(P.ERROR, P.error_body(req.correlation_id, exc), req.format)

    def _stream_out(self, req: Request, gen: Iterator[Any]) -> None:
        cid = req.correlation_id
        seq = 0
        try:
            for item in gen:
                if req.cancelled:
                    return
                self._send(P.STREAM, {"correlation_id": cid, "sequence": seq, "is_final": False, "payload": item}, req.format)
                seq += 1
                if req.cancelled:
                    return
        except ConnectionClosed:
            return
        except Exception as exc:
            if not isinstance(exc, SwitchboardError):
                log.exception("stream handler of %s failed", req.service)
            if req.cancelled:
                return
            err = P.error_body(cid, exc)
            err.pop("success")
            err.update(sequence=seq, is_final=True)
            self._send_quiet(P.STREAM, err, req.format)
            return
        finally:
            if hasattr(gen, "close"):
                gen.close()
        if not req.cancelled:
            self._send_quiet(P.STREAM, {"correlation_id": cid, "sequence": seq, "is_final": True}, req.format)

    # ------------------------------------------------------------- misc ops
    def discover(self, include_actors: bool = True, include_message_types: bool = True, timeout: float = 30.0) -> dict:
        """The broker's discovery answer (protocol_version, actors, message_types, services)."""
        body = self._control(P.DISCOVER, {"include_actors": include_actors,
                                          "include_message_types": include_message_types}, "body", timeout)
        return {k: v for k, v in body.items() if k not in ("correlation_id", "success")}

    def stats(self, timeout: float = 30.0) -> dict:
        """The broker's counters."""
        body = self._control(P.STATS, {}, "body", timeout)
        if "payload" in body:
            return body["payload"]
        return {k: v for k, v in body.items() if k not in ("correlation_id", "success")}

    def heartbeat(self, timeout: float = 5.0) -> float:
        """Send a HEARTBEAT and wait for the broker's; returns the round trip in seconds."""
        fut: concurrent.futures.Future = concurrent.futures.Future()
        with self._lock:
            self._check_open()
            self._heartbeat_waiters.append(fut)
        start = time.monotonic()
        try:
            self._send(P.HEARTBEAT, {}, P.FORMAT_JSON, start + timeout)
            fut.result(max(0.0, start + timeout - time.monotonic()))
        except RequestTimeout:  # a TimeoutError too: the send's own, passed through
            raise
        except concurrent.futures.TimeoutError:
            raise RequestTimeout(f"no heartbeat reply within {timeout} s") from None
        finally:
            with self._lock:
                if fut in self._heartbeat_waiters:
                    self._heartbeat_waiters.remove(fut)
        return time.monotonic() - start

    # ------------------------------------------------------------- deadlines
    def _add_deadline(self, call: _Call, deadline: float) -> None:
        with self._deadline_cv:
            heapq.heappush(self._deadlines, (deadline, id(call), call))
            if self._sweeper is None:
                self._sweeper = threading.Thread(target=self._sweep, name="switchboard-deadlines", daemon=True)
                self._sweeper.start()
            self._deadline_cv.notify()

    def _sweep(self) -> None:
        with self._deadline_cv:
            while not self._closed:
                now = time.monotonic()
                while self._deadlines and (self._deadlines[0][0] <= now or self._deadlines[0][2].future.done()):
                    deadline, _, call = heapq.heappop(self._deadlines)
                    if not call.future.done():
                        cid = call.future.correlation_id
                        if self._pending.get(cid) is call:
                            del self._pending[cid]
                        call.fail(RequestTimeout("no answer by the client-side deadline"))
                wait = self._deadlines[0][0] - now if self._deadlines else None
                self._deadline_cv.wait(wait if wait is None else max(wait, 0.001))

    # ------------------------------------------------------------- reader
    def _read_frames(self, sock: socket.socket) -> None:
        """Receive into one buffer and dispatch every complete frame of each ``recv``; return at
        end of stream. Only the frame's body is copied out of the buffer (for the decoder)."""
        buf = bytearray(_RECV_SIZE)
        view = memoryview(buf)
        start = end = 0  # unread bytes are buf[start:end]
        need = P.HEADER_V2_SIZE  # bytes the next frame needs before it can be decoded
        head = P.LENGTH_VERSION.unpack_from
        decode = P.decode_body
        dispatch = self._dispatch
        recv_into = sock.recv_into
        replies: List[Any] = []  # RESPONSE / ERROR frames of this recv not yet handed on: (type, body)
        answer = self._answer
        try:
            while True:
                if len(buf) - start < need:  # the next frame does not fit after `start`
                    rest = end - start
                    if need <= len(buf):
                        buf[:rest] = buf[start:end]  # move the partial frame to the front
                    else:  # a frame larger than the buffer: a buffer of its own size
                        view.release()
                        bigger = bytearray(need)
                        bigger[:rest] = buf[start:end]
                        buf, view = bigger, memoryview(bigger)
                    start, end = 0, rest
                n = recv_into(view[end:])
                if not n:
                    return
                end += n
                while end - start >= 5:
                    length, version = head(buf, start)
                    if version == P.VERSION:
                        size = P.HEADER_V2_SIZE
                    elif version == P.VERSION_1:
                        size = P.HEADER_V1_SIZE
                    else:
                        raise ProtocolError(f"unsupported protocol version 0x{version:02x} from broker")
                    if length > P.ABSOLUTE_MAX_PAYLOAD:
                        raise error_from_code("PAYLOAD_TOO_LARGE", f"broker frame of {length} bytes")
                    need = size + length
                    if end - start < need:
                        break
                    ftype = buf[start + 5]
                    fmt = buf[start + 6] if size == P.HEADER_V2_SIZE else P.FORMAT_JSON
                    data = buf[start + size:start + need]
                    start += need
                    need = P.HEADER_V2_SIZE
                    try:
                        body = decode(data, fmt)
                    except SwitchboardError as e:
                        log.warning("undecodable frame 0x%02x from broker: %s", ftype, e)
                        continue
                    if ((ftype == P.RESPONSE or ftype == P.ERROR) and type(body) is dict
                            and type(body.get("correlation_id")) is str and body["correlation_id"]):
                        replies.append((ftype, body))
                        if len(replies) >= _ANSWER_GROUP:
                            answer(replies)
                            replies = []
                        continue
                    if replies:  # answers first: frames are handled in the order they came
                        answer(replies)
                        replies = []
                    try:
                        dispatch(ftype, fmt, body)
                    except Exception:
                        log.exception("error dispatching frame 0x%02x", ftype)
                if replies:
                    answer(replies)
                    replies = []
                if start == end:
                    start = end = 0
                    if len(buf) > _RECV_SIZE:  # done with a large frame: back to the usual buffer
                        view.release()
                        buf = bytearray(_RECV_SIZE)
                        view = memoryview(buf)
        finally:
            view.release()

    def _read_loop(self) -> None:
        while True:
            exc = self._read_connection()
            if self._closing or not self._reconnect or isinstance(exc.reason, (Forbidden, UnsupportedProtocolVersion)):
                break
            self._interrupt(exc)
            if not self._reconnect_with_backoff():
                break
            threading.Thread(target=self._restore, name="switchboard-restore", daemon=True).start()
        self._on_disconnect(exc)

    def _interrupt(self, exc: ConnectionClosed) -> None:
        """The connection dropped and the client will reconnect: everything in flight fails now
        with ``exc`` (SERVICE_UNAVAILABLE); subscriptions and registrations are kept."""
        with self._lock:
            self._connected = False
            self._closed_exc = exc
            pending = list(self._pending.values())
            self._pending.clear()
            subs = [s for s in self._subs if s._active]
            waiters = list(self._heartbeat_waiters)
            self._heartbeat_waiters.clear()
            served = list(self._served.values())
            self._served.clear()
        log.warning("switchboard: connection to %s lost (%s); reconnecting", self.socket_path, exc.message)
        for p in pending:
            p._fail(exc) if isinstance(p, Stream) else p.fail(exc)
        for w in waiters:
            if not w.done():
                w.set_exception(exc)
        for s in subs:
            s._interrupt(exc)
        for r in served:
            r._cancelled.set()
        if self._on_disconnect_cb is not None:
            try:
                self._on_disconnect_cb(exc)
            except Exception:
                log.exception("on_disconnect callback failed")

    def _reconnect_with_backoff(self) -> bool:
        """Reconnect (exponential backoff with jitter) until it works or close() is called."""
        delay = self._reconnect_delay
        while not self._stop.is_set():
            if self._stop.wait(delay * random.uniform(0.5, 1.0)):
                return False
            try:
                sock = self._open_socket()
            except ConnectionClosed as e:
                log.debug("switchboard: reconnect to %s failed: %s", self.socket_path, e.message)
                delay = min(delay * 2, self._reconnect_max_delay)
                continue
            with self._lock:
                if self._closing:
                    sock.close()
                    return False
                try:
                    self._sock.close()
                except OSError:
                    pass
                self._sock = sock
                self._close_reason = None
                self._abandoned = None
                self._push_seq.reset()
                self._connection_number += 1
                self._connected = True
            return True
        return False

    def _restore(self) -> None:
        """After a reconnect: REGISTER every served service and SUBSCRIBE every pattern again."""
        timeout = 10.0
        with self._lock:
            regs = list(self._services.values())
            patterns = list(dict.fromkeys(p for s in self._subs if s._active for p in s.patterns))
        ok = True
        for reg in regs:
            body: Dict[str, Any] = {"service": reg.service, "mode": reg.mode}
            if reg.message_types is not None:
                body["message_types"] = reg.message_types
            try:
                self._control(P.REGISTER, body, "body", timeout)
            except SwitchboardError as e:
                ok = False
                log.error("switchboard: re-registering %s after reconnect failed: %s", reg.service, e)
        if patterns:
            try:
                reply = self._control(P.SUBSCRIBE, {"message_types": patterns}, "body", timeout)
                self.subscribed_types = list(reply.get("subscribed_types") or [])
            except SwitchboardError as e:
                ok = False
                log.error("switchboard: re-subscribing after reconnect failed: %s", e)
        if not ok or not self.connected:
            return  # dropped again meanwhile: the next reconnect restores
        self.reconnects += 1
        log.warning("switchboard: reconnected to %s", self.socket_path)
        if self._on_reconnect_cb is not None:
            try:
                self._on_reconnect_cb(self)
            except Exception:
                log.exception("on_reconnect callback failed")

    def _read_connection(self) -> ConnectionClosed:
        """Read frames until the current connection ends; return the error for it."""
        exc: ConnectionClosed
        try:
            self._read_frames(self._sock)
            reason = self._close_reason
            if self._closing:
                exc = ConnectionClosed("client closed", reason)
            elif self._abandoned is not None:
                exc = ConnectionClosed(self._abandoned, RequestTimeout(self._abandoned))
            elif reason is not None:
                exc = ConnectionClosed(f"connection closed by broker after {reason}", reason)
            else:
                exc = ConnectionClosed("connection closed by broker")
        except (OSError, ValueError) as e:
            exc = ConnectionClosed("client closed" if self._closing else f"connection lost: {e}", self._close_reason)
        except SwitchboardError as e:
            exc = ConnectionClosed(f"protocol broken: {e}", e)
            try:
                self._sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        return exc

    def _on_disconnect(self, exc: ConnectionClosed) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._closed_exc = exc
            pending = list(self._pending.values())
            self._pending.clear()
            subs = list(self._subs)
            self._subs.clear()
            waiters = list(self._heartbeat_waiters)
            self._heartbeat_waiters.clear()
            served = list(self._served.values())
            self._served.clear()
        for p in pending:
            p._fail(exc) if isinstance(p, Stream) else p.fail(exc)
        for w in waiters:
            if not w.done():
                w.set_exception(exc)
        user_closed = exc.message == "client closed"
        for s in subs:
            s._end(None if user_closed else exc)
        for r in served:
            r._cancelled.set()
        with self._deadline_cv:
            self._deadline_cv.notify_all()

    def _dispatch(self, ftype: int, fmt: int, body: Any) -> None:
        if not isinstance(body, dict):
            if ftype == P.HEARTBEAT:
                body = {}
            else:
                log.warning("frame 0x%02x with a non-object body ignored", ftype)
                return
        if ftype in (P.RESPONSE, P.ERROR):
            cid = body.get("correlation_id")
            if not cid:
                if ftype == P.ERROR:
                    self._close_reason = error_from_code(body.get("error_code"), body.get("error"))
                    log.warning("broker error on the connection: %s", self._close_reason)
                elif P.is_loss_notice(body):
                    # pushes dropped at the tail of the stream: counted now, not at the next PUSH
                    with self._lock:
                        gap = self._push_seq.notice(body.get("sequence"))
                        active = [s for s in self._subs if s._active]
                    for s in active:
                        s.lost += gap
                return
            if isinstance(cid, str):
                self._answer([(ftype, body)])
        elif ftype == P.STREAM:
            cid = body.get("correlation_id")
            with self._lock:
                st = self._pending.get(cid)
                if isinstance(st, Stream) and body.get("is_final"):
                    del self._pending[cid]
            if isinstance(st, Stream):
                st._on_frame(body)
        elif ftype == P.PUSH:
            # One PUSH per publication per connection: every local subscription whose patterns
            # match the subject gets it; a sequence gap is counted against every active one.
            with self._lock:
                gap = self._push_seq.observe(body.get("sequence"))
                active = [s for s in self._subs if s._active]
            note = Notification.from_body(body, gap)
            for s in active:
                if gap:
                    s.lost += gap
                if P.any_matches(s.patterns, note.subject):
                    s._put(note)
        elif ftype == P.HEARTBEAT:
            with self._lock:
                waiters = list(self._heartbeat_waiters)
                self._heartbeat_waiters.clear()
            if waiters:
                for w in waiters:
                    if not w.done():
                        w.set_result(None)
            else:
                self._send_quiet(P.HEARTBEAT, {}, P.FORMAT_JSON)
        elif ftype == P.REQUEST:
            req = Request(body, fmt)
            with self._lock:
                ex = self._executor
                if ex is None or self._closing:
                    ex = None
                else:
                    self._served[req.correlation_id] = req
            if ex is None:
                if req.expects_reply or req.expects_stream:
                    self._reject(req, "ACTOR_NOT_FOUND", f"nothing is served on this connection for {req.service!r}")
                return
            try:
                ex.submit(self._handle_request, req)
            except RuntimeError:  # executor shut down
                pass
        elif ftype == P.CANCEL:
            with self._lock:
                req = self._served.get(body.get("correlation_id"))
            if req is not None:
                req._cancelled.set()
        else:
            log.debug("ignored frame type 0x%02x", ftype)

    def _answer(self, replies: List[Any]) -> None:
        """Hand RESPONSE / ERROR frames, ``(type, body)`` with a string correlation id each, to
        their calls: one acquisition of the client's lock for all of them, and one of a batch's
        lock for each run of replies to the same batch."""
        with self._lock:
            pop = self._pending.pop
            calls = [pop(body["correlation_id"], None) for _, body in replies]
        batch: Optional[_Batch] = None
        indexes: List[int] = []
        values: List[Any] = []
        for (ftype, body), call in zip(replies, calls):
            if call is None:  # already answered, timed out or forgotten
                continue
            try:
                if type(call) is _BatchCall:
                    if ftype == P.ERROR or body.get("success") is False:
                        value = error_from_code(body.get("error_code"), body.get("error"))
                    else:
                        value = body.get("payload")
                    if call.batch is not batch:
                        if indexes:
                            batch.settle_many(indexes, values)  # type: ignore[union-attr]
                            indexes, values = [], []
                        batch = call.batch
                    indexes.append(call.index)
                    values.append(value)
                elif isinstance(call, Stream):
                    # defensive: a bare answer to a stream request ends the stream
                    final = dict(body, is_final=True)
                    if ftype == P.RESPONSE and not body.get("error_code"):
                        final.pop("error", None)
                    call._on_frame(final)
                else:
                    call.resolve(ftype, body)
            except Exception:
                log.exception("error dispatching frame 0x%02x", ftype)
        if indexes:
            batch.settle_many(indexes, values)  # type: ignore[union-attr]

    def _reject(self, req: Request, code: str, message: str) -> None:
        err = {"correlation_id": req.correlation_id, "success": False, "error": message, "error_code": code}
        if req.expects_stream:
            err.pop("success")
            err.update(sequence=0, is_final=True)
            self._send_quiet(P.STREAM, err, req.format)
        else:
            self._send_quiet(P.ERROR, err, req.format)
