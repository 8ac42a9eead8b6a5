"""The client's address behind a reverse proxy (ADR 0062).

Risk control reads the client's IP on every movement of money (``device_cluster``: many
accounts on one IP → freeze; the IP blacklist), and every request log carries it. Behind nginx
or a load balancer, ``REMOTE_ADDR`` is the proxy's own address for every client: all users
would look like one farm. ``YAJI_TRUSTED_PROXIES`` names the proxies (comma-separated
addresses or networks, e.g. ``127.0.0.1,10.0.0.0/8``); a request *from* one of them gets its
client from ``X-Forwarded-For``:

* the header is read from the right (the nearest hop first), skipping addresses that are
  trusted proxies themselves (a chain of them); the first one that is not is the client;
* a malformed entry ends the walk at the hop before it: nothing a client wrote left of a
  trusted proxy's entry is believed (the left part of the header is the client's to forge);
* every hop trusted: the left-most address;
* a request from anywhere else keeps its ``REMOTE_ADDR`` whatever headers it sends (a client
  cannot claim another's address by sending the header itself).

From a trusted proxy, ``X-Forwarded-Proto: https`` (or ``http``; the first entry) also sets
``wsgi.url_scheme``: behind a proxy that terminates TLS, Django's ``is_secure()``, its HTTPS
redirect and CSRF's origin checks, and the fast path's, see the scheme the client used.

It is a WSGI layer in front of the fast path and Django (``wsgi_application_build``), so both,
and everything that reads ``REMOTE_ADDR``, see the client; the proxy's address is kept in
``environ["yaji.proxy_addr"]``. Empty (the default): nothing is rewritten — serving directly.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

PROXY_ADDR_KEY = "yaji.proxy_addr"
_MEMO_SIZE = 4096  # addresses already decided (the proxies', the clients' of a busy minute)


@lru_cache(maxsize=16)
def trusted_networks(spec: tuple[str, ...]) -> tuple[Network, ...]:
    """``YAJI_TRUSTED_PROXIES`` parsed; a bad entry is a configuration error, said at once."""
    networks = []
    for entry in spec:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"YAJI_TRUSTED_PROXIES: {entry!r} is not an IP address or network"
            ) from exc
    return tuple(networks)


def _address(text: str) -> Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


@lru_cache(maxsize=_MEMO_SIZE)
def _trusted(text: str, networks: tuple[Network, ...]) -> bool:
    address = _address(text)
    return address is not None and any(address in network for network in networks)


def forwarded_client(remote: str, forwarded_for: str, networks: tuple[Network, ...]) -> str:
    """The client's address for a request from ``remote`` carrying ``X-Forwarded-For:
    forwarded_for`` (see the module doc); ``remote`` itself if it is not a trusted proxy."""
    if not networks or not forwarded_for or not _trusted(remote, networks):
        return remote
    client = remote
    for entry in reversed(forwarded_for.split(",")):
        hop = entry.strip()
        address = _address(hop)
        if address is None:
            break  # malformed: the hop before it (a trusted proxy) is as far as we believe
        client = str(address)
        if not _trusted(client, networks):
            break
    return client


def forwarded_scheme(value: str) -> str | None:
    """``X-Forwarded-Proto``'s scheme (the first entry: the edge proxy's), if it is one."""
    first = value.split(",", 1)[0].strip().lower()
    return first if first in ("http", "https") else None


def trusted_proxies_wrap(app: WsgiApp) -> WsgiApp:
    """``app`` seeing the client's address in ``REMOTE_ADDR`` behind trusted proxies."""

    def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        spec = settings.YAJI_TRUSTED_PROXIES
        if spec:
            remote = environ.get("REMOTE_ADDR", "")
            networks = trusted_networks(tuple(spec))
            if _trusted(remote, networks):
                forwarded_for = environ.get("HTTP_X_FORWARDED_FOR", "")
                client = forwarded_client(remote, forwarded_for, networks)
                if client != remote:
                    environ[PROXY_ADDR_KEY] = remote
                    environ["REMOTE_ADDR"] = client
                scheme = forwarded_scheme(environ.get("HTTP_X_FORWARDED_PROTO", ""))
                if scheme is not None:
                    environ["wsgi.url_scheme"] = scheme
        return app(environ, start_response)

    application.wrapped = app  # type: ignore[attr-defined]
    return application


def wsgi_application_build() -> WsgiApp:
    """The site's WSGI application: Django behind the fast path (ADR 0043), behind the
    trusted-proxy layer (this module). ``yaji.wsgi`` and ``yaji serve`` both serve this."""
    from django.core.wsgi import get_wsgi_application

    from yaji.core.fastpath import fastpath_wrap

    trusted_networks(tuple(settings.YAJI_TRUSTED_PROXIES))  # a typo stops the start, not a request
    return trusted_proxies_wrap(fastpath_wrap(get_wsgi_application()))
