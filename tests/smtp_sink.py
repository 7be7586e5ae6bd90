"""A local SMTP server for tests: accepts mail (optionally failing the first N tries)."""

import email
import socket
import threading

from aiosmtpd.controller import Controller


class _Handler:
    def __init__(self, sink):
        self.sink = sink

    async def handle_DATA(self, server, session, envelope):
        with self.sink.lock:
            if self.sink.failures_left > 0:
                self.sink.failures_left -= 1
                self.sink.refused += 1
                return "451 4.3.0 Mail server temporarily unavailable"
            self.sink.messages.append(email.message_from_bytes(envelope.content))
            self.sink.envelopes.append(list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"


class SmtpSink:
    def __init__(self, fail_first: int = 0):
        self.port = _free_port()
        self.failures_left = fail_first
        self.refused = 0
        self.messages = []
        self.envelopes = []
        self.lock = threading.Lock()
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)

    def fail_next(self, count: int) -> None:
        with self.lock:
            self.failures_left = count

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()

    def subjects(self) -> list[str]:
        with self.lock:
            return [str(email.header.make_header(email.header.decode_header(m["Subject"]))) for m in self.messages]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
