"""The SDK on both transports: over HTTP to a real uvicorn server, and in-process."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import httpx
import pytest


class LostFirstResponse:
    """A loopback proxy that forwards every request upstream but drops the connection
    instead of returning the FIRST response: the write happened, the client never heard.
    (Network fault injection, not a stand-in for any of our components.)"""

    def __init__(self, upstream: str) -> None:
        self.upstream = httpx.Client(base_url=upstream, timeout=30)
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.forwarded = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            with conn:
                self._handle(conn)

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        data = b""
        while b"\r\n\r\n" not in data:
            data += conn.recv(65536)
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = dict(line.split(": ", 1) for line in lines[1:])
        headers = {k.lower(): v for k, v in headers.items()}
        while len(body) < int(headers.get("content-length", 0)):
            body += conn.recv(65536)
        forwarded = {k: v for k, v in headers.items() if k not in ("host", "connection")}
        response = self.upstream.request(method, target, content=body, headers=forwarded)
        self.forwarded += 1
        if self.forwarded == 1:
            return  # the connection closes with no response
        status = f"HTTP/1.1 {response.status_code} {response.reason_phrase}\r\n"
        out = [status, f"content-type: {response.headers.get('content-type', '')}\r\n",
               f"content-length: {len(response.content)}\r\n", "connection: close\r\n\r\n"]
        conn.sendall("".join(out).encode("latin-1") + response.content)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()
        self.upstream.close()


@pytest.fixture
def lossy_url(base_url: str) -> Iterator[str]:
    proxy = LostFirstResponse(base_url)
    yield proxy.url
    proxy.close()
