"""A JSON API the tests start on loopback, which misbehaves on purpose.

It serves a list of order records, newest last, under three pagination styles (``/page``,
``/cursor``, ``/link``), demands a bearer token, honours ``updated_since``, and plays faults
queued per page: ``429`` (with ``Retry-After: 1``), ``500``, ``503``, ``truncate`` (a body cut
off before its ``Content-Length``), ``garbage`` (a complete response that is not JSON). Every
request is recorded with its arrival time, path, query and headers.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

TOKEN = "sentinel-api-token-7f3a9c"


@dataclass
class Seen:
    at: float
    path: str
    query: dict[str, str]
    headers: dict[str, str]


@dataclass
class Api:
    records: list[dict[str, Any]] = field(default_factory=list)
    faults: dict[int, list[str]] = field(default_factory=dict)  # page number -> faults, in order
    page_size: int = 10
    seen: list[Seen] = field(default_factory=list)

    def start(self) -> None:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                api.seen.append(Seen(time.monotonic(), parts.path, query, dict(self.headers)))
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    return self.send(401, {"error": "unauthorised"})
                records = [
                    r
                    for r in api.records
                    if "updated_since" not in query or r["updated_at"] > query["updated_since"]
                ]
                style = parts.path.strip("/")
                page = int(query.get("cursor", "0")) if style == "cursor" else int(query.get("page", "1")) - 1
                size = int(query.get("per_page", query.get("limit", api.page_size)))
                chunk = records[page * size : (page + 1) * size]
                more = (page + 1) * size < len(records)
                queued = api.faults.get(page + 1, [])
                fault = queued.pop(0) if queued else None
                if fault == "429":
                    return self.send(429, {"error": "slow down"}, {"Retry-After": "1"})
                if fault in ("500", "503"):
                    return self.send(int(fault), {"error": "oops"})
                if style == "cursor":
                    body: Any = {"data": chunk, "next_cursor": str(page + 1) if more else None}
                elif style == "link":
                    body = {"data": chunk}
                else:
                    body = {"data": chunk, "page": page + 1}
                headers = {}
                if style == "link" and more:
                    carried = urlencode({**query, "page": page + 2})  # a next link keeps the filters
                    headers["Link"] = f'<http://127.0.0.1:{api.port}/link?{carried}>; rel="next"'
                if fault == "truncate":
                    return self.send(200, body, headers, truncate=True)
                if fault == "garbage":
                    return self.send_raw(200, b'{"data": [{"order_id": ', headers)
                return self.send(200, body, headers)

            def send(
                self, status: int, body: Any, headers: dict | None = None, truncate: bool = False
            ) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data[: len(data) // 2] if truncate else data)
                if truncate:
                    self.wfile.flush()
                    self.close_connection = True

            def send_raw(self, status: int, data: bytes, headers: dict) -> None:
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, style: str) -> str:
        return f"http://127.0.0.1:{self.port}/{style}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
