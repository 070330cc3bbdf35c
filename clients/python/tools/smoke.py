"""Smoke test of an INSTALLED switchboard-client against a real broker (run by tools/check.sh with the
python of a fresh virtualenv). Usage: python smoke.py SOCKET_PATH. Prints one line and exits 0 when
every check passed; raises otherwise."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

import switchboard
from switchboard.aio import AsyncClient


def main(path: str) -> None:
    where = Path(switchboard.__file__).resolve()
    assert "site-packages" in where.parts, f"switchboard imported from {where}, not from the installed package"
    assert (where.parent / "py.typed").is_file(), "py.typed is not installed"
    # the broker may still be starting: the client waits for it (bounded), then for its demo services
    with switchboard.Client(path, wait_for_broker=120) as c:
        deadline = time.monotonic() + 60
        while True:
            try:
                assert c.request("calculator", "Add", {"a": 2, "b": 3}) == {"value": 5}
                break
            except switchboard.ActorNotFound:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        assert [f["remaining"] for f in c.stream("countdown", "Countdown", {"from": 3, "interval_ms": 1})] == [2, 1, 0]
        me = f"smoke-{os.getpid()}"  # several smoke tests may share the broker
        c.serve(me, lambda req: req.payload)
        with switchboard.Client(path, format="msgpack") as m:
            assert m.request(me, "Echo", {"x": [1, None, "é"]}) == {"x": [1, None, "é"]}
        sub = c.subscribe(f"{me}.*")
        c.publish(f"{me}.one", {"n": 1})
        assert sub.get(timeout=10).payload == {"n": 1}
        calc = next(s for s in c.discover(describe="calculator")["services"] if s["name"] == "calculator")
        assert {f["name"] for f in next(t for t in calc["schema"] if t["name"] == "Add")["fields"]} == {"a", "b"}

    async def aio() -> None:
        async with AsyncClient(path) as a:
            assert await a.request("calculator", "Multiply", {"a": 6, "b": 7}) == {"value": 42}

    asyncio.run(aio())
    print(f"smoke test passed: switchboard-client {switchboard.__version__} from {where.parent}, "
          f"codecs {switchboard.protocol.JSON_CODEC.name} and {switchboard.protocol.MSGPACK_CODEC.name}")


if __name__ == "__main__":
    main(sys.argv[1])
