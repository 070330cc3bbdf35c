"""asyncio Switchboard client.

    async with AsyncClient() as c:
        print(await c.request("calculator", "Add", {"a": 1, "b": 2}))
        async for frame in await c.stream("countdown", "Countdown", {"from": 3, "interval_ms": 10}):
            ...

Same operations as :class:`switchboard.Client`, on the same protocol state
(:mod:`switchboard._core`); this module holds only the asyncio I/O. One reader
task demultiplexes replies by correlation id, so ``asyncio.gather`` of many
requests pipelines them. ``request_many()`` does the same for a batch with one
write and one waiter instead of a task and a Future per request.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Set, Tuple, Union

from . import _core as C
from . import protocol as P
from .errors import ConnectionClosed, RequestTimeout, SwitchboardError
from .protocol import Notification

__all__ = ["AsyncClient", "AsyncStream", "AsyncSubscription", "AsyncRequest", "AsyncRegistration"]

log = logging.getLogger("switchboard")

#: default ``window`` of request_many(): requests of one batch in flight at once
BATCH_WINDOW = 1024

_READ_SIZE = 256 * 1024  # bytes asked of the stream reader at a time


async def _within(aw: "asyncio.Future[Any]", timeout: Optional[float]) -> bool:
    """Wait for ``aw`` up to ``timeout`` seconds; whether it is done (never raises its outcome)."""
    done, _ = await asyncio.wait((aw,), timeout=timeout)
    return bool(done)


async def _event(event: asyncio.Event, timeout: Optional[float]) -> bool:
    waiter = asyncio.ensure_future(event.wait())
    try:
        return await _within(waiter, timeout)
    finally:
        waiter.cancel()


class _AioBatch(C.BatchSlots):
    """The outcome of one ``request_many()``: a slot per request and one Future at a time that
    its caller awaits (made when it has to wait, resolved when enough answers arrived)."""

    __slots__ = ("_waiter",)

    def __init__(self, n: int):
        super().__init__(n)
        self._waiter: Optional[asyncio.Future[None]] = None

    def settle_many(self, indexes: Sequence[int], values: Sequence[Any]) -> None:
        if self._fill(indexes, values) and self._waiter is not None and not self._waiter.done():
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
                await _within(self._waiter, remaining)
            finally:
                self._waiter = None
                self._wake_at = -1
        return True


class AsyncRequest(C.RequestState):
    """A request forwarded by the broker to a service served by this client."""

    _cancelled: asyncio.Event

    def __init__(self, body: Dict[str, Any], fmt: int):
        super().__init__(body, fmt, asyncio.Event())

    async def wait_cancelled(self, timeout: Optional[float] = None) -> bool:
        """Wait up to ``timeout`` seconds; True if the broker cancelled the request."""
        return await _event(self._cancelled, timeout)


class AsyncStream(C.StreamState):
    """Async iterator over the payloads of a request-stream call."""

    _finished: asyncio.Event

    def __init__(self, client: "AsyncClient", correlation_id: str, idle_timeout: float):
        super().__init__(client, correlation_id, idle_timeout, asyncio.Event(), asyncio.Queue())

    def __aiter__(self) -> "AsyncStream":
        return self

    async def __anext__(self) -> Any:
        if self._done:
            raise StopAsyncIteration
        getter = asyncio.ensure_future(self._queue.get())
        if not await _within(getter, self._idle_timeout):
            getter.cancel()
            raise self._idle()
        if self._done:  # cancelled while waiting
            raise StopAsyncIteration
        more, payload = self._take(getter.result())
        if not more:
            raise StopAsyncIteration
        return payload

    async def wait_closed(self, timeout: Optional[float] = None) -> bool:
        return await _event(self._finished, timeout)

    async def __aenter__(self) -> "AsyncStream":
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        if not self._done:
            self.cancel()


class AsyncSubscription(C.SubscriptionState):
    """Notifications of one ``subscribe()``: ``async for``, ``await get(timeout)``
    or a callback (plain function or coroutine function). Bounded local queue:
    when full, the oldest notification is dropped and counted in ``dropped``.
    ``lost``: notifications the broker dropped on the connection while this
    subscription was active (sequence gaps; see ``switchboard.Subscription``).
    On a dropped connection ``get()`` raises ConnectionClosed once, then
    continues after the reconnect (see ``switchboard.Subscription``)."""

    def __init__(self, client: "AsyncClient", patterns: List[str], maxsize: int,
                 callback: Optional[Callable[[Notification], Any]] = None):
        super().__init__(client, patterns, callback)
        self._queue: "asyncio.Queue[Any]" = asyncio.Queue(maxsize=max(1, maxsize))
        self._full, self._empty = asyncio.QueueFull, asyncio.QueueEmpty
        self._task: Optional[asyncio.Task[None]] = None

    def _start_callback(self) -> None:
        if self._callback is not None:
            self._task = asyncio.get_running_loop().create_task(self._run_callback())

    async def _run_callback(self) -> None:
        while True:
            try:
                note = await self.get()
            except EOFError:
                return
            except SwitchboardError as exc:
                if self._keeps_going(exc):
                    continue  # the connection dropped; delivery resumes after the reconnect
                return
            await _callback(self._callback, note, "subscription callback")

    def _requeue_end(self) -> None:
        self._queue.put_nowait(C.END)

    async def get(self, timeout: Optional[float] = None) -> Notification:
        """Next notification; TimeoutError if none in time, EOFError if the
        subscription ended, ConnectionClosed if the connection dropped."""
        getter = asyncio.ensure_future(self._queue.get())
        if not await _within(getter, timeout):
            getter.cancel()
            raise TimeoutError(f"no notification within {timeout} s")
        return self._take(getter.result())

    def __aiter__(self) -> "AsyncSubscription":
        return self

    async def __anext__(self) -> Notification:
        try:
            return await self.get()
        except EOFError:
            raise StopAsyncIteration from None

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


class AsyncRegistration(C.Registration):
    async def unregister(self, timeout: float = 30.0) -> None:
        await self._client.unregister(self.service, timeout=timeout)


async def _callback(cb: Optional[Callable[..., Any]], arg: Any, what: str) -> None:
    """Call a user callback (plain or coroutine function); its errors are logged."""
    if cb is None:
        return
    try:
        r = cb(arg)
        if inspect.isawaitable(r):
            await r
    except Exception:
        C.log_callback_failure(what)


class AsyncClient(C.ClientState):
    """asyncio Switchboard client. Use ``async with AsyncClient(path) as c`` or
    ``c = await AsyncClient(path).connect()``.

    ``wait_for_broker``, reconnection, refusals and timeouts work as in :class:`switchboard.Client`:
    on a dropped connection everything in flight fails with ConnectionClosed (a
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
                 max_payload: int = P.DEFAULT_MAX_PAYLOAD, connect_timeout: float = 5.0, wait_for_broker: float = 0.0,
                 subscription_queue_size: int = 1000, deadline_margin: float = 2.0, send_timeout: float = 10.0,
                 reconnect: bool = True, reconnect_delay: float = 0.1, reconnect_max_delay: float = 2.0,
                 on_disconnect: Optional[Callable[[ConnectionClosed], Any]] = None,
                 on_reconnect: Optional[Callable[["AsyncClient"], Any]] = None):
        self._configure(socket_path, format, max_payload, connect_timeout, subscription_queue_size, deadline_margin,
                        send_timeout, reconnect, reconnect_delay, reconnect_max_delay, on_disconnect, on_reconnect)
        self._wait_for_broker = wait_for_broker
        self._stop: Optional[asyncio.Event] = None
        self._restore_task: Optional[asyncio.Task[None]] = None
        self._core = C.Core("pya-", self._format, max_payload, self._write)
        self._handler_tasks: Set[asyncio.Task[None]] = set()
        self._reader: Optional[asyncio.StreamReader] = None
        self._writer: Optional[asyncio.StreamWriter] = None
        self._read_task: Optional[asyncio.Task[None]] = None

    async def _open(self, wait: float = 0.0) -> Tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        loop = asyncio.get_running_loop()
        waiting = C.ConnectWait(self.socket_path, wait, loop.time())
        while True:
            P.check_socket_path(self.socket_path, self._default_path)  # UnsafeSocketPath: as in Client
            try:
                return await asyncio.wait_for(
                    asyncio.open_unix_connection(self.socket_path, limit=P.ABSOLUTE_MAX_PAYLOAD + 64),
                    self._connect_timeout)
            except (OSError, TimeoutError) as exc:
                delay = waiting.retry_in(exc, loop.time())
                if delay is None:
                    raise waiting.error(exc) from exc
                await asyncio.sleep(delay)

    async def connect(self) -> "AsyncClient":
        if self._writer is not None:
            return self
        self._reader, self._writer = await self._open(self._wait_for_broker)
        self._core.started = self._core.connected = True
        self._stop = asyncio.Event()
        self._read_task = asyncio.get_running_loop().create_task(self._read_loop())
        return self

    async def __aenter__(self) -> "AsyncClient":
        return await self.connect()

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.close()

    async def close(self) -> None:
        if self._core.closing:
            if self._read_task is not None and not self._read_task.done():
                await asyncio.wait([self._read_task], timeout=10)
            return
        self._core.closing = True
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
        self._core.shut(ConnectionClosed("client closed", cause=ConnectionClosed.BY_CLIENT))
        for t in list(self._handler_tasks):
            t.cancel()

    async def serve_forever(self) -> None:
        """Wait until the client is closed (``close()`` from another task, or a refusal by the
        broker); the served handlers run meanwhile. Cancelling the waiting task closes the client."""
        try:
            if self._read_task is not None:
                await asyncio.shield(self._read_task)
        finally:
            await self.close()

    # ------------------------------------------------------------- internals
    def _write(self, data: Union[bytes, memoryview]) -> None:
        self._core.writable()
        if self._writer is None or self._writer.is_closing():
            raise self._core.closed_exc or ConnectionClosed(cause=ConnectionClosed.LOST)
        self._writer.write(data)

    def _send_quiet(self, frame_type: int, body: Any, fmt: Optional[int] = None) -> None:
        self._core.send_quiet(frame_type, body, fmt)

    async def _drain(self) -> None:
        writer = self._writer
        assert writer is not None
        try:
            await writer.drain()
        except (OSError, RuntimeError) as exc:
            raise await self._write_failed(exc) from exc

    async def _write_failed(self, exc: BaseException) -> ConnectionClosed:
        """As in Client: the broker's last frame (FORBIDDEN...) is read before the failure is reported."""
        task = self._read_task
        if task is not None and task is not asyncio.current_task() and self._core.close_reason is None:
            await asyncio.wait((task,), timeout=2.0)
        return self._core.write_failed(exc)

    async def _drain_by(self, deadline: Optional[float] = None) -> None:
        """Wait until the transport's buffer is below its high-water mark, by ``deadline`` (loop
        time; None: ``send_timeout`` from now), else raise RequestTimeout."""
        writer = self._writer
        if writer is None or writer.transport.get_write_buffer_size() == 0:
            return
        loop = asyncio.get_running_loop()
        if deadline is None:
            deadline = loop.time() + self._send_timeout
        drained = asyncio.ensure_future(self._drain())
        # at least a moment: drain() runs as a task, which a zero timeout would cancel before it starts
        if not await _within(drained, max(0.001, deadline - loop.time())):
            drained.cancel()
            raise RequestTimeout(
                f"not sent by the deadline: the broker at {self.socket_path} did not read (is it stopped?); "
                f"{writer.transport.get_write_buffer_size()} bytes wait in the send buffer", client_side=True)
        drained.result()

    async def _send_bytes(self, data: bytes, deadline: Optional[float] = None) -> None:
        """Write frames and wait until they leave the buffer, all by ``deadline``: room is awaited
        before writing, so a broker that does not read makes calls time out instead of piling
        frames up in memory."""
        if deadline is None:
            deadline = asyncio.get_running_loop().time() + self._send_timeout
        await self._drain_by(deadline)
        self._write(data)
        await self._drain_by(deadline)

    def _forget(self, cid: str) -> None:
        self._core.forget(cid)

    async def _call(self, frame_type: int, body: Dict[str, Any], kind: str, timeout: float) -> Any:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[Any] = loop.create_future()
        call, data = self._core.start_call(fut, kind, frame_type, body, loop.time() + timeout + self._margin)
        try:
            await self._send_bytes(data, call.deadline)
            try:
                return await asyncio.wait_for(fut, max(0.001, call.deadline - loop.time()))
            except TimeoutError:  # the wait's own, or the broker's TIMEOUT (a RequestTimeout is a TimeoutError too)
                if fut.done() and not fut.cancelled():
                    return fut.result()  # the call's own outcome: the broker's TIMEOUT stays the broker's
                raise self._core.expire(call, timeout + self._margin) from None
        finally:
            self._forget(call.correlation_id)

    # ------------------------------------------------------------- operations
    async def request(self, target: str, message_type: str, payload: Any = None, timeout: float = 30.0) -> Any:
        return await self._call(P.REQUEST, C.Core.envelope(target, message_type, payload, timeout, True, False),
                                "payload", timeout)

    async def request_many(self, target: str, message_type: str, payloads: Iterable[Any], timeout: float = 30.0, *,
                           return_exceptions: bool = False, window: int = BATCH_WINDOW) -> List[Any]:
        """Call ``target`` once per payload and return the reply payloads in the order of
        ``payloads``: the frames are encoded into one buffer and written at once (at most
        ``window`` requests in flight; more are written as answers come back), and one waiter
        serves the whole batch. Timeouts, errors, ``return_exceptions`` and the empty batch
        behave as in :meth:`switchboard.Client.request_many`."""
        plan = self._core.batch(_AioBatch, target, message_type, payloads, timeout, return_exceptions, window)
        if plan is None:
            return []
        try:
            await self._write_batch(plan, timeout + self._margin)
        finally:
            plan.discard()  # cancelled or failed: leave nothing of this batch behind
        return plan.results()

    async def _write_batch(self, plan: C.BatchPlan, wait: float) -> None:
        batch: _AioBatch = plan.slots  # type: ignore[assignment]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while True:
            take, level = plan.next_take()
            if not take:
                break
            if plan.pos and not await batch.wait_until(level, deadline):
                plan.no_room(wait)
                break
            try:
                await self._drain_by(deadline)  # room first: never pile a batch behind a stopped broker
                chunk = plan.begin(take)
            except (ConnectionClosed, RequestTimeout) as exc:
                plan.stop(exc)
                break
            try:
                self._write(chunk)
            except ConnectionClosed as exc:
                plan.not_written(take, exc)
                break
            plan.written(take)
            try:
                await self._drain_by(deadline)
            except (ConnectionClosed, RequestTimeout) as exc:
                plan.stop(exc)
                break
            deadline = loop.time() + wait
        plan.finish_unsent()
        if not await batch.wait_until(0, deadline):
            plan.expire(wait)

    async def send(self, target: str, message_type: str, payload: Any = None, timeout: float = 30.0) -> None:
        await self._call(P.REQUEST, C.Core.envelope(target, message_type, payload, timeout, False, False), "payload",
                         timeout)

    async def stream(self, target: str, message_type: str, payload: Any = None, timeout: float = 30.0) -> AsyncStream:
        st = AsyncStream(self, self._core.next_id(), timeout + self._margin)
        data = self._core.open_stream(st, C.Core.envelope(target, message_type, payload, timeout, False, True))
        try:
            await self._send_bytes(data, asyncio.get_running_loop().time() + timeout + self._margin)
        except BaseException:
            self._forget(st.correlation_id)
            raise
        return st

    async def subscribe(self, patterns: Union[str, Iterable[str]],
                        callback: Optional[Callable[[Notification], Any]] = None, *,
                        queue_size: Optional[int] = None, timeout: float = 30.0) -> AsyncSubscription:
        pats = C.check_patterns(patterns)
        sub = AsyncSubscription(self, pats, queue_size or self._sub_queue_size, callback)
        self._core.add_subscription(sub)
        reply = None
        try:
            reply = await self._call(P.SUBSCRIBE, {"message_types": pats}, "body", timeout)
        finally:
            self._core.subscribed(sub, reply)
        sub._start_callback()
        return sub

    async def unsubscribe(self, subscription: Optional[AsyncSubscription] = None, timeout: float = 30.0) -> List[str]:
        remove = self._core.remove_subscription(subscription)
        if remove is None:
            return list(self._core.subscribed_types)
        return self._core.unsubscribed(await self._call(P.UNSUBSCRIBE, {"message_types": remove}, "body", timeout))

    async def publish(self, subject: str, payload: Any = None, retain: bool = False, *,
                      wait: bool = True, timeout: float = 30.0) -> Optional[Dict[str, Any]]:
        body = C.Core.publish_body(subject, payload, retain)
        if not wait:
            self._core.check_open()
            await self._send_bytes(self._core.encode(P.PUBLISH, body), asyncio.get_running_loop().time() + timeout)
            return None
        return C.strip(await self._call(P.PUBLISH, body, "body", timeout))

    async def serve(self, service: str, handler: Callable[[AsyncRequest], Any],
                    message_types: Optional[Iterable[str]] = None, mode: str = "exclusive",
                    timeout: float = 30.0) -> AsyncRegistration:
        """Register ``service``; ``handler(request)`` may be a coroutine
        function, a plain function (run on the event loop: must not block), a
        generator or an async generator (answered with STREAM frames).
        ``serve()`` returns at once; ``await serve_forever()`` keeps serving."""
        C.check_mode(mode)
        types = list(message_types) if message_types is not None else None
        reg = AsyncRegistration(self, service, handler, types, mode)
        self._core.add_service(reg)
        try:
            await self._call(P.REGISTER, reg.body(), "body", timeout)
        except BaseException:
            self._core.drop_service(service)
            raise
        return reg

    async def unregister(self, service: str, timeout: float = 30.0) -> None:
        if self._core.drop_service(service):
            await self._call(P.UNREGISTER, {"service": service}, "body", timeout)

    async def discover(self, include_actors: bool = True, include_message_types: bool = True, timeout: float = 30.0, *,
                       describe: Union[bool, str] = False) -> Dict[str, Any]:
        """As :meth:`switchboard.Client.discover` (``describe`` adds each service's ``schema``)."""
        body = C.Core.discover_body(include_actors, include_message_types, bool(describe))
        reply = C.strip(await self._call(P.DISCOVER, body, "body", timeout))
        for name in C.describe_targets(reply, describe) if describe else []:
            C.attach_schema(reply, await self._call(P.DISCOVER, dict(body, describe=name), "body", timeout))
        return reply

    async def stats(self, timeout: float = 30.0) -> Dict[str, Any]:
        return C.Core.stats_of(await self._call(P.STATS, {}, "body", timeout))

    async def heartbeat(self, timeout: float = 5.0) -> float:
        self._core.check_open()
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[Any] = loop.create_future()
        self._core.heartbeat_waiters.append(fut)
        start = loop.time()
        try:
            await self._send_bytes(self._core.encode(P.HEARTBEAT, {}, P.FORMAT_JSON), start + timeout)
            if not await _within(fut, max(0.001, start + timeout - loop.time())):
                raise RequestTimeout(f"no heartbeat reply within {timeout} s", client_side=True)
            fut.result()
        finally:
            if fut in self._core.heartbeat_waiters:
                self._core.heartbeat_waiters.remove(fut)
        return loop.time() - start

    # ------------------------------------------------------------- serving
    async def _handle_request(self, req: AsyncRequest) -> None:
        core = self._core
        try:
            result = core.handler_of(req)(req)
            if inspect.isawaitable(result):
                result = await result
            if inspect.isasyncgen(result) or inspect.isgenerator(result):
                if req.expects_stream:
                    await self._stream_out(req, result)
                    return
                result = [x async for x in result] if inspect.isasyncgen(result) else list(result)  # type: ignore[arg-type]
            self._core.write_quiet(core.reply_frames(req, result))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._core.write_quiet(core.error_frames(req, exc))
        finally:
            core.served_done(req)

    async def _stream_out(self, req: AsyncRequest, gen: Any) -> None:
        core = self._core
        seq = 0
        is_async = inspect.isasyncgen(gen)
        try:
            while not req.cancelled:
                try:
                    item = await gen.__anext__() if is_async else next(gen)
                except (StopAsyncIteration, StopIteration):
                    break
                if req.cancelled:
                    return
                await self._send_bytes(core.stream_item(req, seq, item))
                seq += 1
        except Exception as exc:
            core.write_quiet(core.stream_failure(req, exc, seq))
            return
        finally:
            if is_async:
                await gen.aclose()
            else:
                gen.close()
        if req.cancelled:
            return
        self._core.write_quiet(core.stream_end(req, seq))

    # ------------------------------------------------------------- reader
    async def _read_loop(self) -> None:
        core = self._core
        while True:
            exc = await self._read_connection()
            if not core.reconnects_after(exc, self._reconnect):
                break
            if self._writer is not None and not self._writer.is_closing():
                self._writer.close()
            log.warning("switchboard: connection to %s lost (%s); reconnecting", self.socket_path, exc.message)
            core.interrupt(exc)
            await _callback(self._on_disconnect_cb, exc, "on_disconnect callback")
            if not await self._reconnect_with_backoff():
                break
            self._restore_task = asyncio.get_running_loop().create_task(self._restore())
        core.shut(exc)
        if self._writer is not None and not self._writer.is_closing():
            self._writer.close()

    async def _reconnect_with_backoff(self) -> bool:
        assert self._stop is not None
        backoff = C.Backoff(self._reconnect_delay, self._reconnect_max_delay)
        while not await _event(self._stop, backoff.next()):
            try:
                reader, writer = await self._open()
            except ConnectionClosed as e:
                log.debug("switchboard: reconnect to %s failed: %s", self.socket_path, e.message)
                continue
            if self._core.closing:
                writer.close()
                return False
            self._reader, self._writer = reader, writer
            self._core.reconnected()
            return True
        return False

    async def _restore(self) -> None:
        for step in self._core.restore_plan():
            try:
                step.done(await self._call(step.frame_type, step.body, "body", 10.0))
            except SwitchboardError as e:
                step.failed(e)
        if not self._core.restore_ok or not self.connected:
            return
        self.reconnects += 1
        log.warning("switchboard: reconnected to %s", self.socket_path)
        await _callback(self._on_reconnect_cb, self, "on_reconnect callback")

    def _receive(self, ftype: int, fmt: int, body: Any) -> None:
        req = self._core.receive(ftype, fmt, body, AsyncRequest)
        if req is not None:
            task = asyncio.get_running_loop().create_task(self._handle_request(req))  # type: ignore[arg-type]
            self._handler_tasks.add(task)
            task.add_done_callback(self._handler_tasks.discard)

    async def _read_connection(self) -> ConnectionClosed:
        assert self._reader is not None
        r = self._reader
        buf = bytearray()  # received and not yet decoded; deleting from its front is cheap
        error: Optional[BaseException] = None
        try:
            while True:
                chunk = await r.read(_READ_SIZE)
                if not chunk:
                    break
                buf += chunk
                pos = 0
                while len(buf) - pos >= 5:
                    length, _version, rest = P.parse_header(buf[pos:pos + 5])
                    if length > P.ABSOLUTE_MAX_PAYLOAD:
                        raise P.frame_too_large(length)
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
                        self._receive(ftype, fmt, body)
                    except Exception:
                        log.exception("error dispatching frame 0x%02x", ftype)
                del buf[:pos]
        except (OSError, SwitchboardError) as e:
            error = e
        except asyncio.CancelledError:
            self._core.closing = True
        return self._core.connection_end(error)
