"""Outgoing email over SMTP: one connection per batch, settings from the environment.

``VALUECHAIN_SMTP_URL`` names the server: ``smtp://user:password@host:port`` (plain,
upgraded with STARTTLS when the server offers it), ``smtps://…`` (TLS from the first
byte), or ``file:///path/to/folder``: no server, each message is written to that
Maildir folder instead (the demo's outbox; for trying things out, since the messages
hold survey links). ``VALUECHAIN_MAIL_FROM`` is the sender. Without a URL, mail is not configured
and sending raises :class:`MailNotConfigured`, so a reminder is never silently lost.
"""

from __future__ import annotations

import mailbox
import smtplib
import ssl
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import formatdate
from pathlib import Path
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
    # A Maildir folder the messages are written to instead of a server (file://).
    folder: str | None = None

    @classmethod
    def from_url(cls, url: str, sender: str | None = None) -> Mailer:
        """Parse ``smtp://[user[:password]@]host[:port]``, ``smtps://…`` or
        ``file:///folder``."""
        parts = urlsplit(url)
        if parts.scheme == "file" and parts.path:
            return cls(host="", port=0, sender=sender or DEFAULT_SENDER, folder=unquote(parts.path))
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
        if self.folder is not None:
            return self._write(self.folder, batch, on_sent)
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

    def _write(self, folder: str, batch: list[Mail], on_sent: Callable[[Mail], None] | None) -> int:
        """Each message into the Maildir folder (stdlib ``mailbox``: one file per
        message, written whole and then moved into place, so a reader never sees half
        of one)."""
        box = mailbox.Maildir(folder, create=True)
        for mail in batch:
            message = self._message(mail)
            message["Date"] = formatdate(localtime=True)
            box.add(message)
            if on_sent is not None:
                on_sent(mail)
        return len(batch)


def mail_folder() -> str | None:
    """The Maildir folder mail is written to (``VALUECHAIN_SMTP_URL=file:///…``), or
    ``None`` when mail goes to a server or nowhere."""
    smtp = settings().smtp_url
    parts = urlsplit(smtp.get_secret_value()) if smtp is not None else None
    return unquote(parts.path) if parts is not None and parts.scheme == "file" else None


def mail_goes_to_folder() -> bool:
    """Whether mail is written to a folder (:func:`mail_folder`)."""
    return mail_folder() is not None


def read_folder(folder: str, limit: int = 200) -> list[EmailMessage]:
    """The messages of a Maildir folder written by a ``file://`` mailer, newest first
    (at most ``limit``)."""
    files = [f for sub in ("new", "cur") for f in (Path(folder) / sub).glob("*") if f.is_file()]
    # A Maildir name starts with its delivery time, then a counter: newest last.
    files.sort(key=lambda f: (f.stat().st_mtime_ns, f.name), reverse=True)
    parser = BytesParser(policy=policy.default)
    found: list[EmailMessage] = []
    for file in files[:limit]:
        message = parser.parsebytes(file.read_bytes())
        assert isinstance(message, EmailMessage)  # the default policy's class
        found.append(message)
    return found
