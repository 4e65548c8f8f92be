"""A minimal asyncio HTTP/1.1 GET client with one kept-alive connection, as a browser
keeps one per tab: thirty pollers in one event loop, without thirty threads."""

from __future__ import annotations

import asyncio
import gzip
from urllib.parse import urlsplit


class KeepAliveClient:
    def __init__(self, url: str, timeout_s: float = 30.0):
        parts = urlsplit(url)
        self.host, self.port = parts.hostname, parts.port or 80
        self.timeout_s = timeout_s
        self._reader = self._writer = None

    async def _connect(self) -> None:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)

    async def get(self, path: str) -> tuple[int, bytes]:
        """(status, body); the connection is reopened once if the server closed it."""
        for attempt in (0, 1):
            await self._connect()
            try:
                return await asyncio.wait_for(self._request(path), self.timeout_s)
            except (ConnectionError, asyncio.IncompleteReadError):
                await self.close()
                if attempt:
                    raise
        raise ConnectionError("unreachable")

    async def _request(self, path: str) -> tuple[int, bytes]:
        self._writer.write(
            f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            "Accept-Encoding: gzip\r\nConnection: keep-alive\r\n\r\n".encode()
        )
        await self._writer.drain()
        status_line = await self._reader.readuntil(b"\r\n")
        status = int(status_line.split()[1])
        headers = {}
        while (line := await self._reader.readuntil(b"\r\n")) != b"\r\n":
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = bytearray()
            while True:
                size = int((await self._reader.readuntil(b"\r\n")).split(b";")[0], 16)
                chunk = await self._reader.readexactly(size + 2)
                if size == 0:
                    break
                body += chunk[:-2]
        else:
            body = await self._reader.readexactly(int(headers.get("content-length", 0)))
        if headers.get("connection", "").lower() == "close":
            await self.close()
        if headers.get("content-encoding", "").lower() == "gzip":  # as a browser asks for it
            body = gzip.decompress(body)
        return status, bytes(body)

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            try:
                await self._writer.wait_closed()
            except (ConnectionError, OSError):
                pass
        self._reader = self._writer = None
