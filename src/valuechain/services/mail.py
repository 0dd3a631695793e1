"""Outgoing email over SMTP: one connection per batch, settings from the environment.

``VALUECHAIN_SMTP_URL`` names the server: ``smtp://user:password@host:port`` (plain,
upgraded with STARTTLS when the server offers it), ``smtps://…`` (TLS from the first
byte). ``VALUECHAIN_MAIL_FROM`` is the sender. Without a URL, mail is not configured
and sending raises :class:`MailNotConfigured`, so a reminder is never silently lost.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from valuechain.services.errors import Conflict, Invalid, Upstream
from valuechain.settings import DEFAULT_MAIL_FROM, settings

DEFAULT_SENDER = DEFAULT_MAIL_FROM


class MailNotConfigured(Conflict):
    """No SMTP server is configured (``VALUECHAIN_SMTP_URL`` is unset)."""


class MailFailed(Upstream):
    """The mail server could not be reached or refused a message part-way through."""


@dataclass(frozen=True)
class Mail:
    """One message to one recipient, plain text."""

    to: str
    subject: str
    body: str
    # A stable ``Message-ID`` (``<id@domain>``) so a retried message is recognisably
    # the same one; without it the SMTP library's default applies (none).
    message_id: str | None = None


@dataclass(frozen=True)
class Mailer:
    """Where and as whom mail is sent."""

    host: str
    port: int
    sender: str = DEFAULT_SENDER
    username: str | None = None
    password: str | None = None
    implicit_tls: bool = False
    timeout: float = 30.0

    @classmethod
    def from_url(cls, url: str, sender: str | None = None) -> Mailer:
        """Parse ``smtp://[user[:password]@]host[:port]`` or ``smtps://…``."""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise Invalid(f"SMTP URL {url!r}: expected smtp://host:port or smtps://host:port")
        implicit = parts.scheme == "smtps"
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if implicit else 25),
            sender=sender or DEFAULT_SENDER,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            implicit_tls=implicit,
        )

    @classmethod
    def from_environment(cls) -> Mailer:
        """The mailer the environment configures; :class:`MailNotConfigured` if none."""
        configured = settings()
        if configured.smtp_url is None:
            raise MailNotConfigured(
                "no mail server: set VALUECHAIN_SMTP_URL (e.g. smtp://mail.example.org:587)"
            )
        return cls.from_url(configured.smtp_url.get_secret_value(), configured.mail_from)

    def _message(self, mail: Mail) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = mail.to
        message["Subject"] = mail.subject
        if mail.message_id:
            message["Message-ID"] = mail.message_id
        message.set_content(mail.body)
        return message

    def send(self, mails: Iterable[Mail], on_sent: Callable[[Mail], None] | None = None) -> int:
        """Send every message over one connection; returns how many were accepted.

        Raises on the first refused message, so the caller knows which were not sent
        (the ones after it) and can retry them: sending is at-least-once by design.
        """
        batch = list(mails)
        if not batch:
            return 0
        context = ssl.create_default_context()
        client: smtplib.SMTP
        if self.implicit_tls:
            client = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with client:
            client.ehlo()
            if not self.implicit_tls and client.has_extn("starttls"):
                client.starttls(context=context)
                client.ehlo()
            if self.username:
                client.login(self.username, self.password or "")
            for mail in batch:
                client.send_message(self._message(mail))
                if on_sent is not None:
                    on_sent(mail)
        return len(batch)
