"""Synchronous, thread-safe Switchboard client.

One socket, one background reader thread that demultiplexes replies by
correlation id, so any number of requests may be in flight from any number of
threads. Handlers of ``serve()`` and subscription callbacks run on other
threads than the reader, so they may themselves call the client.

The protocol state (pending calls, subscriptions, served services, reply shaping,
reconnection plans) lives in :mod:`switchboard._core`, shared with the asyncio
client; this module holds only the I/O: the socket, the reader thread, the
handler threads and the waits.

The reader receives into one large buffer and decodes every complete frame a
``recv`` brought before receiving again. ``request_many()`` encodes a batch of
requests into one buffer, writes it with one ``sendall`` per window, and waits
on one condition for the whole batch (no Future per call).
"""

from __future__ import annotations

import concurrent.futures
import errno
import heapq
import inspect
import logging
import queue
import select
import socket
import threading
import time
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

from . import _core as C
from . import protocol as P
from .errors import ConnectionClosed, ProtocolError, RequestTimeout, SwitchboardError
from .protocol import Notification

__all__ = ["Client", "Stream", "Subscription", "Request", "Registration"]

log = logging.getLogger("switchboard")

DEADLINE_MARGIN = 2.0

#: default ``window`` of request_many(): requests of one batch in flight at once
BATCH_WINDOW = 1024

_RECV_SIZE = 256 * 1024  # receive buffer; a larger frame gets a buffer of its own size
_ANSWER_GROUP = 256  # replies decoded before they are handed on (one lock acquisition for the group)
#: after a failed write, how long the reader may take to read what the broker sent before it closed
_LAST_WORDS = 2.0

_DONTWAIT = getattr(socket, "MSG_DONTWAIT", 0)


class Request(C.RequestState):
    """A request forwarded by the broker to a service served by this client."""

    _cancelled: threading.Event

    def __init__(self, body: Dict[str, Any], fmt: int):
        super().__init__(body, fmt, threading.Event())

    def wait_cancelled(self, timeout: Optional[float] = None) -> bool:
        """Block up to ``timeout`` seconds; True if the request was cancelled.
        Handy in stream handlers instead of ``time.sleep``."""
        return self._cancelled.wait(timeout)


class _Batch(C.BatchSlots):
    """The outcome of one ``request_many()``: a slot per request and ONE condition its caller
    waits on. Slots are filled by whoever removed the request from the client's pending map
    (the reader thread, a disconnect, or the caller at its deadline), so each exactly once."""

    __slots__ = ("_cv",)

    def __init__(self, n: int):
        super().__init__(n)
        self._cv = threading.Condition(threading.Lock())

    def settle_many(self, indexes: Sequence[int], values: Sequence[Any]) -> None:
        with self._cv:
            if self._fill(indexes, values):
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


class Stream(C.StreamState):
    """Iterator over the payloads of a request-stream call.

    Iteration ends after the final frame; a final frame with an error raises the
    matching exception. ``cancel()`` asks the broker to end the stream and ends
    the iteration at once. Also a context manager that cancels on exit if the
    stream is not finished.
    """

    _finished: threading.Event

    def __init__(self, client: "Client", correlation_id: str, idle_timeout: float):
        super().__init__(client, correlation_id, idle_timeout, threading.Event(), queue.Queue())

    def __iter__(self) -> "Stream":
        return self

    def __next__(self) -> Any:
        if self._done:
            raise StopIteration
        try:
            item = self._queue.get(timeout=self._idle_timeout)
        except queue.Empty:
            raise self._idle() from None
        more, payload = self._take(item)
        if not more:
            raise StopIteration
        return payload

    def wait_closed(self, timeout: Optional[float] = None) -> bool:
        """Wait until the broker's final frame arrived (or the connection dropped)."""
        return self._finished.wait(timeout)

    def __enter__(self) -> "Stream":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        if not self._done:
            self.cancel()


class Subscription(C.SubscriptionState):
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
        super().__init__(client, patterns, callback)
        self._queue: "queue.Queue[Any]" = queue.Queue(maxsize=max(1, maxsize))
        self._put_lock = threading.Lock()  # the reader thread and a disconnect may put at once
        self._full, self._empty = queue.Full, queue.Empty
        self._thread: Optional[threading.Thread] = None

    def _start_callback_thread(self) -> None:
        if self._callback is None:
            return
        self._thread = threading.Thread(target=self._run_callback, name="switchboard-subscription", daemon=True)
        self._thread.start()

    def _run_callback(self) -> None:
        callback = self._callback
        assert callback is not None
        while True:
            try:
                note = self.get()
            except EOFError:
                return
            except SwitchboardError as exc:
                if self._keeps_going(exc):
                    continue  # the connection dropped; the client reconnects and delivery resumes
                return
            try:
                callback(note)
            except Exception:  # a callback error must not end the subscription
                log.exception("subscription callback failed")

    def _requeue_end(self) -> None:
        self._queue.put(C.END)

    def get(self, timeout: Optional[float] = None) -> Notification:
        """Next notification; raises TimeoutError if none arrives in time,
        ConnectionClosed (once per drop) if the connection dropped, and
        ``EOFError`` if the subscription ended."""
        try:
            item = self._queue.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"no notification within {timeout} s") from None
        return self._take(item)

    def __iter__(self) -> Iterator[Notification]:
        return self

    def __next__(self) -> Notification:
        try:
            return self.get()
        except EOFError:
            raise StopIteration from None

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


class Registration(C.Registration):
    """Handle of a service served by this client (``serve()``)."""

    def unregister(self, timeout: float = 30.0) -> None:
        self._client.unregister(self.service, timeout=timeout)


class Client(C.ClientState):
    """Synchronous Switchboard client.

    ``Client(socket_path=None, format="json")``: the path follows the protocol's
    rules when not given. ``format="msgpack"`` sends MessagePack frames.

    ``wait_for_broker`` (seconds, default 0): on the first connect, wait up to that long for a
    broker that is not up yet (no socket, or nothing listening), retrying with backoff, so that
    the order in which broker and clients start stops mattering.

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
    A broker that refuses the client (``FORBIDDEN``, ``UNSUPPORTED_PROTOCOL_VERSION``) is not
    retried: calls fail with ConnectionClosed whose ``reason`` is the broker's error.

    Every call's ``timeout`` covers sending too: a broker that does not read (stopped with SIGSTOP,
    hung) fails the call with :class:`RequestTimeout` by its deadline, never blocking the caller
    longer. If the deadline passes with part of a frame written, the connection cannot be used any
    more (the broker would read the next frame from the middle of this one): it is closed and, with
    ``reconnect``, opened again. Frames that belong to no call of the caller (a served request's
    reply, a heartbeat answer) are given ``send_timeout`` (10 s). A broker's own ``TIMEOUT`` answer
    is raised as it came (``RequestTimeout.client_side`` False), never replaced by the client's.

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
        wait_for_broker: float = 0.0,
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
        self._configure(socket_path, format, max_payload, connect_timeout, subscription_queue_size, deadline_margin,
                        send_timeout, reconnect, reconnect_delay, reconnect_max_delay, on_disconnect, on_reconnect)
        self._stop = threading.Event()  # set by close(): ends a reconnection wait
        self._connection_ended = threading.Event()  # set by the reader when a connection's end is known
        self._handler_threads = handler_threads

        self._lock = threading.RLock()
        self._core = C.Core("py-", self._format, max_payload, self._send_bytes, self._lock)
        self._send_lock = threading.Lock()
        self._executor: Optional[concurrent.futures.ThreadPoolExecutor] = None

        # deadline sweeper for request_future()
        self._deadlines: List[Tuple[float, int, C.Call]] = []
        self._deadline_cv = threading.Condition(self._lock)
        self._sweeper: Optional[threading.Thread] = None

        self._sock = self._open_socket(wait_for_broker)
        self._core.started = self._core.connected = True
        self._reader = threading.Thread(target=self._read_loop, name="switchboard-reader", daemon=True)
        self._reader.start()

    def _open_socket(self, wait: float = 0.0) -> socket.socket:
        waiting = C.ConnectWait(self.socket_path, wait, time.monotonic())
        while True:
            P.check_socket_path(self.socket_path, self._default_path)  # UnsafeSocketPath: another user's socket
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.settimeout(self._connect_timeout)
                sock.connect(self.socket_path)
                sock.settimeout(None)
                return sock
            except OSError as exc:
                sock.close()
                delay = waiting.retry_in(exc, time.monotonic())
                if delay is None:
                    raise waiting.error(exc) from exc
                if self._stop.wait(delay):
                    raise waiting.error(exc) from exc

    # ------------------------------------------------------------------ basics
    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection; every pending call fails with ConnectionClosed."""
        with self._lock:
            already = self._core.closing
            self._core.closing = True
        self._stop.set()
        if not already:
            self._shutdown_socket()
        if threading.current_thread() is not self._reader:
            self._reader.join(timeout=10)
        self._shut(ConnectionClosed("client closed", cause=ConnectionClosed.BY_CLIENT))
        try:
            self._sock.close()
        except OSError:
            pass
        ex = self._executor
        if ex is not None:
            ex.shutdown(wait=False, cancel_futures=True)

    def serve_forever(self) -> None:
        """Block until the client is closed (by ``close()`` from another thread, a signal handler
        that calls it, or a refusal by the broker); the served handlers run meanwhile. Ctrl-C
        (KeyboardInterrupt) closes the client and returns."""
        try:
            while not self._core.closed:
                self._reader.join(0.5)
                if not self._reader.is_alive():
                    break
        except KeyboardInterrupt:
            pass
        finally:
            self.close()

    def _shutdown_socket(self) -> None:
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # ------------------------------------------------------------------ sending
    def _send(self, frame_type: int, body: Any, fmt: Optional[int] = None, deadline: Optional[float] = None) -> None:
        self._send_bytes(self._core.encode(frame_type, body, fmt), deadline)

    def _send_quiet(self, frame_type: int, body: Any, fmt: Optional[int] = None) -> None:
        self._core.send_quiet(frame_type, body, fmt)

    def _send_bytes(self, data: Any, deadline: Optional[float] = None) -> None:
        """Write encoded frames (bytes or a memoryview of them) by ``deadline`` (``time.monotonic()``;
        None: ``send_timeout`` from now), else raise RequestTimeout. The socket stays blocking for
        the reader thread: each write is non-blocking (MSG_DONTWAIT) and waits with poll() for room
        until the deadline. A deadline passed with part of a frame written closes the connection."""
        if deadline is None:
            deadline = time.monotonic() + self._send_timeout
        if not self._send_lock.acquire(timeout=max(0.0, deadline - time.monotonic())):
            raise RequestTimeout(f"not sent by the deadline: another send to {self.socket_path} is blocked "
                                 "(is the broker stopped or not reading?)", client_side=True)
        try:
            self._core.writable()
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
                    raise self._write_failed(exc) from exc
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
                raise RequestTimeout(why, client_side=True)
        finally:
            self._send_lock.release()

    def _write_failed(self, exc: OSError) -> ConnectionClosed:
        """A write failed (the broker closed the connection): the broker may have said why in its
        last frame (FORBIDDEN, CONNECTION_LIMIT_REACHED...), which the reader reads before it
        reports the end; wait a moment for that, and report the broker's word if it had one."""
        if exc.errno in (errno.EPIPE, errno.ECONNRESET) and threading.current_thread() is not self._reader:
            self._connection_ended.wait(_LAST_WORDS)
        return self._core.write_failed(exc)

    def _abandon_mid_frame(self, why: str) -> None:
        """Part of a frame is written and the rest will not be: the broker would take the next frame's
        bytes for this one's, so the connection is closed (the reader then reconnects, if enabled)."""
        log.warning("switchboard: %s; closing the connection", why)
        self._core.abandoned = f"connection closed by the client: {why}"
        self._shutdown_socket()

    def _forget(self, correlation_id: str) -> None:
        self._core.forget(correlation_id)

    # ------------------------------------------------------------------ calls
    def _start_call(self, frame_type: int, body: Dict[str, Any], kind: str, timeout: float) -> C.Call:
        fut: concurrent.futures.Future[Any] = concurrent.futures.Future()
        call, data = self._core.start_call(fut, kind, frame_type, body, time.monotonic() + timeout + self._margin)
        try:
            self._send_bytes(data, call.deadline)
        except BaseException:
            self._forget(call.correlation_id)
            raise
        return call

    def _wait(self, call: C.Call, timeout: float) -> Any:
        fut: concurrent.futures.Future[Any] = call.future  # type: ignore[assignment]
        try:
            return fut.result(max(0.0, call.deadline - time.monotonic()))
        except TimeoutError:  # the wait's own, or the broker's TIMEOUT (a RequestTimeout is a TimeoutError too)
            if not fut.done():
                self._core.expire(call, timeout + self._margin)
            return fut.result()  # the call's own outcome: the broker's TIMEOUT stays the broker's

    def _control(self, frame_type: int, body: Dict[str, Any], kind: str, timeout: float) -> Any:
        return self._wait(self._start_call(frame_type, body, kind, timeout), timeout)

    # ----------------------------------------------------------- request/reply
    def request(self, target: str, message_type: str, payload: Any = None, timeout: float = 30.0) -> Any:
        """Call ``target`` and return the reply payload; raises the error's exception."""
        return self._control(P.REQUEST, C.Core.envelope(target, message_type, payload, timeout, True, False),
                             "payload", timeout)

    def request_future(self, target: str, message_type: str, payload: Any = None,
                       timeout: float = 30.0) -> "concurrent.futures.Future[Any]":
        """Send a request and return at once a Future of its reply payload
        (for pipelining). The Future fails with RequestTimeout if nothing
        arrives by timeout + margin."""
        call = self._start_call(P.REQUEST, C.Core.envelope(target, message_type, payload, timeout, True, False),
                                "payload", timeout)
        self._add_deadline(call)
        fut: concurrent.futures.Future[Any] = call.future  # type: ignore[assignment]
        fut.correlation_id = call.correlation_id  # type: ignore[attr-defined]
        return fut

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
        plan = self._core.batch(_Batch, target, message_type, payloads, timeout, return_exceptions, window)
        if plan is None:
            return []
        self._write_batch(plan, timeout + self._margin)
        return plan.results()

    def _write_batch(self, plan: C.BatchPlan, wait: float) -> None:
        """Write the batch's frames, at most ``window`` unanswered at a time, and wait for every
        answer; what cannot be written or is not answered in time gets its error in its slot."""
        batch: _Batch = plan.slots  # type: ignore[assignment]
        deadline = time.monotonic() + wait
        while True:
            take, level = plan.next_take()
            if not take:
                break
            if plan.pos and not batch.wait_until(level, deadline):
                plan.no_room(wait)
                break
            try:
                chunk = plan.begin(take)
            except ConnectionClosed as exc:
                plan.stop(exc)
                break
            try:
                self._send_bytes(chunk, deadline)
            except (ConnectionClosed, RequestTimeout) as exc:
                plan.not_written(take, exc)  # the chunk's requests may have been failed already by the disconnect
                break
            plan.written(take)
            deadline = time.monotonic() + wait
        plan.finish_unsent()
        if not batch.wait_until(0, deadline):
            plan.expire(wait)
            # what the reader (or a disconnect) took from the pending map just before is being
            # settled by it now: wait for that, so that no slot is read before it is written
            if not batch.wait_until(0, time.monotonic() + wait):
                raise RuntimeError("request_many: a batch slot was never settled")  # a bug, not a timeout

    def send(self, target: str, message_type: str, payload: Any = None, timeout: float = 30.0) -> None:
        """Fire-and-forget: returns once the broker handed the message to the
        service (``{"status": "delivered"}``); raises if it could not."""
        self._control(P.REQUEST, C.Core.envelope(target, message_type, payload, timeout, False, False), "payload",
                      timeout)

    def stream(self, target: str, message_type: str, payload: Any = None, timeout: float = 30.0) -> Stream:
        """Start a request-stream call; iterate the result for the payloads.
        ``timeout`` is sent to the broker and also bounds (plus margin) the wait
        for each next frame on the client side."""
        st = Stream(self, self._core.next_id(), timeout + self._margin)
        data = self._core.open_stream(st, C.Core.envelope(target, message_type, payload, timeout, False, True))
        try:
            self._send_bytes(data, time.monotonic() + timeout + self._margin)
        except BaseException:
            self._forget(st.correlation_id)
            raise
        return st

    # ------------------------------------------------------------- pub / sub
    def subscribe(self, patterns: Union[str, Iterable[str]], callback: Optional[Callable[[Notification], Any]] = None,
                  *, queue_size: Optional[int] = None, timeout: float = 30.0) -> Subscription:
        """Subscribe to subjects (``*`` one token, ``>`` trailing tokens).
        Returns a Subscription to iterate, or that calls ``callback``."""
        pats = C.check_patterns(patterns)
        sub = Subscription(self, pats, queue_size or self._sub_queue_size, callback)
        self._core.add_subscription(sub)
        reply = None
        try:
            reply = self._control(P.SUBSCRIBE, {"message_types": pats}, "body", timeout)
        finally:
            self._core.subscribed(sub, reply)
        sub._start_callback_thread()
        return sub

    def unsubscribe(self, subscription: Optional[Subscription] = None, timeout: float = 30.0) -> List[str]:
        """End a subscription (or, without argument, every subscription of this
        connection). Patterns still held by other subscriptions stay subscribed
        at the broker. Returns the patterns the connection holds afterwards."""
        remove = self._core.remove_subscription(subscription)
        if remove is None:
            return list(self._core.subscribed_types)
        return self._core.unsubscribed(self._control(P.UNSUBSCRIBE, {"message_types": remove}, "body", timeout))

    def publish(self, subject: str, payload: Any = None, retain: bool = False, *,
                wait: bool = True, timeout: float = 30.0) -> Optional[Dict[str, Any]]:
        """Publish ``payload`` on ``subject``. With ``wait`` (default) a
        correlation id is sent and the broker's acknowledgement awaited (its
        body is returned); ``wait=False`` sends without correlation id."""
        body = C.Core.publish_body(subject, payload, retain)
        if not wait:
            self._core.check_open()
            self._send(P.PUBLISH, body, None, time.monotonic() + timeout)
            return None
        return C.strip(self._control(P.PUBLISH, body, "body", timeout))

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

        ``serve()`` returns at once; to keep the process serving, call :meth:`serve_forever`.
        """
        C.check_mode(mode)
        reg = Registration(self, service, handler, list(message_types) if message_types is not None else None, mode)
        with self._lock:
            self._core.add_service(reg)
            if self._executor is None:
                self._executor = concurrent.futures.ThreadPoolExecutor(
                    max_workers=self._handler_threads, thread_name_prefix="switchboard-handler")
        try:
            self._control(P.REGISTER, reg.body(), "body", timeout)
        except BaseException:
            self._core.drop_service(service)
            raise
        return reg

    def unregister(self, service: str, timeout: float = 30.0) -> None:
        if self._core.drop_service(service):
            self._control(P.UNREGISTER, {"service": service}, "body", timeout)

    def _handle_request(self, req: Request) -> None:
        core = self._core
        try:
            result = core.handler_of(req)(req)
            if inspect.isgenerator(result):
                if req.expects_stream:
                    self._stream_out(req, result)
                    return
                result = list(result)  # a generator answering a plain request: its items as a list
            self._core.write_quiet(core.reply_frames(req, result))
        except Exception as exc:
            self._core.write_quiet(core.error_frames(req, exc))
        finally:
            core.served_done(req)

    def _stream_out(self, req: Request, gen: Iterator[Any]) -> None:
        core = self._core
        seq = 0
        try:
            for item in gen:
                if req.cancelled:
                    return
                self._send_bytes(core.stream_item(req, seq, item))
                seq += 1
                if req.cancelled:
                    return
        except Exception as exc:
            core.write_quiet(core.stream_failure(req, exc, seq))
            return
        finally:
            close = getattr(gen, "close", None)
            if close is not None:
                close()
        self._core.write_quiet(core.stream_end(req, seq))

    # ------------------------------------------------------------- misc ops
    def discover(self, include_actors: bool = True, include_message_types: bool = True, timeout: float = 30.0, *,
                 describe: Union[bool, str] = False) -> Dict[str, Any]:
        """The broker's discovery answer (protocol_version, actors, message_types, services).
        ``describe=True`` (or a service name) adds to each (or that) service a ``schema``: its
        message types, each with its fields (``opaque`` for JSON passed through untouched)."""
        body = C.Core.discover_body(include_actors, include_message_types, bool(describe))
        reply = C.strip(self._control(P.DISCOVER, body, "body", timeout))
        for name in C.describe_targets(reply, describe) if describe else []:
            C.attach_schema(reply, self._control(P.DISCOVER, dict(body, describe=name), "body", timeout))
        return reply

    def stats(self, timeout: float = 30.0) -> Dict[str, Any]:
        """The broker's counters."""
        return C.Core.stats_of(self._control(P.STATS, {}, "body", timeout))

    def heartbeat(self, timeout: float = 5.0) -> float:
        """Send a HEARTBEAT and wait for the broker's; returns the round trip in seconds."""
        fut: concurrent.futures.Future[Any] = concurrent.futures.Future()
        with self._lock:
            self._core.check_open()
            self._core.heartbeat_waiters.append(fut)
        start = time.monotonic()
        try:
            self._send(P.HEARTBEAT, {}, P.FORMAT_JSON, start + timeout)
            try:
                fut.result(max(0.0, start + timeout - time.monotonic()))
            except TimeoutError:
                if fut.done():
                    raise  # the send's own RequestTimeout, or the connection's end
                raise RequestTimeout(f"no heartbeat reply within {timeout} s", client_side=True) from None
        finally:
            with self._lock:
                if fut in self._core.heartbeat_waiters:
                    self._core.heartbeat_waiters.remove(fut)
        return time.monotonic() - start

    # ------------------------------------------------------------- deadlines
    def _add_deadline(self, call: C.Call) -> None:
        with self._deadline_cv:
            heapq.heappush(self._deadlines, (call.deadline, id(call), call))
            if self._sweeper is None:
                self._sweeper = threading.Thread(target=self._sweep, name="switchboard-deadlines", daemon=True)
                self._sweeper.start()
            self._deadline_cv.notify()

    def _sweep(self) -> None:
        with self._deadline_cv:
            while not self._core.closed:
                now = time.monotonic()
                while self._deadlines and (self._deadlines[0][0] <= now or self._deadlines[0][2].future.done()):
                    _, _, call = heapq.heappop(self._deadlines)
                    if not call.future.done():
                        self._core.expire(call, None)
                wait = self._deadlines[0][0] - now if self._deadlines else None
                self._deadline_cv.wait(wait if wait is None else max(wait, 0.001))

    # ------------------------------------------------------------- reader
    def _receive(self, ftype: int, fmt: int, body: Any) -> None:
        req = self._core.receive(ftype, fmt, body, Request)
        if req is not None:
            ex = self._executor
            try:
                if ex is None:
                    raise RuntimeError("no handler threads")
                ex.submit(self._handle_request, req)  # type: ignore[arg-type]
            except RuntimeError:  # executor shut down: the client is closing
                self._core.served_done(req)

    def _read_frames(self, sock: socket.socket) -> None:
        """Receive into one buffer and dispatch every complete frame of each ``recv``; return at
        end of stream. Only the frame's body is copied out of the buffer (for the decoder)."""
        buf = bytearray(_RECV_SIZE)
        view = memoryview(buf)
        start = end = 0  # unread bytes are buf[start:end]
        need = P.HEADER_V2_SIZE  # bytes the next frame needs before it can be decoded
        head = P.LENGTH_VERSION.unpack_from
        decode = P.decode_body
        dispatch = self._receive
        recv_into = sock.recv_into
        # RESPONSE / ERROR frames of this recv not yet handed on: (type, body)
        replies: List[Tuple[int, Dict[str, Any]]] = []
        answer = self._core.answer
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
                        raise P.frame_too_large(length)
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
        core = self._core
        while True:
            exc = self._read_connection()
            if not core.reconnects_after(exc, self._reconnect):
                break
            self._interrupt(exc)
            if not self._reconnect_with_backoff():
                break
            threading.Thread(target=self._restore, name="switchboard-restore", daemon=True).start()
        self._shut(exc)

    def _read_connection(self) -> ConnectionClosed:
        """Read frames until the current connection ends; return the error for it."""
        self._connection_ended.clear()
        error: Optional[BaseException] = None
        try:
            self._read_frames(self._sock)
        except (OSError, ValueError) as e:
            error = e
        except SwitchboardError as e:
            error = e
            self._shutdown_socket()
        exc = self._core.connection_end(error)
        self._connection_ended.set()
        return exc

    def _interrupt(self, exc: ConnectionClosed) -> None:
        """The connection dropped and the client will reconnect: everything in flight fails now
        with ``exc`` (SERVICE_UNAVAILABLE); subscriptions and registrations are kept."""
        log.warning("switchboard: connection to %s lost (%s); reconnecting", self.socket_path, exc.message)
        self._core.interrupt(exc)
        if self._on_disconnect_cb is not None:
            try:
                self._on_disconnect_cb(exc)
            except Exception:
                log.exception("on_disconnect callback failed")

    def _reconnect_with_backoff(self) -> bool:
        """Reconnect (exponential backoff with jitter) until it works or close() is called."""
        backoff = C.Backoff(self._reconnect_delay, self._reconnect_max_delay)
        while not self._stop.wait(backoff.next()):
            try:
                sock = self._open_socket()
            except ConnectionClosed as e:
                log.debug("switchboard: reconnect to %s failed: %s", self.socket_path, e.message)
                continue
            with self._lock:
                if self._core.closing:
                    sock.close()
                    return False
                try:
                    self._sock.close()
                except OSError:
                    pass
                self._sock = sock
                self._core.reconnected()
            return True
        return False

    def _restore(self) -> None:
        """After a reconnect: REGISTER every served service and SUBSCRIBE every pattern again."""
        for step in self._core.restore_plan():
            try:
                step.done(self._control(step.frame_type, step.body, "body", 10.0))
            except SwitchboardError as e:
                step.failed(e)
        if not self._core.restore_ok or not self.connected:
            return  # dropped again meanwhile: the next reconnect restores
        self.reconnects += 1
        log.warning("switchboard: reconnected to %s", self.socket_path)
        if self._on_reconnect_cb is not None:
            try:
                self._on_reconnect_cb(self)
            except Exception:
                log.exception("on_reconnect callback failed")

    def _shut(self, exc: ConnectionClosed) -> None:
        if self._core.shut(exc):
            with self._deadline_cv:
                self._deadline_cv.notify_all()
