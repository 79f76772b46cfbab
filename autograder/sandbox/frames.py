"""Frames between the trusted grader and a sandbox: length, JSON header, blobs.

Each read is bounded before it is made (the header's length, the blobs'
total against the caller's cap) and every frame is read by one deadline,
however slowly it trickles in. Imports nothing but the standard library.
"""

from __future__ import annotations

import json
import socket
import struct
import time

__all__ = ["ProtocolError", "MAX_HEADER", "send_frame", "recv_frame"]

MAX_HEADER = 16 << 20  # JSON header cap, bytes


class ProtocolError(Exception):
    """A frame or value that breaks the format; the sender is not trusted."""


_ONE_WRITE = 1 << 18  # frames with this many blob bytes or fewer go out in one write


def _time_left(sock: socket.socket, deadline: float | None) -> None:
    """Give the next socket operation only what is left of the call's deadline."""
    if deadline is not None:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the deadline passed")
        sock.settimeout(left)


def send_frame(sock: socket.socket, header: dict, blobs: list[bytes | memoryview] = (), deadline: float | None = None) -> None:
    header = dict(header, blobs=[len(b) for b in blobs])
    raw = json.dumps(header, allow_nan=False, separators=(",", ":")).encode()
    _time_left(sock, deadline)
    if sum(len(b) for b in blobs) <= _ONE_WRITE:
        # One write: the other side wakes once for the frame, not once per part.
        sock.sendall(b"".join([struct.pack("!I", len(raw)), raw, *blobs]))
        return
    sock.sendall(struct.pack("!I", len(raw)) + raw)
    for blob in blobs:
        _time_left(sock, deadline)
        sock.sendall(blob)


def _recv_exact(sock: socket.socket, n: int, deadline: float | None = None) -> bytearray:
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        _time_left(sock, deadline)
        k = sock.recv_into(view[got:], n - got)
        if k == 0:
            raise EOFError("the other side closed the connection")
        got += k
    return buf


def recv_frame(sock: socket.socket, max_bytes: int, deadline: float | None = None) -> tuple[dict, list[bytearray]]:
    """Read one frame; refuse it before reading if it is over ``max_bytes``.

    With ``deadline`` (``time.monotonic()``), the whole frame must have
    arrived by then, however it trickles in: ``TimeoutError`` otherwise.
    """
    (n,) = struct.unpack("!I", _recv_exact(sock, 4, deadline))
    if n > MAX_HEADER:
        raise ProtocolError(f"header of {n} bytes is over the {MAX_HEADER}-byte cap")
    try:
        header = json.loads(_recv_exact(sock, n, deadline))
    except RecursionError:
        raise ProtocolError("header is nested too deeply") from None
    except ValueError as exc:
        raise ProtocolError(f"header is not JSON: {exc}") from None
    if not isinstance(header, dict):
        raise ProtocolError("header is not an object")
    sizes = header.get("blobs", [])
    if not isinstance(sizes, list) or not all(type(s) is int and s >= 0 for s in sizes):
        raise ProtocolError("bad blob sizes")
    total = sum(sizes)
    if total > max_bytes:
        raise ProtocolError(
            f"the value is {total / 2**20:.1f} MiB, over the {max_bytes / 2**20:.0f} MiB cap"
        )
    return header, [_recv_exact(sock, s, deadline) for s in sizes]
