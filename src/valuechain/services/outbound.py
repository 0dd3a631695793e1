"""Outbound HTTP to URLs that users give (webhooks), kept away from internal hosts.

A URL's host must resolve only to public addresses: loopback, private, link-local,
multicast, reserved, unspecified and shared (carrier-grade NAT) addresses are
refused, IPv4 and IPv6 alike, including IPv4 addresses inside IPv6 ones
(IPv4-mapped, 6to4, Teredo, NAT64) and every spelling the resolver reads
(``0x7f000001``, ``2130706433``, ``0177.0.0.1``, ``127.1``). The operator may allow
named hosts (``VALUECHAIN_WEBHOOK_HOSTS``), which are then not checked.

At delivery :class:`CheckedTransport` resolves the host once, checks every address
and connects to a checked one (keeping the name in ``Host`` and in TLS SNI and
certificate checks), so a name that answers a public address to the check and an
internal one to the connection (DNS rebinding) reaches nothing internal.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Sequence

import httpx

from valuechain.services.errors import Invalid
from valuechain.settings import settings, variable

HOSTS_VARIABLE = variable("webhook_hosts")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# NAT64's well-known prefix (RFC 6052): its last 32 bits are an IPv4 address.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class AddressRefused(Invalid):
    """A URL's host is, or resolves to, an address workers must not post to."""


def allowed_hosts() -> list[str]:
    """The host names the operator allows (``VALUECHAIN_WEBHOOK_HOSTS``, comma
    separated, ``*.example.org`` for its subdomains), lower case."""
    return list(settings().webhook_hosts)


def is_listed(host: str, allowed: Sequence[str]) -> bool:
    """Whether ``host`` is one of ``allowed`` (or under a ``*.`` entry)."""
    host = host.strip("[]").lower()
    return any(host == h or (h.startswith("*.") and host.endswith(h[1:])) for h in allowed)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public(address: IPAddress) -> bool:
    """Whether ``address`` is a public unicast address (and so is any IPv4 address
    it carries)."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = _embedded_ipv4(address)
        if inner is not None and not is_public(inner):
            return False
        if address.is_site_local:
            return False
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to (an address literal: itself), in the
    resolver's order; :class:`socket.gaierror` when it does not resolve."""
    bare = host.strip("[]")
    try:
        # "127.0.0.1." is the same address (a fully qualified name with its root dot).
        return [ipaddress.ip_address(bare.removesuffix("."))]
    except ValueError:
        pass
    found: list[IPAddress] = []
    for *_, sockaddr in socket.getaddrinfo(bare, port, type=socket.SOCK_STREAM):
        # A scoped IPv6 address ("fe80::1%eth0") is link-local either way.
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in found:
            found.append(address)
    return found


def public_addresses(host: str, port: int) -> list[IPAddress]:
    """The addresses of ``host``, all checked public; :class:`AddressRefused` if any
    is not or the host does not resolve."""
    try:
        addresses = resolve(host, port)
    except (socket.gaierror, UnicodeError) as error:
        raise AddressRefused(f"webhook host {host!r} does not resolve ({error})") from None
    internal = [a for a in addresses if not is_public(a)]
    if internal or not addresses:
        raise AddressRefused(
            f"webhook host {host!r} resolves to an internal address "
            f"({', '.join(map(str, internal)) or 'none'}); only public addresses are "
            f"allowed unless the operator lists the host in {HOSTS_VARIABLE}"
        )
    return addresses


def check_host(host: str, port: int, allowed: Sequence[str]) -> None:
    """Refuse (:class:`AddressRefused`) a host that is not listed and resolves to an
    internal address. A name that does not resolve now passes: it is checked again
    at every delivery."""
    if is_listed(host, allowed):
        return
    try:
        addresses = resolve(host, port)
    except (socket.gaierror, UnicodeError):
        return
    if not addresses or not all(is_public(a) for a in addresses):
        public_addresses(host, port)  # raises with the message that says why


class CheckedTransport(httpx.BaseTransport):
    """An httpx transport that posts only to public addresses, or to hosts the
    operator allowed: it resolves the host once, refuses it if any address is
    internal, and connects to the checked addresses in turn (the name stays in the
    ``Host`` header and in TLS SNI, so certificates are checked for the name)."""

    def __init__(
        self, allowed: Sequence[str] | None = None, *, verify: ssl.SSLContext | bool = True
    ) -> None:
        self.allowed = list(allowed_hosts() if allowed is None else allowed)
        self._inner = httpx.HTTPTransport(retries=0, verify=verify)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        if is_listed(host, self.allowed):
            return self._inner.handle_request(request)
        port = request.url.port or (443 if request.url.scheme == "https" else 80)
        try:
            addresses = public_addresses(host, port)
        except AddressRefused as error:
            raise httpx.ConnectError(str(error), request=request) from None
        # The Host header was set from the name when the request was built.
        request.extensions = {**request.extensions, "sni_hostname": host}
        original = request.url
        failure: httpx.ConnectError | None = None
        for address in addresses:
            request.url = original.copy_with(host=str(address))
            try:
                return self._inner.handle_request(request)
            except httpx.ConnectError as error:  # try the host's next address
                failure = error
            finally:
                request.url = original
        assert failure is not None
        raise failure

    def close(self) -> None:
        self._inner.close()
