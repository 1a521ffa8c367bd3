"""RFC 6455 for the wall socket: the handshake's answer and what a browser may send.

Walls only listen, so the server needs little of the protocol: the key's accept value,
a few control frames of its own (ping, pong, close), and a reader that checks a client's
frames and keeps only the control frames. A text or binary message is counted (against
the size limit) and discarded without being unmasked or assembled. No extension is ever
negotiated, so every reserved bit must be clear.
"""

from __future__ import annotations

import base64
import hashlib

#: RFC 6455 §1.3: appended to the client's key before hashing.
_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
_DATA = (CONTINUATION, TEXT, BINARY)
_CONTROL = (CLOSE, PING, PONG)

#: Close codes (RFC 6455 §7.4.1).
NORMAL, PROTOCOL_ERROR, POLICY_VIOLATION, TOO_BIG = 1000, 1002, 1008, 1009
INTERNAL_ERROR, TRY_AGAIN = 1011, 1013


class ProtocolError(Exception):
    """The client broke the protocol; ``code`` is the close code to answer with."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def accept_key(key: str) -> str | None:
    """The ``Sec-WebSocket-Accept`` for a client's ``Sec-WebSocket-Key``; None when the key
    is not the base64 of 16 bytes (§4.2.1), i.e. not a websocket client."""
    try:
        if len(base64.b64decode(key.strip(), validate=True)) != 16:
            return None
    except ValueError:
        return None
    digest = hashlib.sha1(key.strip().encode("ascii") + _GUID).digest()  # noqa: S324 - the RFC's
    return base64.b64encode(digest).decode("ascii")


def control_frame(opcode: int, payload: bytes = b"") -> bytes:
    """A server's (unmasked) control frame; the payload is at most 125 bytes (§5.5)."""
    return bytes((0x80 | opcode, len(payload))) + payload


def close_frame(code: int, reason: str = "") -> bytes:
    """A close frame with ``code`` and a reason cut to fit a control frame."""
    return control_frame(CLOSE, code.to_bytes(2, "big") + reason.encode()[:123])


def unmask(payload: bytes, mask: bytes) -> bytes:
    """A masked control frame's payload in clear (at most 125 bytes: a loop is enough)."""
    return bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))


class FrameReader:
    """A client's frames from the bytes as they arrive, split anywhere across reads.

    :meth:`feed` returns the complete control frames as ``(opcode, payload)``; data frames
    are checked and dropped. A frame or a fragmented message over ``limit`` bytes raises
    :class:`ProtocolError` (1009) as soon as its header says so, before its payload is
    read: the buffer never holds more than one frame of at most ``limit`` bytes."""

    __slots__ = ("_buffer", "_message", "limit")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        #: What arrived of an incomplete frame (b"": the shared empty bytes, no memory).
        self._buffer = b""
        #: The bytes so far of a fragmented message in progress; None between messages.
        self._message: int | None = None

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        buffer = self._buffer + data if self._buffer else data
        controls: list[tuple[int, bytes]] = []
        offset = 0
        while True:
            frame = self._frame_at(buffer, offset)
            if frame is None:
                break
            opcode, payload, offset = frame
            if opcode in _CONTROL:
                controls.append((opcode, payload))
        self._buffer = buffer[offset:]
        return controls

    def _frame_at(self, buffer: bytes, offset: int) -> tuple[int, bytes, int] | None:
        """The frame starting at ``offset``: (opcode, control payload, where the next
        starts); None when it has not fully arrived."""
        if len(buffer) - offset < 2:
            return None
        first, second = buffer[offset], buffer[offset + 1]
        opcode, final, length = first & 0x0F, bool(first & 0x80), second & 0x7F
        _check_header(first, second, opcode, final, length)
        start = offset + 2
        if length >= 126:
            size = 2 if length == 126 else 8
            if len(buffer) < start + size:
                return None
            length = int.from_bytes(buffer[start:start + size], "big")
            start += size
        message = self._count(opcode, length) if opcode in _DATA else 0
        end = start + 4 + length
        if len(buffer) < end:
            return None
        if opcode in _DATA:  # complete: now it counts
            self._message = None if final else message
            return opcode, b"", end
        return opcode, unmask(buffer[start + 4:end], buffer[start:start + 4]), end

    def _count(self, opcode: int, length: int) -> int:
        """Check a data frame's place in its message and the message's size; the
        message's bytes with this frame (read again until the frame is complete)."""
        if opcode == CONTINUATION:
            if self._message is None:
                raise ProtocolError(PROTOCOL_ERROR, "continuation without a message")
            length += self._message
        elif self._message is not None:
            raise ProtocolError(PROTOCOL_ERROR, "a new message inside a fragmented one")
        if length > self.limit:
            raise ProtocolError(TOO_BIG, "message too big")
        return length


def _check_header(first: int, second: int, opcode: int, final: bool, length: int) -> None:
    if first & 0x70:
        raise ProtocolError(PROTOCOL_ERROR, "reserved bits set")
    if not second & 0x80:
        raise ProtocolError(PROTOCOL_ERROR, "client frames must be masked")
    if opcode in _CONTROL:
        if not final or length > 125:
            raise ProtocolError(PROTOCOL_ERROR, "bad control frame")
    elif opcode not in _DATA:
        raise ProtocolError(PROTOCOL_ERROR, f"unknown opcode {opcode}")
