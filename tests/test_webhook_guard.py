"""Webhooks never reach internal addresses unless the operator lists the host.

A lead (only a lead's rights, through the JSON API) tries to point their webhook at
loopback, the cloud metadata address and other internal addresses in every spelling:
refused when saved (422). A URL already stored is refused again when the worker
delivers it, also when its name answers a public address to the check and loopback
afterwards (DNS rebinding). The receiver is a real HTTP server on loopback, so
"refused" means it got nothing and "allowed" means it got the post. On SQLite and
PostgreSQL."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fastapi.testclient import TestClient

from tests.signin import bearer, make_account
from tests.test_notification import people_map
from tests.webhook_receiver import Received, webhook_receiver
from valuechain import Valuechain
from valuechain.domain.account import AccountRole
from valuechain.domain.notification import Preference
from valuechain.services import notification, outbound
from valuechain.store import notification as store
from valuechain.web.app import create_app

# Internal addresses in the spellings an attacker would try ({port}: the receiver's).
INTERNAL = [
    "http://127.0.0.1:{port}/hooks",
    "http://localhost:{port}/hooks",
    "http://0x7f000001:{port}/hooks",
    "http://2130706433:{port}/hooks",
    "http://0177.0.0.1:{port}/hooks",
    "http://127.1:{port}/hooks",
    "http://127.0.0.1.:{port}/hooks",
    "http://0.0.0.0:{port}/hooks",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.5:8080/admin",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",
    "http://224.0.0.1/",
    "http://255.255.255.255/",
    "https://240.0.0.1/",
]
# IPv6 (the API's schema already refuses brackets; the service refuses them too).
INTERNAL_V6 = [
    "http://[::1]:{port}/hooks",
    "http://[::ffff:127.0.0.1]:{port}/hooks",
    "http://[::ffff:7f00:1]:{port}/hooks",
    "http://[::]:{port}/hooks",
    "http://[fe80::1]/",
    "http://[fc00::1]/",
    "http://[fec0::1]/",
    "http://[ff02::1]/",
    "http://[64:ff9b::7f00:1]/",
    "http://[2002:7f00:1::]/",
    "http://[::ffff:169.254.169.254]/",
]
PUBLIC_IP = "93.184.215.14"


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Received]:
    monkeypatch.delenv(outbound.HOSTS_VARIABLE, raising=False)
    with webhook_receiver() as hook:
        yield hook


@pytest.fixture
def lead(vc: Valuechain) -> Iterator[tuple[TestClient, dict[str, str]]]:
    vc.write_map(people_map())
    make_account(vc, "ana@example.org", AccountRole.LEAD, person_id="ana")
    with TestClient(create_app(vc)) as client:
        yield client, {"Authorization": f"Bearer {bearer(client, 'ana@example.org')}"}


def _port(hook: Received) -> int:
    port = httpx.URL(hook.url).port
    assert port is not None
    return port


def _put_own_webhook(lead: tuple[TestClient, dict[str, str]], url: str) -> httpx.Response:
    client, headers = lead
    return client.put(
        "/api/v1/notifications/preferences",
        json={"preferences": [], "webhook_url": url},
        headers=headers,
    )


def _notify_and_drain(vc: Valuechain) -> notification.DrainResult:
    notification.set_preferences(vc, "ana", [Preference("thanks", email=False, webhook=True)])
    notification.notify(vc, "ana", "thanks", "Thanks", "For the plan.")
    return notification.drain(vc.engine, org_id=vc.org_id)


def test_a_lead_cannot_save_a_webhook_on_an_internal_address(
    vc: Valuechain, lead: tuple[TestClient, dict[str, str]], receiver: Received
) -> None:
    port = _port(receiver)
    for template in INTERNAL + INTERNAL_V6:
        url = template.format(port=port)
        answer = _put_own_webhook(lead, url)
        assert 400 <= answer.status_code < 500, (url, answer.status_code, answer.text)
        assert "detail" in answer.json(), url
        with pytest.raises(notification.NotificationError):
            notification.set_webhook(vc, url, person_id="ana")
        # The organisation's webhook (set by admins) is held to the same rule.
        with pytest.raises(notification.NotificationError):
            notification.set_webhook(vc, url)
    assert notification.webhook(vc, "ana") is None and notification.webhook(vc) is None
    assert receiver.posts == []


def test_a_stored_internal_webhook_is_refused_at_delivery(
    vc: Valuechain, receiver: Received
) -> None:
    """A URL that got into the database unchecked (an older version, a restore) is
    still not posted to."""
    vc.write_map(people_map())
    for template in ("http://127.0.0.1:{port}/h", "http://0x7f000001:{port}/h"):
        with vc.engine.begin() as conn:
            store.set_webhook(conn, vc.org_id, "ana", template.format(port=_port(receiver)))
        done = _notify_and_drain(vc)
        assert (done.sent, done.failed_attempts) == (0, 1), done
        assert "internal address (127.0.0.1)" in done.errors[0]
    assert receiver.posts == []


def test_a_listed_host_is_delivered_to(
    vc: Valuechain,
    lead: tuple[TestClient, dict[str, str]],
    receiver: Received,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(outbound.HOSTS_VARIABLE, "hooks.example.org, 127.0.0.1")
    answer = _put_own_webhook(lead, receiver.url)
    assert answer.status_code == 200, answer.text
    done = _notify_and_drain(vc)
    assert (done.sent, done.failed_attempts) == (1, 0), done
    assert receiver.texts() == ["*Thanks*\nFor the plan."]
    # Listing one spelling allows that name only, not other spellings of the address.
    other = receiver.url.replace("127.0.0.1", "0x7f000001")
    assert _put_own_webhook(lead, other).status_code == 422


class Rebinding:
    """A resolver for ``name`` that answers a public address the first
    ``public`` times and loopback after; every other name resolves as usual."""

    def __init__(self, public: int, name: str = "rebind.example") -> None:
        self.public = public
        self.name = name
        self.asked = 0
        self.real = socket.getaddrinfo

    def __call__(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != self.name:
            return self.real(host, port, *args, **kwargs)
        self.asked += 1
        address = PUBLIC_IP if self.asked <= self.public else "127.0.0.1"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, int(port or 80)))]


def test_dns_rebinding_at_delivery_reaches_nothing_internal(
    vc: Valuechain, receiver: Received, monkeypatch: pytest.MonkeyPatch
) -> None:
    vc.write_map(people_map())
    url = f"http://rebind.example:{_port(receiver)}/hooks"
    # Public when the lead saves it, loopback when the worker delivers.
    resolver = Rebinding(public=1)
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    notification.set_webhook(vc, url, person_id="ana")
    done = _notify_and_drain(vc)
    assert (done.sent, done.failed_attempts) == (0, 1), done
    assert "internal address (127.0.0.1)" in done.errors[0]
    assert receiver.posts == []


def test_the_worker_connects_to_the_address_it_checked(
    vc: Valuechain, receiver: Received, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Public to the save and to the worker's check, loopback to any later lookup: a
    client that looked the name up again to connect would reach the receiver."""
    vc.write_map(people_map())
    port = _port(receiver)
    resolver = Rebinding(public=2)
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    connected: list[tuple[str, int]] = []
    real_connect = socket.create_connection

    def connect(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        connected.append((address[0], int(address[1])))
        if address[0] == PUBLIC_IP:  # no traffic leaves the test machine
            raise ConnectionRefusedError("refused by the test")
        return real_connect(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", connect)
    notification.set_webhook(vc, f"http://rebind.example:{port}/hooks", person_id="ana")
    done = _notify_and_drain(vc)
    assert (done.sent, done.failed_attempts) == (0, 1), done
    assert connected == [(PUBLIC_IP, port)]
    assert resolver.asked == 2  # the save's check and the worker's, nothing more
    assert receiver.posts == []


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "::1",
        "::ffff:127.0.0.1",
        "169.254.169.254",
        "10.0.0.1",
        "fd00::1",
        "0.0.0.0",
        "::",
        "224.0.0.1",
        "ff02::1",
        "64:ff9b::a00:1",
        "2002:a00:1::",
        "100.64.0.1",
    ],
)
def test_internal_addresses_are_not_public(address: str) -> None:
    import ipaddress

    assert not outbound.is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", [PUBLIC_IP, "8.8.8.8", "2606:4700::1111"])
def test_public_addresses_are_public(address: str) -> None:
    import ipaddress

    assert outbound.is_public(ipaddress.ip_address(address))


def _certificate(tmp_path: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate for ``name`` and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def test_https_to_the_checked_address_keeps_the_name_for_host_sni_and_certificate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connection goes to the checked address, while the Host header, TLS SNI and
    the certificate check still use the URL's name (a certificate for another name is
    refused)."""
    monkeypatch.delenv(outbound.HOSTS_VARIABLE, raising=False)
    cert_file, key_file = _certificate(tmp_path, "hooks.test")
    seen: dict[str, Any] = {}
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert_file, key_file)

    def sni(sock: Any, server_name: str | None, context: Any) -> None:
        seen["sni"] = server_name

    server_context.sni_callback = sni

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            seen["host"] = self.headers["Host"]
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    server.socket = server_context.wrap_socket(server.socket, server_side=True)
    port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    resolver = Rebinding(public=1000)  # always the public address
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    real_connect = socket.create_connection
    connected: list[tuple[str, int]] = []

    def connect(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        # The "public" address is the test server: the network routes it there.
        connected.append((address[0], int(address[1])))
        target = ("127.0.0.1", address[1]) if address[0] == PUBLIC_IP else address
        return real_connect(target, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", connect)
    trusting = ssl.create_default_context(cafile=str(cert_file))
    # A name the certificate is not for: refused, so the check is against the name.
    with (
        httpx.Client(transport=outbound.CheckedTransport([], verify=trusting)) as client,
        pytest.raises(httpx.ConnectError, match=r"(?i)certificate"),
    ):
        client.post(f"https://rebind.example:{port}/hooks", json={"text": "x"})
    # Now a name the certificate is for.
    monkeypatch.setattr(socket, "getaddrinfo", Rebinding(public=1000, name="hooks.test"))
    connected.clear()
    try:
        with httpx.Client(transport=outbound.CheckedTransport([], verify=trusting)) as client:
            answer = client.post(f"https://hooks.test:{port}/hooks", json={"text": "x"})
    finally:
        server.shutdown()
        server.server_close()
    assert answer.status_code == 200
    assert connected == [(PUBLIC_IP, port)]
    assert seen["sni"] == "hooks.test" and seen["host"] == f"hooks.test:{port}"
