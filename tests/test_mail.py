"""Mail goes out over real SMTP to a loopback server."""

from __future__ import annotations

import pytest

from valuechain.services.errors import ValuechainError
from valuechain.services.mail import Mail, Mailer, MailNotConfigured


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
