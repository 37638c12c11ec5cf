"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives, for the tests that read
Frontline's emails and follow their links."""

from __future__ import annotations

import email
import email.policy
import re
import socket
import threading
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


class _Keep:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self.box.lock:
            self.box.messages.append(message)
        return "250 OK"


class Mailbox:
    """Start with :meth:`start`; every message received is in :attr:`messages`."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.lock = threading.Lock()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(_Keep(self), hostname="127.0.0.1", port=self.port)

    def start(self) -> Mailbox:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if m["To"] == address]

    @staticmethod
    def body(message: EmailMessage) -> str:
        part = message.get_body(("plain",))
        assert part is not None
        return str(part.get_content())

    def link_for(self, address: str) -> str:
        """The path and query of the one sign-up link sent to ``address``."""
        links = [
            found
            for message in self.to(address)
            for found in re.findall(
                r"https?://[^/\s]+(/signup/confirm\?token=\S+)", self.body(message)
            )
        ]
        assert len(links) == 1, links
        return links[0]
