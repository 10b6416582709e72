"""A loopback TCP relay that keeps what clients sent, to check their requests."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import attrs


@attrs.define
class Recording:
    """Where clients should connect, and every byte they sent so far."""

    port: int
    sent: bytearray = attrs.field(factory=bytearray)
    lock: threading.Lock = attrs.field(factory=threading.Lock)

    def client_bytes(self) -> bytes:
        with self.lock:
            return bytes(self.sent)


@contextmanager
def recording_relay(host: str, port: int) -> Iterator[Recording]:
    """Relay 127.0.0.1:<free port> to ``host:port`` until the block ends."""
    listener = socket.create_server(("127.0.0.1", 0))
    recording = Recording(port=listener.getsockname()[1])
    stop = threading.Event()
    acceptor = threading.Thread(
        target=_accept, args=(listener, (host, port), recording, stop), daemon=True
    )
    acceptor.start()
    try:
        yield recording
    finally:
        stop.set()
        listener.close()
        acceptor.join(timeout=5)


def _accept(
    listener: socket.socket,
    target: tuple[str, int],
    recording: Recording,
    stop: threading.Event,
) -> None:
    while not stop.is_set():
        try:
            client, _ = listener.accept()
        except OSError:
            return
        server = socket.create_connection(target)
        for source, sink, record in ((client, server, True), (server, client, False)):
            threading.Thread(
                target=_pump,
                args=(source, sink, recording if record else None),
                daemon=True,
            ).start()


def _pump(
    source: socket.socket, sink: socket.socket, recording: Recording | None
) -> None:
    """Copy ``source`` to ``sink`` until either closes, then close both."""
    try:
        while data := source.recv(65536):
            if recording is not None:
                with recording.lock:
                    recording.sent.extend(data)
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for s in (source, sink):
            with suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()
