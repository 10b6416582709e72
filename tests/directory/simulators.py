"""Loopback HTTP servers that imitate coworking platforms, for tests.

Each simulator listens on 127.0.0.1 (a free port), records every request it
sees, and can be told to misbehave: scripted faults (an error status with
Retry-After, a slow answer, a body that is not JSON) are served to the next
matching requests before normal service resumes.
"""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import threading
import time
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import attrs

SAMPLES = Path(__file__).resolve().parent / "samples"


def sample(name: str) -> Any:
    """A response shape from tests/directory/samples (copied from the platforms)."""
    return json.loads((SAMPLES / name).read_text(encoding="utf-8"))


@attrs.frozen
class Seen:
    """One request as the simulator received it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def form(self) -> dict[str, str]:
        return dict(urllib.parse.parse_qsl(self.body.decode("utf-8")))

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@attrs.frozen
class Answer:
    status: int
    body: bytes = b""
    headers: dict[str, str] = attrs.field(factory=dict)
    trickle_s: float = 0.0  # pause between the body's bytes

    @classmethod
    def of(cls, status: int, document: Any, **headers: str) -> Answer:
        body = json.dumps(document).encode("utf-8")
        return cls(status, body, {"Content-Type": "application/json", **headers})


@attrs.define
class Fault:
    """A scripted answer for the next ``times`` requests whose path starts
    with ``path``: a status and headers, a raw body, or a delay first."""

    path: str
    status: int = 500
    headers: dict[str, str] = attrs.field(factory=dict)
    body: bytes = b'{"error": "simulated"}'
    delay_s: float = 0.0
    times: int = 1
    passthrough: bool = False  # after the delay, answer normally
    trickle_s: float = 0.0  # then send the body a byte at a time


class Simulator:
    """Base of the platform imitations: serving, recording, faults."""

    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self.faults: list[Fault] = []
        self.lock = threading.Lock()
        self.connections: set[socket.socket] = set()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.thread = threading.Thread(
            target=self.server.serve_forever, args=(0.05,), daemon=True
        )
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        scheme = "https" if isinstance(self.server.socket, ssl.SSLSocket) else "http"
        return f"{scheme}://{host}:{port}"

    def use_tls(self, certificate: Path, private_key: Path) -> None:
        """Answer over TLS with this certificate, as real platforms do."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certificate, private_key)
        # Same file descriptor: the serving thread's select keeps working.
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)

    def close(self) -> None:
        """Stop listening and cut open keep-alive connections: the platform is gone."""
        self.server.shutdown()
        self.server.server_close()
        with self.lock:
            connections, self.connections = self.connections, set()
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> Simulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def fail(self, path: str, **fault: Any) -> None:
        with self.lock:
            self.faults.append(Fault(path, **fault))

    def requests_to(self, path: str) -> list[Seen]:
        with self.lock:
            return [s for s in self.seen if s.path.startswith(path)]

    def dispatch(self, seen: Seen) -> Answer:
        with self.lock:
            self.seen.append(seen)
            fault = self._take_fault(seen.path)
        if fault is None:
            return self.route(seen)
        time.sleep(fault.delay_s)
        answer = (
            self.route(seen)
            if fault.passthrough
            else Answer(fault.status, fault.body, fault.headers)
        )
        return attrs.evolve(answer, trickle_s=fault.trickle_s)

    def _take_fault(self, path: str) -> Fault | None:
        for fault in self.faults:
            if path.startswith(fault.path):
                fault.times -= 1
                if fault.times == 0:
                    self.faults.remove(fault)
                return fault
        return None

    def route(self, seen: Seen) -> Answer:
        raise NotImplementedError


class TokenDesk:
    """Issues bearer tokens and says which are still good."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.issued = 0
        self.valid: set[str] = set()
        self.lock = threading.Lock()

    def issue(self) -> str:
        with self.lock:
            self.issued += 1
            token = f"{self.prefix}-{self.issued}-invented"
            self.valid.add(token)
            return token

    def expire_all(self) -> None:
        with self.lock:
            self.valid.clear()

    def accepts(self, seen: Seen) -> bool:
        header = seen.headers.get("authorization", "")
        with self.lock:
            return header.startswith("Bearer ") and header[7:] in self.valid


def pages(records: list[Any], page: int, size: int) -> list[Any]:
    start = (page - 1) * size
    return records[start : start + size]


def _handler_for(simulator: Simulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body leave at once

        def setup(self) -> None:
            super().setup()
            with simulator.lock:
                simulator.connections.add(self.connection)

        def finish(self) -> None:
            with simulator.lock:
                simulator.connections.discard(self.connection)
            with contextlib.suppress(OSError):
                super().finish()

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def _serve(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            seen = Seen(
                method=self.command,
                path=url.path,
                query=dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True)),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=self.rfile.read(length) if length else b"",
            )
            answer = simulator.dispatch(seen)
            # The client may have given up waiting (the timeout tests).
            with contextlib.suppress(OSError):
                self._write(answer)

        def _write(self, answer: Answer) -> None:
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            if not answer.trickle_s:
                self.wfile.write(answer.body)
                return
            for offset in range(len(answer.body)):
                self.wfile.write(answer.body[offset : offset + 1])
                self.wfile.flush()
                time.sleep(answer.trickle_s)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the tests read the simulator's own record

    return Handler


def serving(simulator: Simulator) -> Iterator[Simulator]:
    """Yield a started simulator and close it afterwards (for fixtures)."""
    try:
        yield simulator
    finally:
        simulator.close()
