"""The fork server's wire format: length-prefixed JSON headers, optional raw payloads and fds.

JSON rather than pickle because the trainer reads what sandbox children send, and a child runs
untrusted code that can write anything to its socket: unpickling that would hand it the trainer.
A frame is ``!I`` length + UTF-8 JSON object; when the header has ``nbytes``, that many raw bytes
follow (file contents travel unencoded). File descriptors ride on the first byte of a frame
(``SCM_RIGHTS``), which is how the trainer hands a child's socket and pipes to the server.
"""

from __future__ import annotations

import json
import socket
import struct
from collections.abc import Sequence
from typing import Any

_LENGTH = struct.Struct("!I")
MAX_HEADER_BYTES = 64 << 20  # code and values are capped well below this
MAX_FDS = 8


class ProtocolError(RuntimeError):
    """The other side sent something that is not a frame of this protocol."""


def send(sock: socket.socket, header: dict[str, Any], payload: bytes | None = None, fds: Sequence[int] = ()) -> None:
    if payload is not None:
        header = {**header, "nbytes": len(payload)}
    body = json.dumps(header, separators=(",", ":")).encode()
    if len(body) > MAX_HEADER_BYTES:
        raise ValueError(f"message of {len(body)} bytes exceeds the protocol's {MAX_HEADER_BYTES}")
    frame = _LENGTH.pack(len(body)) + body
    if fds:
        sent = socket.send_fds(sock, [frame], list(fds))
        frame = frame[sent:]
    if frame:
        sock.sendall(frame)
    if payload:
        sock.sendall(payload)


def recv(sock: socket.socket, max_payload: int = 1 << 40, with_fds: bool = False) -> tuple[dict[str, Any], bytes | None, list[int]]:
    """One frame: (header, payload or None, received fds). ``EOFError`` when the peer closed."""
    fds: list[int] = []
    if with_fds:
        data, fds, _flags, _addr = socket.recv_fds(sock, _LENGTH.size, MAX_FDS)
        if not data:
            raise EOFError("peer closed the connection")
        prefix = data + _recv_exact(sock, _LENGTH.size - len(data))
    else:
        prefix = _recv_exact(sock, _LENGTH.size, eof_ok=True)
    (length,) = _LENGTH.unpack(prefix)
    if length > MAX_HEADER_BYTES:
        raise ProtocolError(f"header of {length} bytes exceeds {MAX_HEADER_BYTES}")
    try:
        header = json.loads(_recv_exact(sock, length))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProtocolError(f"header is not JSON: {exc}") from None
    if not isinstance(header, dict):
        raise ProtocolError(f"header is not a JSON object: {type(header).__name__}")
    nbytes = header.get("nbytes")
    if nbytes is None:
        return header, None, fds
    if not isinstance(nbytes, int) or not 0 <= nbytes <= max_payload:
        raise ProtocolError(f"payload size {nbytes!r} outside 0..{max_payload}")
    return header, _recv_exact(sock, nbytes), fds


def _recv_exact(sock: socket.socket, n: int, eof_ok: bool = False) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(min(n - len(buf), 1 << 20))
        if not chunk:
            if eof_ok and not buf:
                raise EOFError("peer closed the connection")
            raise ProtocolError(f"connection closed mid-frame ({len(buf)} of {n} bytes)")
        buf += chunk
    return bytes(buf)
