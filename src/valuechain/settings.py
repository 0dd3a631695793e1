"""Every ``VALUECHAIN_*`` environment variable in one place: its type, default and
meaning, validated once (pydantic-settings).

Any layer may import this module; it imports no part of Valuechain (and none of
SQLAlchemy, FastAPI or Typer), which ``lint-imports`` enforces. Code reads a setting
with ``settings().name``; nothing else reads ``VALUECHAIN_*`` from ``os.environ``.

``settings()`` is cached per distinct set of ``VALUECHAIN_*`` variables, so a test
that changes one with ``monkeypatch.setenv`` sees the change without resetting
anything (``reset()`` empties the cache all the same). A bad value raises
:class:`SettingsError`, whose message is one line naming the variable and the
problem; the CLI and the ASGI entry print it and exit non-zero.

``docs/deploy.md`` lists the variables as :func:`markdown_table` prints them
(``python -m valuechain.settings --write docs/deploy.md`` rewrites that list);
``tests/test_settings.py`` keeps the two equal.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from datetime import timedelta
from email.utils import parseaddr
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    AliasGenerator,
    BeforeValidator,
    Field,
    SecretStr,
    ValidationError,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PREFIX = "VALUECHAIN_"
MIB = 1024 * 1024

# Defaults that other modules also use as their own parameter defaults.
DEFAULT_DATABASE_URL = "sqlite:///valuechain.db"
DEFAULT_ORGANISATION = "default"
DEFAULT_BASE_URL = "http://127.0.0.1:8000"
DEFAULT_MAIL_FROM = "Valuechain <valuechain@localhost>"
DEFAULT_MAX_BODY_BYTES = 1 * MIB
DEFAULT_MAX_IMPORT_BYTES = 256 * MIB


def variable(field: str) -> str:
    """The environment variable that sets ``field``."""
    return PREFIX + field.upper()


class SettingsError(ValueError):
    """A ``VALUECHAIN_*`` variable has a value Valuechain cannot use; the message is
    one line naming it and the problem."""


@dataclass(frozen=True)
class Kind:
    """What a value is, in words, for the table in ``docs/deploy.md`` (pydantic
    ignores this annotation)."""

    name: str
    #: Whether an error message may repeat the value (not if it may hold a password).
    shown: bool = True


# -- checks of single values ------------------------------------------------------------

_DATABASE_SCHEME = re.compile(r"^(sqlite|postgres|postgresql)(\+\w+)?$")


def _database_url(value: str) -> str:
    scheme, sep, _rest = value.partition("://")
    if not sep or not _DATABASE_SCHEME.match(scheme):
        raise ValueError(
            "expected sqlite:///path/to/file.db or postgresql://user@host:5432/database"
        )
    return value


def _queue_url(value: str | None) -> str | None:
    if value is not None and not value.startswith(
        ("sqlite:///", "redis://", "rediss://", "unix://")
    ):
        raise ValueError("expected sqlite:///path/to/queue.db or redis://host:port/db")
    return value


def _http_url(value: str | None) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("expected an http:// or https:// URL with a host")
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is no number
    except ValueError:
        raise ValueError("expected an http:// or https:// URL with a valid port") from None
    return value.rstrip("/")


def _smtp_url(value: SecretStr | None) -> SecretStr | None:
    if value is None:
        return None
    parts = urlsplit(value.get_secret_value())
    try:
        valid = (parts.scheme in ("smtp", "smtps") and bool(parts.hostname)) or (
            parts.scheme == "file" and parts.path.startswith("/")
        )
        parts.port  # noqa: B018 - raises ValueError for a port that is no number
    except ValueError:
        valid = False
    if not valid:
        raise ValueError("expected smtp://[user:password@]host:port, smtps://… or file:///folder")
    return value


def _mail_address(value: str) -> str:
    if "@" not in parseaddr(value)[1]:
        raise ValueError("expected an address such as 'Valuechain <valuechain@example.org>'")
    return value


def _host_list(value: Any) -> Any:
    # Comma-separated, not JSON (NoDecode keeps pydantic-settings from decoding it).
    if isinstance(value, str):
        return [h.strip().strip("[]").lower() for h in value.split(",") if h.strip()]
    return value


def _blank_is_none(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    return value


Blank = BeforeValidator(_blank_is_none)
DatabaseUrl = Annotated[str, Kind("URL", shown=False), AfterValidator(_database_url)]
QueueUrl = Annotated[str | None, Kind("URL", shown=False), Blank, AfterValidator(_queue_url)]
HttpUrl = Annotated[str, Kind("URL"), AfterValidator(_http_url)]
OptionalHttpUrl = Annotated[str | None, Kind("URL"), Blank, AfterValidator(_http_url)]
SmtpUrl = Annotated[
    SecretStr | None, Kind("URL (secret)", shown=False), Blank, AfterValidator(_smtp_url)
]
Name = Annotated[str, Kind("text"), Field(min_length=1)]
OptionalName = Annotated[str | None, Kind("text"), Blank]
Secret = Annotated[SecretStr | None, Kind("text (secret)", shown=False), Blank]
Mailbox = Annotated[str, Kind("mail address"), AfterValidator(_mail_address)]
Hosts = Annotated[
    list[str], Kind("host names, comma-separated"), NoDecode, BeforeValidator(_host_list)
]
Seconds = Annotated[float, Kind("seconds"), Field(gt=0, allow_inf_nan=False)]
Days = Annotated[float, Kind("days"), Field(ge=0, allow_inf_nan=False)]
Bytes = Annotated[int, Kind("bytes"), Field(gt=0)]


class Settings(BaseSettings):
    """The deployment's settings: each field is the variable ``VALUECHAIN_<NAME>``."""

    model_config = SettingsConfigDict(
        # Each field is read from exactly VALUECHAIN_<FIELD> (case-sensitive, as
        # os.environ.get was); error locations name the variable.
        alias_generator=AliasGenerator(validation_alias=variable),
        case_sensitive=True,
        validate_by_name=True,
        # An empty variable means "not set", as it did when each module read its own.
        env_ignore_empty=True,
        str_strip_whitespace=True,
        extra="ignore",
        frozen=True,
    )

    database_url: DatabaseUrl = Field(
        default=DEFAULT_DATABASE_URL,
        description="The database: `sqlite:///path/to/file.db` or `postgresql://user@host:5432/db` "
        "(`valuechain demo` uses `./valuechain-demo.db` when unset).",
    )
    organisation: Name = Field(
        default=DEFAULT_ORGANISATION,
        description="Which organisation in that database a process serves "
        "(one database holds many).",
    )
    base_url: HttpUrl = Field(
        default=DEFAULT_BASE_URL,
        description="The public address of the web app: survey links and report links point there.",
    )
    queue_url: QueueUrl = Field(
        default=None,
        description="The task queue: `sqlite:///path/to/queue.db` or `redis://host:port/db`; "
        "unset: a SQLite file beside a SQLite database (`./valuechain-queue.db` for "
        "PostgreSQL).",
    )
    queue_name: Name = Field(
        default="valuechain",
        description="The queue's name, so several deployments can share one Redis server.",
    )
    smtp_url: SmtpUrl = Field(
        default=None,
        description="The mail server: `smtp://user:password@host:587` (STARTTLS when offered) "
        "or `smtps://…`; `file:///folder` writes each message to that Maildir folder instead "
        "(the demo's outbox; for trying things out); unset: no mail is sent and commands that "
        "send mail stop.",
    )
    mail_from: Mailbox = Field(default=DEFAULT_MAIL_FROM, description="The sender of every email.")
    outbox_lease: Seconds = Field(
        default=300.0,
        description="How long a worker holds an outbox row it is sending before another "
        "worker may try it (longer than a batch of 50 messages takes).",
    )
    outbox_keep_days: Days = Field(
        default=30.0,
        description="Sent outbox rows older than this are deleted by the nightly job.",
    )
    webhook_hosts: Hosts = Field(
        default_factory=list,
        description="Webhook hosts allowed whatever they resolve to (`*.example.org` for its "
        "subdomains); while set, a person's own webhook must be on one of them.",
    )
    max_body_bytes: Bytes = Field(
        default=DEFAULT_MAX_BODY_BYTES,
        description="The largest form or JSON request body accepted (413 above it).",
    )
    max_import_bytes: Bytes = Field(
        default=DEFAULT_MAX_IMPORT_BYTES,
        description="The largest request body on the paths reserved for bundle uploads.",
    )
    oidc_issuer: OptionalHttpUrl = Field(
        default=None,
        description="The OpenID Connect provider's issuer URL; set, it switches single sign-on on.",
    )
    oidc_client_id: OptionalName = Field(
        default=None, description="This app's client id at the provider (needed with the issuer)."
    )
    oidc_client_secret: Secret = Field(
        default=None,
        description="This app's client secret at the provider (needed with the issuer).",
    )
    oidc_label: Name = Field(
        default="single sign-on", description="The provider's name on the sign-in button."
    )
    metrics_public: Annotated[bool, Kind("true or false")] = Field(
        default=False,
        description="Whether anyone may read `/metrics` without signing in; false: admins "
        "only (or a scraper sending an admin's session token).",
    )

    @model_validator(mode="after")
    def _sso_complete(self) -> Settings:
        if self.oidc_issuer and not (self.oidc_client_id and self.oidc_client_secret):
            raise ValueError(
                f"{variable('oidc_issuer')} is set, so {variable('oidc_client_id')} and "
                f"{variable('oidc_client_secret')} are needed too"
            )
        return self

    @property
    def outbox_lease_time(self) -> timedelta:
        """``outbox_lease`` as a duration."""
        return timedelta(seconds=self.outbox_lease)

    @property
    def outbox_keep_time(self) -> timedelta:
        """``outbox_keep_days`` as a duration."""
        return timedelta(days=self.outbox_keep_days)


def _one_line(error: ValidationError) -> str:
    """Every problem of ``error`` in one line: the variable, what it holds (unless
    secret) and what is wrong."""
    problems = []
    for item in error.errors(include_url=False):
        message = str(item["msg"]).removeprefix("Value error, ")
        message = re.sub(r"^(Input|String|Value) should", "must", message)
        if not item["loc"]:
            problems.append(message)
            continue
        name = str(item["loc"][0]).removeprefix(PREFIX).lower()
        shown = f"={item['input']!r}" if _kind(name).shown else ""
        problems.append(f"{variable(name)}{shown}: {message}")
    return "; ".join(problems)


def _environment() -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith(PREFIX)))


@lru_cache(maxsize=16)
def _load(_environment: tuple[tuple[str, str], ...]) -> Settings:
    # The argument is the cache key only: Settings() reads the same variables itself.
    try:
        return Settings()
    except ValidationError as error:
        raise SettingsError(_one_line(error)) from None


def settings() -> Settings:
    """The settings the ``VALUECHAIN_*`` variables give now, validated;
    :class:`SettingsError` (one line) for a value that cannot be used."""
    return _load(_environment())


def set_for_process(**values: str) -> Settings:
    """Set ``VALUECHAIN_<NAME>`` for this process and the ones it starts (the demo
    names its mail folder and its own address this way), then read the settings anew:
    a value is checked like one from the environment."""
    for name, value in values.items():
        os.environ[PREFIX + name.upper()] = value
    return settings()


def reset() -> None:
    """Forget every cached :class:`Settings`; the next :func:`settings` reads anew."""
    _load.cache_clear()


def _kind(field: str) -> Kind:
    info = Settings.model_fields[field]
    return next((m for m in info.metadata if isinstance(m, Kind)), Kind("text"))


def _default(field: str) -> str:
    info = Settings.model_fields[field]
    value = info.get_default(call_default_factory=True)
    if value is None:
        return "unset"
    if isinstance(value, list):
        return f"`{','.join(value)}`" if value else "empty"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"`{value}`"


def markdown_table() -> str:
    """The Markdown table of every variable: name, type, default, description."""
    lines = ["| variable | type | default | description |", "|---|---|---|---|"]
    for name, info in Settings.model_fields.items():
        description = str(info.description).replace("|", "\\|")
        cells = [f"`{variable(name)}`", _kind(name).name, _default(name), description]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


BEGIN = "<!-- settings:begin -->\n"
END = "<!-- settings:end -->"
_BLOCK = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.DOTALL)


def with_table(document: str) -> str:
    """``document`` with the text between its settings markers replaced by
    :func:`markdown_table`; :class:`ValueError` if it has no markers."""
    if not _BLOCK.search(document):
        raise ValueError(f"no {BEGIN.strip()} … {END} block")
    return _BLOCK.sub(lambda _: BEGIN + markdown_table() + END, document, count=1)


def main(argv: list[str]) -> None:
    """Print the table; with ``--write FILE``, put it between FILE's markers instead."""
    if argv[:1] == ["--write"] and len(argv) == 2:
        path = Path(argv[1])
        path.write_text(with_table(path.read_text(encoding="utf-8")), encoding="utf-8")
    elif not argv:
        sys.stdout.write(markdown_table())
    else:
        raise SystemExit("usage: python -m valuechain.settings [--write docs/deploy.md]")


if __name__ == "__main__":
    main(sys.argv[1:])
