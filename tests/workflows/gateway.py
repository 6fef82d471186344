"""A local SMS gateway for tests: an HTTP server on 127.0.0.1 in a thread that can fail on demand."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Gateway:
    """Fails the first ``fail_first`` requests with 503; ``lose_acks`` accepts, then answers 500.

    Like a real gateway it de-duplicates by ``Idempotency-Key``: ``delivered`` holds each key once.
    """

    def __init__(self, *, fail_first: int = 0, lose_acks: int = 0, token: str = "tok"):
        self.fail_first, self.lose_acks, self.token = fail_first, lose_acks, token
        self.requests: list[dict] = []
        self.delivered: dict[str, dict] = {}
        self._lock = threading.Lock()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server API
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                status = gateway.handle(self.headers, body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def handle(self, headers, body: dict) -> int:
        with self._lock:
            key = headers.get("Idempotency-Key")
            self.requests.append({"key": key, "auth": headers.get("Authorization"), **body})
            if len(self.requests) <= self.fail_first:
                return 503
            self.delivered.setdefault(key, body)
            if self.lose_acks > 0:
                self.lose_acks -= 1
                return 500
            return 200

    def __enter__(self) -> Gateway:
        self.thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.server.shutdown()
        self.server.server_close()


class SmtpSink:
    """A minimal SMTP server on 127.0.0.1 (no TLS, no auth) that keeps the messages it receives."""

    def __init__(self):
        import socketserver

        sink = self
        self.messages: list[str] = []

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                self.wfile.write(b"220 sink ESMTP\r\n")
                while line := self.rfile.readline():
                    verb = line[:4].upper()
                    if verb == b"DATA":
                        self.wfile.write(b"354 go ahead\r\n")
                        body = b""
                        while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                            body += chunk
                        sink.messages.append(body.decode("utf-8", "replace"))
                        self.wfile.write(b"250 queued\r\n")
                    elif verb == b"QUIT":
                        self.wfile.write(b"221 bye\r\n")
                        return
                    elif verb == b"EHLO":
                        self.wfile.write(b"250-sink\r\n250 8BITMIME\r\n")
                    else:
                        self.wfile.write(b"250 ok\r\n")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> SmtpSink:
        self.thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.server.shutdown()
        self.server.server_close()
