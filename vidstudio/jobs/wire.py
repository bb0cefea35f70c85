"""Framed messages between the server and its worker process, over a stream socket (a socketpair).

A message is a JSON object (the header) plus an optional binary payload (a JPEG preview)::

    [4 bytes: header length, big-endian][header: UTF-8 JSON][4 bytes: payload length][payload]

The worker's stdout and stderr stay free for libraries that print. Messages the server sends: ``{"op": "run",
...}``, ``{"op": "cancel", "job": id}``, ``{"op": "shutdown"}``; messages the worker sends carry ``"ev"``
(``ready``, ``started``, ``progress``, ``step``, ``finished``); see :mod:`vidstudio.jobs.worker`.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
from typing import Any

_LEN = struct.Struct(">I")
#: Largest header or payload accepted (bytes); anything larger means the stream is corrupt.
MAX_PART = 256 << 20


class WireClosed(EOFError):
    """The other side closed the connection (or died)."""


class Wire:
    """One end of the connection: :meth:`send` from any thread, :meth:`recv` from one reader thread.

    Args:
        sock: a connected stream socket (this object owns it).
    """

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self._send_lock = threading.Lock()

    def send(self, header: dict[str, Any], payload: bytes = b"") -> None:
        """Sends one message.

        Raises:
            WireClosed: when the other side is gone.
        """
        head = json.dumps(header, separators=(",", ":"), default=str).encode("utf-8")
        data = b"".join((_LEN.pack(len(head)), head, _LEN.pack(len(payload)), payload))
        with self._send_lock:
            try:
                self.sock.sendall(data)
            except OSError as e:
                raise WireClosed(str(e)) from None

    def _read(self, n: int) -> bytes:
        chunks, got = [], 0
        while got < n:
            try:
                chunk = self.sock.recv(min(n - got, 1 << 20))
            except OSError as e:
                raise WireClosed(str(e)) from None
            if not chunk:
                raise WireClosed("connection closed")
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def recv(self) -> tuple[dict[str, Any], bytes]:
        """Waits for the next message and returns ``(header, payload)``.

        Raises:
            WireClosed: when the other side closed the connection or the stream is corrupt.
        """
        (n,) = _LEN.unpack(self._read(4))
        if n > MAX_PART:
            raise WireClosed(f"corrupt stream (header of {n} bytes)")
        header = json.loads(self._read(n).decode("utf-8"))
        (m,) = _LEN.unpack(self._read(4))
        if m > MAX_PART:
            raise WireClosed(f"corrupt stream (payload of {m} bytes)")
        payload = self._read(m) if m else b""
        return header, payload

    def close(self) -> None:
        """Closes the socket (idempotent)."""
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
