"""Single sign-on over OpenID Connect (authorization code flow with PKCE), through
Authlib.

Valuechain is the relying party. The identity provider proves who someone is; the
account (and so the role) must already exist in Valuechain, matched by email: an
admin decides who gets in, the provider only vouches for the address.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from valuechain.domain.account import normalise_email
from valuechain.services import accounts, audit
from valuechain.services.accounts import NewSession
from valuechain.services.audit import Actor
from valuechain.services.errors import Upstream
from valuechain.services.organisation import Valuechain
from valuechain.settings import settings

SCOPE = "openid email profile"
METADATA_TTL = 3600.0  # seconds a provider's discovery document and keys are reused
HTTP_TIMEOUT = 10.0


class SsoError(Upstream):
    """Single sign-on did not prove who the user is, or no account matches; the
    message can be shown on the sign-in page as is."""


@dataclass(frozen=True)
class SsoSettings:
    """An OpenID Connect provider: its issuer URL and this app's client there."""

    issuer: str
    client_id: str
    client_secret: str
    label: str = "single sign-on"

    @classmethod
    def from_environment(cls) -> SsoSettings | None:
        """``VALUECHAIN_OIDC_ISSUER``, ``…_CLIENT_ID``, ``…_CLIENT_SECRET`` (and
        optionally ``…_LABEL``, the provider's name on the button); ``None`` when
        the issuer is not set. The settings refuse an issuer without the other two."""
        configured = settings()
        issuer, client_id = configured.oidc_issuer, configured.oidc_client_id
        secret = configured.oidc_client_secret
        if not issuer or not client_id or secret is None:
            return None
        return cls(issuer, client_id, secret.get_secret_value(), configured.oidc_label)


@dataclass(frozen=True)
class Identity:
    """What a validated ID token says about the user: the email address, and whether
    the provider says it verified it (``email_verified`` exactly JSON ``true``)."""

    email: str
    email_verified: bool


@dataclass(frozen=True)
class Authorization:
    """Where to send the browser, and what must come back with it (kept by the
    browser in a short-lived HttpOnly cookie)."""

    url: str
    state: str
    nonce: str
    code_verifier: str


class SsoProvider:
    """One configured provider, with its discovery document and signing keys cached
    for :data:`METADATA_TTL` seconds."""

    def __init__(self, settings: SsoSettings) -> None:
        self.settings = settings
        self._metadata: dict[str, Any] | None = None
        self._keys: dict[str, Any] | None = None
        self._fetched = 0.0
        self._lock = threading.Lock()

    def _get_json(self, url: str) -> dict[str, Any]:
        try:
            answer = httpx.get(url, timeout=HTTP_TIMEOUT)
            answer.raise_for_status()
            document: dict[str, Any] = answer.json()
        except (httpx.HTTPError, ValueError) as error:
            raise SsoError(
                f"The sign-in service at {self.settings.issuer} did not answer ({error})."
            ) from None
        return document

    def metadata(self, *, refresh: bool = False) -> dict[str, Any]:
        """The provider's discovery document; its ``issuer`` must be the configured one
        (OpenID Connect Discovery 1.0 §4.3)."""
        with self._lock:
            stale = time.monotonic() - self._fetched > METADATA_TTL
            if self._metadata is None or refresh or stale:
                found = self._get_json(self.settings.issuer + "/.well-known/openid-configuration")
                if found.get("issuer", "").rstrip("/") != self.settings.issuer:
                    raise SsoError("The sign-in service names a different issuer; refused.")
                self._metadata, self._keys, self._fetched = found, None, time.monotonic()
            return self._metadata

    def keys(self, *, refresh: bool = False) -> KeySet:
        """The provider's public signing keys (its ``jwks_uri``)."""
        metadata = self.metadata()
        with self._lock:
            if self._keys is None or refresh:
                self._keys = self._get_json(metadata["jwks_uri"])
            return KeySet.import_key_set(self._keys)  # type: ignore[arg-type]

    def authorization(self, redirect_uri: str) -> Authorization:
        """A fresh authorization request: random ``state`` (against forged callbacks),
        ``nonce`` (against replayed ID tokens) and PKCE verifier (RFC 7636, S256,
        against stolen codes)."""
        state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        verifier = secrets.token_urlsafe(48)
        url = add_params_to_uri(
            self.metadata()["authorization_endpoint"],
            [
                ("response_type", "code"),
                ("client_id", self.settings.client_id),
                ("redirect_uri", redirect_uri),
                ("scope", SCOPE),
                ("state", state),
                ("nonce", nonce),
                ("code_challenge", create_s256_code_challenge(verifier)),
                ("code_challenge_method", "S256"),
            ],
        )
        return Authorization(url, state, nonce, verifier)

    def identity(self, redirect_uri: str, code: str, code_verifier: str, nonce: str) -> Identity:
        """Exchange ``code`` for tokens and return who the validated ID token names:
        signature by the provider's keys, issuer, audience (this client), expiry,
        nonce and the access token's hash (OpenID Connect Core 1.0 §3.1.3.7)."""
        metadata = self.metadata()
        try:
            answer = httpx.post(
                metadata["token_endpoint"],
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": redirect_uri,
                    "code_verifier": code_verifier,
                },
                # client_secret_basic, the method every provider must support.
                auth=(self.settings.client_id, self.settings.client_secret),
                headers={"Accept": "application/json"},
                timeout=HTTP_TIMEOUT,
            )
            token: dict[str, Any] = answer.json()
        except (httpx.HTTPError, ValueError) as error:
            raise SsoError(f"The sign-in service did not answer ({error}).") from None
        if answer.status_code != 200:
            reason = token.get("error_description") or token.get("error") or answer.status_code
            raise SsoError(f"The sign-in service refused the sign-in ({reason}).")
        if "id_token" not in token:
            raise SsoError("The sign-in service sent no ID token.")
        algorithms = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
        registry = JWSRegistry(algorithms=[a for a in algorithms if a != "none"])
        try:
            try:
                decoded = jwt.decode(token["id_token"], self.keys(), registry=registry)
            except JoseError:
                # The provider may have rotated its keys since we fetched them.
                decoded = jwt.decode(token["id_token"], self.keys(refresh=True), registry=registry)
            claims = CodeIDToken(
                decoded.claims,
                decoded.header,
                {
                    "iss": {"essential": True, "value": metadata["issuer"]},
                    "aud": {"essential": True, "value": self.settings.client_id},
                },
                {
                    "nonce": nonce,
                    "client_id": self.settings.client_id,
                    "access_token": token.get("access_token"),
                },
            )
            claims.validate(leeway=60)
        except (JoseError, ValueError) as error:
            raise SsoError(f"The sign-in service's ID token is not valid ({error}).") from None
        email = claims.get("email")
        if not isinstance(email, str) or not email:
            raise SsoError("The sign-in service did not say which email address you use.")
        # Only the JSON boolean true counts: a missing claim, "true" or "false" as a
        # string, 1 or null may come from a provider (or a tenant of a shared one) that
        # lets anyone type any address, so it must not match an account by email.
        return Identity(email, claims.get("email_verified") is True)


def sign_in_with_sso(
    vc: Valuechain,
    provider: SsoProvider,
    identity: Identity,
    *,
    address: str | None,
    user_agent: str | None = None,
    replacing: str | None = None,
) -> NewSession:
    """Start a session for the active account with the email the provider vouched
    for; raise :class:`SsoError` (recorded in the audit log) when the provider has
    not verified the email or no active account has it."""
    email = identity.email
    normal = normalise_email(email)
    if not identity.email_verified:
        audit.record(
            vc,
            audit.SIGN_IN,
            Actor(None, normal[:400] or None, address),
            outcome=audit.REFUSED,
            subject=normal[:400],
            detail=f"single sign-on: email not verified ({provider.settings.issuer})",
        )
        raise SsoError(f"The sign-in service has not verified {email}.")
    account = accounts.account_by_email(vc, normal)
    if account is None or not account.active:
        audit.record(
            vc,
            audit.SIGN_IN,
            Actor(None, normal, address),
            outcome=audit.REFUSED,
            subject=normal,
            detail=f"single sign-on: no active account ({provider.settings.issuer})",
        )
        raise SsoError(f"There is no Valuechain account for {normal}. Ask an admin to create one.")
    return accounts.start_session(
        vc,
        account,
        address=address,
        user_agent=user_agent,
        replacing=replacing,
        detail=f"single sign-on ({provider.settings.issuer})",
    )
