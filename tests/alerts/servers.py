"""Real local receivers for notification tests: an HTTP server recording
webhook deliveries, and a minimal SMTP server (RFC 5321's commands a client
needs to hand over one message) recording mail. Both on 127.0.0.1."""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    """Statuses to answer, in turn (then 200)."""
    mail: list[EmailMessage] = field(default_factory=list)
    hold: threading.Event | None = None
    """Set: each request waits for it before it is answered (a slow receiver)."""


@contextmanager
def webhook_receiver(received: Received) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            received.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
            if received.hold is not None:
                received.hold.wait(60)
            status = received.statuses.pop(0) if received.statuses else 200
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def smtp_receiver(received: Received) -> Iterator[int]:
    class Handler(socketserver.StreamRequestHandler):
        def reply(self, line: str) -> None:
            self.wfile.write(line.encode() + b"\r\n")

        def handle(self) -> None:
            self.reply("220 test SMTP")
            while line := self.rfile.readline():
                command = line.decode("ascii", "replace").strip().upper()
                if command.startswith(("EHLO", "HELO")):
                    self.reply("250 test")
                elif command.startswith(("MAIL", "RCPT", "RSET", "NOOP")):
                    self.reply("250 OK")
                elif command == "DATA":
                    self.reply("354 end with .")
                    data = b""
                    while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                        data += chunk[1:] if chunk.startswith(b"..") else chunk
                    parsed = message_from_bytes(data, policy=policy.default)
                    assert isinstance(parsed, EmailMessage)
                    received.mail.append(parsed)
                    self.reply("250 queued")
                elif command == "QUIT":
                    self.reply("221 bye")
                    return
                else:
                    self.reply("502 not implemented")

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
