"""One settings object: every ``VALUECHAIN_*`` variable is declared, typed and
documented in ``valuechain.settings``, read nowhere else, and a bad value stops a
process with one line naming it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from valuechain import settings as config
from valuechain.services import campaign, outbound
from valuechain.services.mail import Mailer, MailNotConfigured
from valuechain.services.notification import lease_from_environment
from valuechain.services.organisation import DEFAULT_ORGANISATION
from valuechain.services.sso import SsoSettings
from valuechain.settings import Settings, SettingsError, settings, variable
from valuechain.store.database import database_url

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
DEPLOY = ROOT / "docs" / "deploy.md"
NAME = re.compile(r"\bVALUECHAIN_[A-Z][A-Z_]*[A-Z]\b")
VARIABLES = {variable(name) for name in Settings.model_fields}


@pytest.fixture
def clean(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No ``VALUECHAIN_*`` variable set (the test session's own database ones removed)."""
    for name in list(os.environ):
        if name.upper().startswith("VALUECHAIN_"):
            monkeypatch.delenv(name)
    return monkeypatch


def test_deploy_md_lists_every_variable_as_the_settings_print_it() -> None:
    text = DEPLOY.read_text(encoding="utf-8")
    assert config.with_table(text) == text, (
        "docs/deploy.md is out of date: python -m valuechain.settings --write docs/deploy.md"
    )
    block = text[text.index(config.BEGIN) : text.index(config.END)]
    assert set(NAME.findall(block)) == VARIABLES


def test_every_variable_has_a_description_and_a_kind() -> None:
    table = config.markdown_table()
    for name, info in Settings.model_fields.items():
        assert info.description and info.description.endswith("."), name
        assert f"| `{variable(name)}` |" in table


def test_docs_and_sources_name_no_other_variable() -> None:
    """A variable named in the docs or the code is one the settings declare (a typo
    or a variable read behind the settings' back fails here)."""
    texts = [*(ROOT / "docs").glob("*.md"), ROOT / "README.md", *SRC.rglob("*.py")]
    unknown = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in texts
        for name in NAME.findall(path.read_text(encoding="utf-8"))
        if name not in VARIABLES
    }
    assert not unknown


def test_only_the_settings_module_reads_the_environment() -> None:
    reads = re.compile(r"os\.environ|getenv")
    readers = [
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if reads.search(text := path.read_text(encoding="utf-8")) and "VALUECHAIN_" in text
    ]
    assert readers == ["valuechain/settings.py"]


def test_defaults(clean: pytest.MonkeyPatch) -> None:
    got = settings()
    assert got.database_url == "sqlite:///valuechain.db" == database_url()
    assert got.organisation == DEFAULT_ORGANISATION
    assert campaign.base_url() == "http://127.0.0.1:8000"
    assert got.queue_url is None and got.smtp_url is None
    assert outbound.allowed_hosts() == []
    assert lease_from_environment() == timedelta(minutes=5)
    assert got.outbox_keep_time == timedelta(days=30)
    assert SsoSettings.from_environment() is None
    with pytest.raises(MailNotConfigured, match="VALUECHAIN_SMTP_URL"):
        Mailer.from_environment()
    assert got.model_fields_set == set()


def test_values_follow_the_environment_without_a_reset(clean: pytest.MonkeyPatch) -> None:
    assert settings().outbox_lease == 300
    clean.setenv("VALUECHAIN_OUTBOX_LEASE", "1.5")
    clean.setenv("VALUECHAIN_BASE_URL", "https://vc.example.org/app/")
    clean.setenv("VALUECHAIN_WEBHOOK_HOSTS", " hooks.Example.org, [::1],,*.chat.example.org ")
    clean.setenv("VALUECHAIN_DATABASE_URL", "postgres://vc@db:5432/vc")
    assert lease_from_environment() == timedelta(seconds=1.5)
    assert campaign.survey_link("t") == "https://vc.example.org/app/s/t"
    assert outbound.allowed_hosts() == ["hooks.example.org", "::1", "*.chat.example.org"]
    assert database_url() == "postgresql+psycopg://vc@db:5432/vc"
    given = {"outbox_lease", "base_url", "webhook_hosts", "database_url"}
    assert settings().model_fields_set == given
    clean.setenv("VALUECHAIN_OUTBOX_LEASE", "")  # empty is unset
    assert settings().outbox_lease == 300
    before = settings()
    config.reset()
    assert settings() == before and settings() is not before


def test_names_are_case_sensitive_as_the_environment_is(clean: pytest.MonkeyPatch) -> None:
    clean.setenv("valuechain_outbox_lease", "abc")
    clean.setenv("Valuechain_Max_Body_Bytes", "-1")
    assert settings() == Settings()
    assert settings().model_fields_set == set()


def test_sso_and_mail_from_the_settings(clean: pytest.MonkeyPatch) -> None:
    clean.setenv("VALUECHAIN_OIDC_ISSUER", "https://id.example.org/")
    clean.setenv("VALUECHAIN_OIDC_CLIENT_ID", " client ")
    clean.setenv("VALUECHAIN_OIDC_CLIENT_SECRET", "s3cret")
    assert SsoSettings.from_environment() == SsoSettings(
        "https://id.example.org", "client", "s3cret", "single sign-on"
    )
    assert "s3cret" not in repr(settings())
    clean.setenv("VALUECHAIN_SMTP_URL", "smtps://me:p%40ss@mail.example.org")
    clean.setenv("VALUECHAIN_MAIL_FROM", "Service <service@example.org>")
    assert Mailer.from_environment() == Mailer(
        host="mail.example.org",
        port=465,
        sender="Service <service@example.org>",
        username="me",
        password="p@ss",
        implicit_tls=True,
    )


# A bad value, the words its one-line message must hold, and whether the value itself
# may appear there (not for URLs and secrets, which may hold passwords).
BAD = [
    ("VALUECHAIN_OUTBOX_LEASE", "abc", "must be a valid number", True),
    ("VALUECHAIN_OUTBOX_LEASE", "-1", "must be greater than 0", True),
    ("VALUECHAIN_OUTBOX_LEASE", "inf", "must be a finite number", True),
    ("VALUECHAIN_OUTBOX_KEEP_DAYS", "-3", "must be greater than or equal to 0", True),
    ("VALUECHAIN_MAX_BODY_BYTES", "-1", "must be greater than 0", True),
    ("VALUECHAIN_MAX_IMPORT_BYTES", "1.5MB", "must be a valid integer", True),
    ("VALUECHAIN_DATABASE_URL", "mysql://u:pw@db/vc", "expected sqlite:///", False),
    ("VALUECHAIN_QUEUE_URL", "amqp://u:pw@mq", "expected sqlite:///", False),
    ("VALUECHAIN_SMTP_URL", "mail.example.org:25", "expected smtp://", False),
    ("VALUECHAIN_SMTP_URL", "smtp://u:pw@mail.example.org:port", "expected smtp://", False),
    ("VALUECHAIN_BASE_URL", "vc.example.org", "expected an http:// or https:// URL", True),
    ("VALUECHAIN_OIDC_ISSUER", "https://", "expected an http:// or https:// URL", True),
    ("VALUECHAIN_MAIL_FROM", "Valuechain", "expected an address", True),
    ("VALUECHAIN_ORGANISATION", "   ", "at least 1 character", True),
]


@pytest.mark.parametrize(("name", "value", "problem", "shown"), BAD)
def test_a_bad_value_is_one_line_naming_the_variable(
    clean: pytest.MonkeyPatch, name: str, value: str, problem: str, shown: bool
) -> None:
    clean.setenv(name, value)
    with pytest.raises(SettingsError) as raised:
        settings()
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(name) and problem in message
    assert (repr(value) in message) is shown


def test_an_issuer_needs_its_client(clean: pytest.MonkeyPatch) -> None:
    clean.setenv("VALUECHAIN_OIDC_ISSUER", "https://id.example.org")
    clean.setenv("VALUECHAIN_OIDC_CLIENT_ID", "client")
    with pytest.raises(SettingsError, match="VALUECHAIN_OIDC_CLIENT_SECRET are needed"):
        SsoSettings.from_environment()


def test_several_bad_values_are_named_on_one_line(clean: pytest.MonkeyPatch) -> None:
    clean.setenv("VALUECHAIN_OUTBOX_LEASE", "abc")
    clean.setenv("VALUECHAIN_MAX_BODY_BYTES", "0")
    with pytest.raises(SettingsError) as raised:
        settings()
    assert re.fullmatch(
        r"VALUECHAIN_OUTBOX_LEASE='abc': [^;\n]+; VALUECHAIN_MAX_BODY_BYTES='0': [^;\n]+",
        str(raised.value),
    )


# -- processes started with a bad value ------------------------------------------------

CLI = [sys.executable, "-c", "from valuechain.cli.main import main; main()"]
ASGI = [sys.executable, "-m", "uvicorn", "valuechain.web.asgi:create", "--factory", "--port", "0"]


def _run(command: list[str], tmp_path: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("VALUECHAIN_")}
    env["PYTHONPATH"] = os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])
    env["COLUMNS"] = "300"  # one line however long, not wrapped to a narrow terminal
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        env={**env, **variables},
        cwd=tmp_path,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("command", "name", "value", "problem"),
    [
        (["worker"], "VALUECHAIN_OUTBOX_LEASE", "abc", "must be a valid number"),
        (["serve", "--port", "0"], "VALUECHAIN_MAX_BODY_BYTES", "-5", "greater than 0"),
        (["customers", "x"], "VALUECHAIN_DATABASE_URL", "db.sqlite", "expected sqlite:///"),
        (["account", "list"], "VALUECHAIN_OIDC_ISSUER", "https://id.example.org", "needed too"),
    ],
)
def test_a_command_with_a_bad_value_stops_with_one_line(
    tmp_path: Path, command: list[str], name: str, value: str, problem: str
) -> None:
    done = _run(CLI + command, tmp_path, **{name: value})
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"Error: {name}") and problem in lines[0]
    assert list(tmp_path.iterdir()) == []  # no database was created


def test_the_asgi_entry_with_a_bad_value_stops_with_one_line(tmp_path: Path) -> None:
    done = _run(ASGI, tmp_path, VALUECHAIN_QUEUE_NAME=" ")
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines() == [
        "Error: VALUECHAIN_QUEUE_NAME=' ': must have at least 1 character"
    ]
    assert list(tmp_path.iterdir()) == []
