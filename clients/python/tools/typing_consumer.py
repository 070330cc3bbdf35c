"""User code type-checked with mypy --strict against the INSTALLED package (tools/check.sh): it passes
only if the package ships py.typed and its annotations hold for a caller."""

from __future__ import annotations

import switchboard
from switchboard.aio import AsyncClient


def add(path: str) -> int:
    with switchboard.Client(path, wait_for_broker=5.0) as c:
        reply = c.request("calculator", "Add", {"a": 1, "b": 2})
        value: int = reply["value"]
        sub: switchboard.Subscription = c.subscribe("prices.*")
        note: switchboard.Notification = sub.get(timeout=1.0)
        print(note.subject, c.discover(describe="calculator")["services"])
        return value


async def multiply(path: str) -> object:
    async with AsyncClient(path) as a:
        return await a.request("calculator", "Multiply", {"a": 6, "b": 7})


def refused(exc: switchboard.ConnectionClosed) -> bool:
    return exc.cause == switchboard.ConnectionClosed.BY_BROKER and isinstance(exc.reason, switchboard.Forbidden)
