"""The fan-out baseline: a minimal broadcast server written with the ``websockets`` library.

Every connection except ``/publish`` is a wall: it gets a count message, then every message
the publisher sends, via ``websockets.broadcast`` (one frame built, written to each socket).
Compression is off, as the ``websockets`` docs advise for broadcast. It does nothing else:
no database, no bus — the practical limit of a Python websocket fan-out on this machine.

``python -m benchmarks.baseline_server PORT``
"""

from __future__ import annotations

import asyncio
import sys

from websockets.asyncio.server import broadcast, serve

from benchmarks.common import raise_fd_limit

CLIENTS: set = set()


async def handler(connection) -> None:
    if connection.request.path == "/publish":
        async for message in connection:
            broadcast(CLIENTS, message)
        return
    CLIENTS.add(connection)
    try:
        await connection.send('{"type":"count","count":0}')
        await connection.wait_closed()
    finally:
        CLIENTS.discard(connection)


async def main(port: int) -> None:
    async with serve(handler, "127.0.0.1", port, compression=None, backlog=4096,
                     ping_interval=25, max_size=4096, max_queue=16):
        print("ready", flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    raise_fd_limit()
    asyncio.run(main(int(sys.argv[1])))
