"""asyncio Switchboard client.

    async with AsyncClient() as c:
        print(await c.request("calculator", "Add", {"a": 1, "b": 2}))
        async for frame in await c.stream("countdown", "Countdown", {"from": 3, "interval_ms": 10}):
            ...

Same operations as :class:`switchboard.Client`; one reader task demultiplexes
replies by correlation id, so ``asyncio.gather`` of many requests pipelines them.
``request_many()`` does the same for a batch with one write and one waiter
instead of a task and a Future per request.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import logging
import random
from typing import Any, AsyncIterator, Awaitable, Callable, Dict, Iterable, List, Optional, Union

from . import protocol as P
from .errors import (ConnectionClosed, Forbidden, RequestTimeout, SwitchboardError, UnsupportedProtocolVersion,
                     error_from_code)
from .protocol import BatchCall as _AioBatchCall, Notification

__all__ = ["AsyncClient", "AsyncStream", "AsyncSubscription", "AsyncRequest", "AsyncRegistration"]

log = logging.getLogger("switchboard")

#: default ``window`` of request_many(): requests of one batch in flight at once
BATCH_WINDOW = 1024

_READ_SIZE = 256 * 1024  # bytes asked of the stream reader at a time

_END = object()
_UNSET = object()  # a batch slot not answered yet


class _AioBatch:
    """The outcome of one ``request_many()``: a slot per request and one Future at a time that
    its caller awaits (made when it has to wait, resolved when enough answers arrived)."""

    __slots__ = ("results", "outstanding", "_wake_at", "_waiter")

    def __init__(self, n: int):
        self.results: List[Any] = [_UNSET] * n
        self.outstanding = 0
        self._wake_at = -1
        self._waiter: Optional[asyncio.Future] = None

    def settle(self, index: int, value: Any) -> None:
        self.results[index] = value
        self.outstanding -= 1
        if self.outstanding <= self._wake_at and self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def wait_until(self, level: int, deadline: float) -> bool:
        """Wait until at most ``level`` requests are unanswered; False at the deadline (loop time)."""
        loop = asyncio.get_running_loop()
        while self.outstanding > level:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            self._wake_at = level
            self._waiter = loop.create_future()
            try:
                await asyncio.wait_for(self._waiter, remaining)
            except asyncio.TimeoutError:
                pass
            finally:
                self._waiter = None
                self._wake_at = -1
        return True


class AsyncRequest:
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
        self._cancelled = asyncio.Event()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    async def wait_cancelled(self, timeout: Optional[float] = None) -> bool:
        """Wait up to ``timeout`` seconds; True if the broker cancelled the request."""
        try:
            await asyncio.wait_for(self._cancelled.wait(), timeout)
            return True
        except asyncio.TimeoutError:
            return False


class AsyncStream:
    """Async iterator over the payloads of a request-stream call."""

    def __init__(self, client: "AsyncClient", correlation_id: str, idle_timeout: float):
        self._client = client
        self.correlation_id = correlation_id
        self._queue: "asyncio.Queue[Any]" = asyncio.Queue()
        self._idle_timeout = idle_timeout
        self._done = False
        self._cancelled = False
        self._finished = asyncio.Event()
        self.received = 0
        self.final_code: Optional[str] = None
        self.final_sequence: Optional[int] = None

    def _on_frame(self, body: dict) -> None:
        if body.get("is_final"):
            self.final_code = body.get("error_code") or (None if not body.get("error") else "INTERNAL_ERROR")
            self.final_sequence = body.get("sequence")
            self._finished.set()
        self._queue.put_nowait(body)

    def _fail(self, exc: BaseException) -> None:
        self._queue.put_nowait(exc)
        self._finished.set()

    def __aiter__(self) -> "AsyncStream":
        return self

    async def __anext__(self) -> Any:
        if self._done:
            raise StopAsyncIteration
        try:
            item = await asyncio.wait_for(self._queue.get(), self._idle_timeout)
        except asyncio.TimeoutError:
            self._done = True
            self._client._forget(self.correlation_id)
            self._client._write_quiet(P.CANCEL, {"correlation_id": self.correlation_id})
            raise RequestTimeout(f"no stream frame within {self._idle_timeout:.1f} s") from None
        if self._done:  # cancelled while waiting
            raise StopAsyncIteration
        if isinstance(item, BaseException):
            self._done = True
            raise item
        if item.get("is_final"):
            self._done = True
            if item.get("error") or item.get("error_code"):
                raise error_from_code(item.get("error_code"), item.get("error"))
            raise StopAsyncIteration
        self.received += 1
        return item.get("payload")

    def cancel(self) -> None:
        """Send CANCEL and stop iterating; ``await wait_closed()`` for the final frame."""
        if self._done or self._cancelled:
            self._done = True
            return
        self._cancelled = True
        self._done = True
        self._client._write_quiet(P.CANCEL, {"correlation_id": self.correlation_id})

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    async def wait_closed(self, timeout: Optional[float] = None) -> bool:
        try:
            await asyncio.wait_for(self._finished.wait(), timeout)
            return True
        except asyncio.TimeoutError:
            return False

    async def __aenter__(self) -> "AsyncStream":
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        if not self._done:
            self.cancel()


class AsyncSubscription:
    """Notifications of one ``subscribe()``: ``async for``, ``await get(timeout)``
    or a callback (plain function or coroutine function). Bounded local queue:
    when full, the oldest notification is dropped and counted in ``dropped``.
    ``lost``: notifications the broker dropped on the connection while this
    subscription was active (sequence gaps; see ``switchboard.Subscription``).
    On a dropped connection ``get()`` raises ConnectionClosed once, then
    continues after the reconnect (see ``switchboard.Subscription``)."""

    def __init__(self, client: "AsyncClient", patterns: List[str], maxsize: int,
                 callback: Optional[Callable[[Notification], Any]] = None):
        self._client = client
        self.patterns = tuple(patterns)
        self._queue: "asyncio.Queue[Any]" = asyncio.Queue(maxsize=max(1, maxsize))
        self.dropped = 0
        self.lost = 0
        self.interruptions = 0
        self.subscribed_types: List[str] = []
        self._active = True
        self._ended = False
        self._end_exc: Optional[BaseException] = None
        self._callback = callback
        self._task: Optional[asyncio.Task] = None

    def _start_callback(self) -> None:
        if self._callback is not None:
            self._task = asyncio.get_running_loop().create_task(self._run_callback())

    async def _run_callback(self) -> None:
        while True:
            try:
                note = await self.get()
            except EOFError:
                return
            except ConnectionClosed:
                if self._ended:
                    return
                continue  # the connection dropped; delivery resumes after the reconnect
            except SwitchboardError:
                return
            try:
                r = self._callback(note)  # type: ignore[misc]
                if inspect.isawaitable(r):
                    await r
            except Exception:
                log.exception("subscription callback failed")

    def _interrupt(self, exc: ConnectionClosed) -> None:
        self.interruptions += 1
        self._put(exc)

    def _matches(self, subject: str) -> bool:
        return self._active and P.any_matches(self.patterns, subject)

    def _put(self, item: Any) -> None:
        while True:
            try:
                self._queue.put_nowait(item)
                return
            except asyncio.QueueFull:
                try:
                    self._queue.get_nowait()
                    if item is not _END:
                        self.dropped += 1
                except asyncio.QueueEmpty:
                    pass

    def _end(self, exc: Optional[BaseException] = None) -> None:
        if self._ended:
            return
        self._ended = True
        self._active = False
        self._end_exc = exc
        self._put(_END)

    async def get(self, timeout: Optional[float] = None) -> Notification:
        """Next notification; TimeoutError if none in time, EOFError if the
        subscription ended, ConnectionClosed if the connection dropped."""
        try:
            item = await asyncio.wait_for(self._queue.get(), timeout)
        except asyncio.TimeoutError:
            raise TimeoutError(f"no notification within {timeout} s") from None
        if item is _END:
            self._queue.put_nowait(_END)
            if self._end_exc is not None:
                raise self._end_exc
            raise EOFError("subscription ended")
        if isinstance(item, BaseException):
            raise item
        return item

    def __aiter__(self) -> "AsyncSubscription":
        return self

    async def __anext__(self) -> Notification:
        try:
            return await self.get()
        except EOFError:
            raise StopAsyncIteration from None

    @property
    def active(self) -> bool:
        return self._active

    async def unsubscribe(self, timeout: float = 30.0) -> None:
        await self._client.unsubscribe(self, timeout=timeout)

    async def __aenter__(self) -> "AsyncSubscription":
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        if self._active:
            try:
                await self.unsubscribe()
            except SwitchboardError:
                pass


class AsyncRegistration:
    def __init__(self, client: "AsyncClient", service: str, handler: Callable, message_types: Optional[List[str]], mode: str):
        self._client = client
        self.service = service
        self.handler = handler
        self.message_types = message_types
        self.mode = mode

    async def unregister(self, timeout: float = 30.0) -> None:
        await self._client.unregister(self.service, timeout=timeout)


class AsyncClient:
    """asyncio Switchboard client. Use ``async with AsyncClient(path) as c`` or
    ``c = await AsyncClient(path).connect()``.

    Reconnection works as in :class:`switchboard.Client`: on a dropped
    connection everything in flight fails with ConnectionClosed (a
    ServiceUnavailable), the client reconnects with backoff, re-registers its
    services, re-subscribes, and calls ``on_reconnect(client)``;
    ``on_disconnect(exc)`` is called at the drop (either may be a coroutine
    function). New calls while disconnected fail fast. ``reconnect=False``
    opts out.

    Every call's ``timeout`` covers sending too: a call first waits (by its deadline) until the
    transport's send buffer has room, so nothing is piled up behind a broker that does not read
    (stopped with SIGSTOP, hung), then writes and waits until the buffer drains, and fails with
    :class:`RequestTimeout` when the deadline passes first. The transport keeps whole frames (a
    frame it holds is sent whole when the broker reads again), so the connection stays usable.
    Frames that belong to no call (a served request's reply) are given ``send_timeout`` (10 s)."""

    def __init__(self, socket_path: Optional[str] = None, *, format: str = "json",
                 max_payload: int = P.DEFAULT_MAX_PAYLOAD, connect_timeout: float = 5.0,
                 subscription_queue_size: int = 1000, deadline_margin: float = 2.0, send_timeout: float = 10.0,
                 reconnect: bool = True, reconnect_delay: float = 0.1, reconnect_max_delay: float = 2.0,
                 on_disconnect: Optional[Callable[[ConnectionClosed], Any]] = None,
                 on_reconnect: Optional[Callable[["AsyncClient"], Any]] = None):
        self.socket_path = P.resolve_socket_path(socket_path)
        self._default_path = P.is_default_socket_path(socket_path)
        self._reconnect = reconnect
        self._reconnect_delay = reconnect_delay
        self._reconnect_max_delay = max(reconnect_max_delay, reconnect_delay)
        self._on_disconnect_cb = on_disconnect
        self._on_reconnect_cb = on_reconnect
        self._connected = False
        self._stop: Optional[asyncio.Event] = None
        self._restore_task: Optional[asyncio.Task] = None
        self.reconnects = 0
        self._format = P.format_code(format)
        self.max_payload = max_payload
        self._connect_timeout = connect_timeout
        self._send_timeout = send_timeout
        self._sub_queue_size = subscription_queue_size
        self._margin = deadline_margin
        self._ids = itertools.count(1)
        self._pending: Dict[str, Union[asyncio.Future, AsyncStream, _AioBatchCall]] = {}
        self._kinds: Dict[str, str] = {}
        self._subs: List[AsyncSubscription] = []
        self._push_seq = P.PushSequence()
        self._connection_number = 1  # counts reconnects: a batch is written on one connection only
        self._services: Dict[str, AsyncRegistration] = {}
        self._served: Dict[str, AsyncRequest] = {}
        self._handler_tasks: set = set()
        self._heartbeat_waiters: List[asyncio.Future] = []
        self._reader: Optional[asyncio.StreamReader] = None
        self._writer: Optional[asyncio.StreamWriter] = None
        self._read_task: Optional[asyncio.Task] = None
        self._closed = False
        self._closing = False
        self._close_reason: Optional[SwitchboardError] = None
        self._closed_exc: Optional[ConnectionClosed] = None
        self.subscribed_types: List[str] = []

    async def _open(self) -> tuple:
        P.check_socket_path(self.socket_path, self._default_path)  # UnsafeSocketPath: as in Client
        try:
            return await asyncio.wait_for(
                asyncio.open_unix_connection(self.socket_path, limit=P.ABSOLUTE_MAX_PAYLOAD + 64),
                self._connect_timeout)
        except (OSError, asyncio.TimeoutError) as exc:
            raise ConnectionClosed(f"cannot connect to {self.socket_path}: {exc!r}") from exc

    async def connect(self) -> "AsyncClient":
        if self._writer is not None:
            return self
        self._reader, self._writer = await self._open()
        self._connected = True
        self._stop = asyncio.Event()
        self._read_task = asyncio.get_running_loop().create_task(self._read_loop())
        return self

    async def __aenter__(self) -> "AsyncClient":
        return await self.connect()

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.close()

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

    async def close(self) -> None:
        if self._closing:
            if self._read_task is not None and not self._read_task.done():
                await asyncio.wait([self._read_task], timeout=10)
            return
        self._closing = True
        if self._stop is not None:
            self._stop.set()
        if self._restore_task is not None:
            self._restore_task.cancel()
        if self._writer is not None:
            self._writer.close()
            try:
                await self._writer.wait_closed()
            except OSError:
                pass
        if self._read_task is not None and asyncio.current_task() is not self._read_task:
            await asyncio.wait([self._read_task], timeout=10)
        self._on_disconnect(ConnectionClosed("client closed"))
        for t in list(self._handler_tasks):
            t.cancel()

    # ------------------------------------------------------------- internals
    def _next_id(self) -> str:
        return f"pya-{next(self._ids)}"

    def _check_open(self) -> None:
        if self._writer is None:
            raise ConnectionClosed("not connected: call connect() or use 'async with'")
        if self._closed or self._closing:
            raise self._closed_exc or ConnectionClosed("client closed")
        if not self._connected:  # reconnecting: fail fast, nothing is queued
            raise ConnectionClosed(f"not connected to the broker (reconnecting): {self._closed_exc}")

    def _write(self, frame_type: int, body: Any, fmt: Optional[int] = None) -> None:
        data = P.encode_frame(frame_type, body, self._format if fmt is None else fmt, self.max_payload)
        if self._closed or not self._connected or self._writer is None or self._writer.is_closing():
            raise self._closed_exc or ConnectionClosed()
        self._writer.write(data)

    def _write_quiet(self, frame_type: int, body: Any, fmt: Optional[int] = None) -> None:
        try:
            self._write(frame_type, body, fmt)
        except SwitchboardError as exc:
            log.debug("dropped frame 0x%02x: %s", frame_type, exc)

    async def _drain(self) -> None:
        try:
            await self._writer.drain()  # type: ignore[union-attr]
        except (OSError, RuntimeError) as exc:
            raise ConnectionClosed(f"send failed: {exc}") from exc

    async def _drain_by(self, deadline: Optional[float] = None) -> None:
        """Wait until the transport's buffer is below its high-water mark, by ``deadline`` (loop
        time; None: ``send_timeout`` from now), else raise RequestTimeout."""
        writer = self._writer
        if writer is None or writer.transport.get_write_buffer_size() == 0:
            return
        loop = asyncio.get_running_loop()
        if deadline is None:
            deadline = loop.time() + self._send_timeout
        try:
            # at least a moment: drain() runs as a task, which a zero timeout would cancel before it starts
            await asyncio.wait_for(self._drain(), max(0.001, deadline - loop.time()))
        except asyncio.TimeoutError:
            raise RequestTimeout(
                f"not sent by the deadline: the broker at {self.socket_path} did not read (is it stopped?); "
                f"{writer.transport.get_write_buffer_size()} bytes wait in the send buffer") from None

    async def _send(self, frame_type: int, body: Any, fmt: Optional[int] = None,
                    deadline: Optional[float] = None) -> None:
        """Write a frame and wait until it leaves the buffer, all by ``deadline``: room is awaited
        before writing, so a broker that does not read makes calls time out instead of piling
        frames up in memory."""
        if deadline is None:
            deadline = asyncio.get_running_loop().time() + self._send_timeout
        await self._drain_by(deadline)
        self._write(frame_type, body, fmt)
        await self._drain_by(deadline)

    def _forget(self, cid: str) -> None:
        self._pending.pop(cid, None)
        self._kinds.pop(cid, None)

    async def _call(self, frame_type: int, body: dict, kind: str, timeout: float) -> Any:
        self._check_open()
        cid = self._next_id()
        body["correlation_id"] = cid
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout + self._margin
        fut = loop.create_future()
        self._pending[cid] = fut
        self._kinds[cid] = kind
        try:
            await self._send(frame_type, body, None, deadline)  # RequestTimeout (a TimeoutError) passes through
            return await asyncio.wait_for(fut, max(0.001, deadline - loop.time()))
        except RequestTimeout:
            raise
        except asyncio.TimeoutError:
            raise RequestTimeout(f"no answer within {timeout + self._margin:.1f} s (client-side deadline)") from None
        finally:
            self._forget(cid)

    @staticmethod
    def _envelope(target: str, message_type: str, payload: Any, timeout: float, reply: bool, stream: bool) -> dict:
        return {"target": target, "message_type": message_type, "payload": payload,
                "expects_reply": reply, "expects_stream": stream, "response_timeout_ms": P.timeout_ms(timeout)}

    # ------------------------------------------------------------- operations
    async def request(self, target: str, message_type: str, payload: Any = None, timeout: float = 30.0) -> Any:
        return await self._call(P.REQUEST, self._envelope(target, message_type, payload, timeout, True, False), "payload", timeout)

    async def request_many(self, target: str, message_type: str, payloads: Iterable[Any], timeout: float = 30.0, *,
                           return_exceptions: bool = False, window: int = BATCH_WINDOW) -> List[Any]:
        """Call ``target`` once per payload and return the reply payloads in the order of
        ``payloads``: the frames are encoded into one buffer and written at once (at most
        ``window`` requests in flight; more are written as answers come back), and one waiter
        serves the whole batch. Timeouts, errors, ``return_exceptions`` and the empty batch
        behave as in :meth:`switchboard.Client.request_many`."""
        items = payloads if isinstance(payloads, list) else list(payloads)
        if window < 1:
            raise ValueError("window must be at least 1")
        self._check_open()
        if not items:
            return []
        encoder = P.RequestEncoder(target, message_type, timeout, self._format, self.max_payload)
        batch = _AioBatch(len(items))
        results = batch.results
        data, sent, ends, cids = P.encode_requests(encoder, items, self._ids, "pya-", results, return_exceptions)
        await self._write_batch(batch, data, sent, ends, cids, window, timeout + self._margin)
        if not return_exceptions:
            for r in results:
                if isinstance(r, BaseException):
                    raise r
        return results

    async def _write_batch(self, batch: _AioBatch, data: memoryview, sent: List[int], ends: List[int],
                           cids: List[str], window: int, wait: float) -> None:
        loop = asyncio.get_running_loop()
        total = len(sent)
        pos = 0
        step = max(1, window // 2)
        deadline = loop.time() + wait
        failure: Optional[SwitchboardError] = None
        pending = self._pending
        connection = self._connection_number
        try:
            while pos < total:
                take = min(total - pos, window)
                if pos:
                    take = min(total - pos, step)
                    if not await batch.wait_until(window - take, deadline):
                        failure = RequestTimeout(f"not sent: no room in the window within {wait:.1f} s")
                        break
                end = pos + take
                try:
                    self._check_open()
                    if self._writer is None or self._writer.is_closing():
                        raise self._closed_exc or ConnectionClosed()
                    if self._connection_number != connection:  # dropped and reconnected meanwhile
                        raise ConnectionClosed(f"connection lost during the batch: {self._closed_exc}")
                except ConnectionClosed as exc:
                    failure = exc
                    break
                try:
                    await self._drain_by(deadline)  # room first: never pile a batch behind a stopped broker
                except RequestTimeout as exc:
                    failure = exc
                    break
                batch.outstanding += take
                for k in range(pos, end):
                    pending[cids[k]] = _AioBatchCall(batch, sent[k])
                self._writer.write(data[ends[pos - 1] if pos else 0:ends[end - 1]])
                pos = end
                try:
                    await self._drain_by(deadline)
                except (ConnectionClosed, RequestTimeout) as exc:
                    failure = exc
                    break
                deadline = loop.time() + wait
            if failure is not None:
                for k in range(pos, total):
                    batch.results[sent[k]] = failure
            if not await batch.wait_until(0, deadline):
                err = RequestTimeout(f"no answer within {wait:.1f} s (client-side deadline)")
                for k in range(pos):
                    call = pending.get(cids[k])
                    if type(call) is _AioBatchCall and call.batch is batch:
                        del pending[cids[k]]
                        call.fail(err)
        finally:
            for k in range(pos):  # cancelled or failed: leave nothing of this batch behind
                pending.pop(cids[k], None)

    async def send(self, target: str, message_type: str, payload: Any = None, timeout: float = 30.0) -> None:
        await self._call(P.REQUEST, self._envelope(target, message_type, payload, timeout, False, False), "payload", timeout)

    async def stream(self, target: str, message_type: str, payload: Any = None, timeout: float = 30.0) -> AsyncStream:
        self._check_open()
        cid = self._next_id()
        body = self._envelope(target, message_type, payload, timeout, False, True)
        body["correlation_id"] = cid
        st = AsyncStream(self, cid, timeout + self._margin)
        self._pending[cid] = st
        try:
            await self._send(P.REQUEST, body, None, asyncio.get_running_loop().time() + timeout + self._margin)
        except BaseException:
            self._forget(cid)
            raise
        return st

    async def subscribe(self, patterns: Union[str, Iterable[str]], callback: Optional[Callable[[Notification], Any]] = None,
                        *, queue_size: Optional[int] = None, timeout: float = 30.0) -> AsyncSubscription:
        pats = [patterns] if isinstance(patterns, str) else list(patterns)
        if not pats:
            raise ValueError("at least one pattern is needed")
        self._check_open()
        sub = AsyncSubscription(self, pats, queue_size or self._sub_queue_size, callback)
        self._subs.append(sub)
        try:
            body = await self._call(P.SUBSCRIBE, {"message_types": pats}, "body", timeout)
        except BaseException:
            if sub in self._subs:
                self._subs.remove(sub)
            sub._end()
            raise
        sub.subscribed_types = list(body.get("subscribed_types") or [])
        self.subscribed_types = list(sub.subscribed_types)
        sub._start_callback()
        return sub

    async def unsubscribe(self, subscription: Optional[AsyncSubscription] = None, timeout: float = 30.0) -> List[str]:
        if subscription is None:
            ending = list(self._subs)
            self._subs.clear()
            remove: Optional[List[str]] = []
        else:
            if subscription not in self._subs:
                return list(self.subscribed_types)
            ending = [subscription]
            self._subs.remove(subscription)
            still = {p for s in self._subs for p in s.patterns}
            remove = [p for p in dict.fromkeys(subscription.patterns) if p not in still] or None
        for s in ending:
            s._end()
        if remove is None:
            return list(self.subscribed_types)
        body = await self._call(P.UNSUBSCRIBE, {"message_types": remove}, "body", timeout)
        self.subscribed_types = list(body.get("subscribed_types") or [])
        return list(self.subscribed_types)

    async def publish(self, subject: str, payload: Any = None, retain: bool = False, *,
                      wait: bool = True, timeout: float = 30.0) -> Optional[dict]:
        body: Dict[str, Any] = {"message_type": subject, "payload": payload}
        if retain:
            body["retain"] = True
        if not wait:
            self._check_open()
            await self._send(P.PUBLISH, body, None, asyncio.get_running_loop().time() + timeout)
            return None
        reply = await self._call(P.PUBLISH, body, "body", timeout)
        return {k: v for k, v in reply.items() if k not in ("correlation_id", "success")}

    async def serve(self, service: str, handler: Callable[[AsyncRequest], Any], message_types: Optional[Iterable[str]] = None,
                    mode: str = "exclusive", timeout: float = 30.0) -> AsyncRegistration:
        """Register ``service``; ``handler(request)`` may be a coroutine
        function, a plain function (run on the event loop: must not block), a
        generator or an async generator (answered with STREAM frames)."""
        if mode not in ("exclusive", "shared"):
            raise ValueError("mode must be 'exclusive' or 'shared'")
        self._check_open()
        if service in self._services:
            raise ValueError(f"service {service!r} is already served by this client")
        mts = list(message_types) if message_types is not None else None
        reg = AsyncRegistration(self, service, handler, mts, mode)
        self._services[service] = reg
        body: Dict[str, Any] = {"service": service, "mode": mode}
        if mts is not None:
            body["message_types"] = mts
        try:
            await self._call(P.REGISTER, body, "body", timeout)
        except BaseException:
            self._services.pop(service, None)
            raise
        return reg

    async def unregister(self, service: str, timeout: float = 30.0) -> None:
        if self._services.pop(service, None) is None:
            return
        await self._call(P.UNREGISTER, {"service": service}, "body", timeout)

    async def discover(self, include_actors: bool = True, include_message_types: bool = True, timeout: float = 30.0) -> dict:
        body = await self._call(P.DISCOVER, {"include_actors": include_actors,
                                             "include_message_types": include_message_types}, "body", timeout)
        return {k: v for k, v in body.items() if k not in ("correlation_id", "success")}

    async def stats(self, timeout: float = 30.0) -> dict:
        body = await self._call(P.STATS, {}, "body", timeout)
        if "payload" in body:
            return body["payload"]
        return {k: v for k, v in body.items() if k not in ("correlation_id", "success")}

    async def heartbeat(self, timeout: float = 5.0) -> float:
        self._check_open()
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        self._heartbeat_waiters.append(fut)
        start = loop.time()
        try:
            await self._send(P.HEARTBEAT, {}, P.FORMAT_JSON, start + timeout)
            await asyncio.wait_for(fut, max(0.001, start + timeout - loop.time()))
        except RequestTimeout:
            raise
        except asyncio.TimeoutError:
            raise RequestTimeout(f"no heartbeat reply within {timeout} s") from None
        finally:
            if fut in self._heartbeat_waiters:
                self._heartbeat_waiters.remove(fut)
        return loop.time() - start

    # ------------------------------------------------------------- serving
    async def _handle_request(self, req: AsyncRequest) -> None:
        cid = req.correlation_id
        replies = req.expects_reply or req.expects_stream
        try:
            reg = self._services.get(req.service)
            if reg is None:
                raise error_from_code("ACTOR_NOT_FOUND", f"service {req.service!r} is not served here")
            result = reg.handler(req)
            if inspect.isawaitable(result):
                result = await result
            if inspect.isasyncgen(result) or inspect.isgenerator(result):
                if req.expects_stream:
                    await self._stream_out(req, result)
                    return
                if inspect.isasyncgen(result):
                    result = [x async for x in result]
                else:
                    result = list(result)
            if req.cancelled or not replies:
                return
            if req.expects_stream:
                self._write_quiet(P.STREAM, {"correlation_id": cid, "sequence": 0, "is_final": False, "payload": result}, req.format)
                self._write_quiet(P.STREAM, {"correlation_id": cid, "sequence": 1, "is_final": True}, req.format)
            else:
                try:
                    self._write(P.RESPONSE, {"correlation_id": cid, "success": True, "payload": result}, req.format)
                except ConnectionClosed:
                    return
                except SwitchboardError as exc:
                    self._write_quiet(P.ERROR, P.error_body(cid, exc), req.format)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if not isinstance(exc, SwitchboardError):
                log.exception("handler of %s failed", req.service)
            if req.cancelled or not replies:
                return
            err = P.error_body(cid, exc)
            if req.expects_stream:
                err.pop("success")
                err.update(sequence=0, is_final=True)
                self._write_quiet(P.STREAM, err, req.format)
            else:
                self._write_quiet(P.ERROR, err, req.format)
        finally:
            self._served.pop(cid, None)

    async def _stream_out(self, req: AsyncRequest, gen: Any) -> None:
        cid = req.correlation_id
        seq = 0
        is_async = inspect.isasyncgen(gen)
        try:
            while True:
                if req.cancelled:
                    return
                try:
                    item = await gen.__anext__() if is_async else next(gen)
                except (StopAsyncIteration, StopIteration):
                    break
                if req.cancelled:
                    return
                await self._send(P.STREAM, {"correlation_id": cid, "sequence": seq, "is_final": False, "payload": item},
                                 req.format)
                seq += 1
        except (ConnectionClosed, RequestTimeout):
            return
        except Exception as exc:
            if not isinstance(exc, SwitchboardError):
                log.exception("stream handler of %s failed", req.service)
            if not req.cancelled:
                err = P.error_body(cid, exc)
                err.pop("success")
                err.update(sequence=seq, is_final=True)
                self._write_quiet(P.STREAM, err, req.format)
            return
        finally:
            if is_async:
                await gen.aclose()
            else:
                gen.close()
        if not req.cancelled:
            self._write_quiet(P.STREAM, {"correlation_id": cid, "sequence": seq, "is_final": True}, req.format)

    # ------------------------------------------------------------- reader
    async def _read_loop(self) -> None:
        while True:
            exc = await self._read_connection()
            if self._closing or not self._reconnect or isinstance(exc.reason, (Forbidden, UnsupportedProtocolVersion)):
                break
            if self._writer is not None and not self._writer.is_closing():
                self._writer.close()
            await self._interrupt(exc)
            if not await self._reconnect_with_backoff():
                break
            self._restore_task = asyncio.get_running_loop().create_task(self._restore())
        self._on_disconnect(exc)
        if self._writer is not None and not self._writer.is_closing():
            self._writer.close()

    @staticmethod
    async def _callback(cb: Optional[Callable], arg: Any) -> None:
        if cb is None:
            return
        try:
            r = cb(arg)
            if inspect.isawaitable(r):
                await r
        except Exception:
            log.exception("switchboard callback failed")

    async def _interrupt(self, exc: ConnectionClosed) -> None:
        self._connected = False
        self._closed_exc = exc
        log.warning("switchboard: connection to %s lost (%s); reconnecting", self.socket_path, exc.message)
        pending = list(self._pending.values())
        self._pending.clear()
        self._kinds.clear()
        for p in pending:
            if isinstance(p, AsyncStream):
                p._fail(exc)
            elif type(p) is _AioBatchCall:
                p.fail(exc)
            elif not p.done():
                p.set_exception(exc)
        for w in self._heartbeat_waiters:
            if not w.done():
                w.set_exception(exc)
        self._heartbeat_waiters.clear()
        for s in self._subs:
            if s._active:
                s._interrupt(exc)
        for req in self._served.values():
            req._cancelled.set()
        self._served.clear()
        await self._callback(self._on_disconnect_cb, exc)

    async def _reconnect_with_backoff(self) -> bool:
        assert self._stop is not None
        delay = self._reconnect_delay
        while not self._stop.is_set():
            try:
                await asyncio.wait_for(self._stop.wait(), delay * random.uniform(0.5, 1.0))
                return False
            except asyncio.TimeoutError:
                pass
            try:
                reader, writer = await self._open()
            except ConnectionClosed as e:
                log.debug("switchboard: reconnect to %s failed: %s", self.socket_path, e.message)
                delay = min(delay * 2, self._reconnect_max_delay)
                continue
            if self._closing:
                writer.close()
                return False
            self._reader, self._writer = reader, writer
            self._close_reason = None
            self._push_seq.reset()
            self._connection_number += 1
            self._connected = True
            return True
        return False

    async def _restore(self) -> None:
        timeout = 10.0
        ok = True
        for reg in list(self._services.values()):
            body: Dict[str, Any] = {"service": reg.service, "mode": reg.mode}
            if reg.message_types is not None:
                body["message_types"] = reg.message_types
            try:
                await self._call(P.REGISTER, body, "body", timeout)
            except SwitchboardError as e:
                ok = False
                log.error("switchboard: re-registering %s after reconnect failed: %s", reg.service, e)
        patterns = list(dict.fromkeys(p for s in self._subs if s._active for p in s.patterns))
        if patterns:
            try:
                reply = await self._call(P.SUBSCRIBE, {"message_types": patterns}, "body", timeout)
                self.subscribed_types = list(reply.get("subscribed_types") or [])
            except SwitchboardError as e:
                ok = False
                log.error("switchboard: re-subscribing after reconnect failed: %s", e)
        if not ok or not self.connected:
            return
        self.reconnects += 1
        log.warning("switchboard: reconnected to %s", self.socket_path)
        await self._callback(self._on_reconnect_cb, self)

    async def _read_connection(self) -> ConnectionClosed:
        assert self._reader is not None
        r = self._reader
        buf = bytearray()  # received and not yet decoded; deleting from its front is cheap
        try:
            while True:
                chunk = await r.read(_READ_SIZE)
                if not chunk:
                    raise asyncio.IncompleteReadError(bytes(buf), None)
                buf += chunk
                pos = 0
                while len(buf) - pos >= 5:
                    length, version, rest = P.parse_header(buf[pos:pos + 5])
                    if length > P.ABSOLUTE_MAX_PAYLOAD:
                        raise error_from_code("PAYLOAD_TOO_LARGE", f"broker frame of {length} bytes")
                    size = 5 + rest
                    if len(buf) - pos < size + length:
                        break
                    ftype = buf[pos + 5]
                    fmt = buf[pos + 6] if rest == 2 else P.FORMAT_JSON
                    data = buf[pos + size:pos + size + length]
                    pos += size + length
                    try:
                        body = P.decode_body(data, fmt)
                    except SwitchboardError as e:
                        log.warning("undecodable frame 0x%02x from broker: %s", ftype, e)
                        continue
                    try:
                        self._dispatch(ftype, fmt, body)
                    except Exception:
                        log.exception("error dispatching frame 0x%02x", ftype)
                del buf[:pos]
        except (asyncio.IncompleteReadError, OSError) as e:
            reason = self._close_reason
            if self._closing:
                exc = ConnectionClosed("client closed", reason)
            elif reason is not None:
                exc = ConnectionClosed(f"connection closed by broker after {reason}", reason)
            elif isinstance(e, asyncio.IncompleteReadError):
                exc = ConnectionClosed("connection closed by broker")
            else:
                exc = ConnectionClosed(f"connection lost: {e}")
        except SwitchboardError as e:
            exc = ConnectionClosed(f"protocol broken: {e}", e)
        except asyncio.CancelledError:
            exc = ConnectionClosed("client closed")
        return exc

    def _on_disconnect(self, exc: ConnectionClosed) -> None:
        if self._closed:
            return
        self._closed = True
        self._closed_exc = exc
        pending = list(self._pending.values())
        self._pending.clear()
        self._kinds.clear()
        for p in pending:
            if isinstance(p, AsyncStream):
                p._fail(exc)
            elif type(p) is _AioBatchCall:
                p.fail(exc)
            elif not p.done():
                p.set_exception(exc)
        for w in self._heartbeat_waiters:
            if not w.done():
                w.set_exception(exc)
        self._heartbeat_waiters.clear()
        user_closed = exc.message == "client closed"
        for s in self._subs:
            s._end(None if user_closed else exc)
        self._subs.clear()
        for req in self._served.values():
            req._cancelled.set()
        self._served.clear()

    def _dispatch(self, ftype: int, fmt: int, body: Any) -> None:
        if not isinstance(body, dict):
            if ftype == P.HEARTBEAT:
                body = {}
            else:
                return
        if ftype in (P.RESPONSE, P.ERROR):
            cid = body.get("correlation_id")
            if not cid:
                if ftype == P.ERROR:
                    self._close_reason = error_from_code(body.get("error_code"), body.get("error"))
                    log.warning("broker error on the connection: %s", self._close_reason)
                elif P.is_loss_notice(body):
                    # pushes dropped at the tail of the stream: counted now, not at the next PUSH
                    gap = self._push_seq.notice(body.get("sequence"))
                    for s in [s for s in self._subs if s._active]:
                        s.lost += gap
                return
            pending = self._pending.pop(cid, None)
            if type(pending) is _AioBatchCall:
                pending.resolve(ftype, body)
                return
            kind = self._kinds.pop(cid, "payload")
            if isinstance(pending, AsyncStream):
                final = dict(body, is_final=True)
                pending._on_frame(final)
            elif pending is not None and not pending.done():
                if ftype == P.ERROR or body.get("success") is False:
                    pending.set_exception(error_from_code(body.get("error_code"), body.get("error")))
                else:
                    pending.set_result(body.get("payload") if kind == "payload" else body)
        elif ftype == P.STREAM:
            cid = body.get("correlation_id")
            st = self._pending.get(cid)
            if isinstance(st, AsyncStream):
                if body.get("is_final"):
                    del self._pending[cid]
                st._on_frame(body)
        elif ftype == P.PUSH:
            # One PUSH per publication per connection: every local subscription whose patterns
            # match the subject gets it; a sequence gap is counted against every active one.
            gap = self._push_seq.observe(body.get("sequence"))
            note = Notification.from_body(body, gap)
            for s in [s for s in self._subs if s._active]:
                if gap:
                    s.lost += gap
                if P.any_matches(s.patterns, note.subject):
                    s._put(note)
        elif ftype == P.HEARTBEAT:
            if self._heartbeat_waiters:
                for w in self._heartbeat_waiters:
                    if not w.done():
                        w.set_result(None)
                self._heartbeat_waiters.clear()
            else:
                self._write_quiet(P.HEARTBEAT, {}, P.FORMAT_JSON)
        elif ftype == P.REQUEST:
            req = AsyncRequest(body, fmt)
            self._served[req.correlation_id] = req
            task = asyncio.get_running_loop().create_task(self._handle_request(req))
            self._handler_tasks.add(task)
            task.add_done_callback(self._handler_tasks.discard)
        elif ftype == P.CANCEL:
            req = self._served.get(body.get("correlation_id"))
            if req is not None:
                req._cancelled.set()
