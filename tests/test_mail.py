"""Mail goes out over real SMTP to a loopback server."""

from __future__ import annotations

import mailbox
from pathlib import Path

import pytest

from valuechain.services.errors import ValuechainError
from valuechain.services.mail import Mail, Mailer, MailNotConfigured, read_folder


def test_messages_arrive_at_the_smtp_server(smtp_server) -> None:  # type: ignore[no-untyped-def]
    sent = Mailer.from_environment().send(
        [
            Mail("ana@example.org", "Your view of Packing", "Please answer: https://x/s/abc"),
            Mail("bo@example.org", "Reminder", "Two days left."),
        ]
    )
    assert sent == 2
    [first] = smtp_server.to("ana@example.org")
    assert first["Subject"] == "Your view of Packing"
    assert first["From"] == "Valuechain <valuechain@example.org>"
    assert "https://x/s/abc" in first.get_content()
    assert [m["Subject"] for m in smtp_server.to("bo@example.org")] == ["Reminder"]


def test_unconfigured_mail_is_an_error_not_a_silent_drop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("VALUECHAIN_SMTP_URL", raising=False)
    with pytest.raises(MailNotConfigured, match="VALUECHAIN_SMTP_URL"):
        Mailer.from_environment()


def test_smtp_urls_are_parsed() -> None:
    mailer = Mailer.from_url("smtps://me%40x.org:s3cret@mail.x.org", "A <a@x.org>")
    assert (mailer.host, mailer.port, mailer.implicit_tls) == ("mail.x.org", 465, True)
    assert (mailer.username, mailer.password, mailer.sender) == (
        "me@x.org",
        "s3cret",
        "A <a@x.org>",
    )
    assert Mailer.from_url("smtp://localhost").port == 25
    with pytest.raises(ValuechainError, match="expected smtp"):
        Mailer.from_url("http://localhost")


def test_a_file_url_writes_each_message_to_a_maildir_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``file:///folder`` (the demo's outbox): every message is a whole file in a
    Maildir that the stdlib reads back, newest first; nothing else is needed."""
    folder = tmp_path / "out box"
    monkeypatch.setenv("VALUECHAIN_SMTP_URL", folder.as_uri())
    mailer = Mailer.from_environment()
    assert mailer.folder == str(folder)
    seen: list[str] = []
    sent = mailer.send(
        [Mail("ana@example.org", "First", "https://x/s/abc"), Mail("bo@example.org", "Second", "")],
        on_sent=lambda m: seen.append(m.to),
    )
    assert sent == 2 and seen == ["ana@example.org", "bo@example.org"]
    assert len(mailbox.Maildir(folder, create=False)) == 2
    found = read_folder(str(folder))
    assert {m["Subject"] for m in found} == {"First", "Second"}
    assert all(m["Date"] and m["From"] == mailer.sender for m in found)
    assert read_folder(str(tmp_path / "nothing")) == []
    with pytest.raises(ValuechainError, match="expected smtp"):
        Mailer.from_url("file://")
