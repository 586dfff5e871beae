"""Which registries the bot may reach: the operator's egress policy. Pure.

A landscape names its registry in `component.location`, and whoever opens a pull request
writes that; so the bot connects only where the operator allows:

1. the registry's host (and port) must match one of `allowed` (glob patterns such as
   `ghcr.io` or `*.registry.example:5000`); none given, any host may be named;
2. every address a connection goes to, after resolving the name and on every redirect, must be
   a public one, unless the host matches `private` (a registry inside the operator's network),
   or it is loopback and `loopback` is on (tests, a local mirror).

The check on the resolved address, made where the socket is opened, is what keeps a name that
resolves to 169.254.169.254 or 10.0.0.1 (or changes its answer between two lookups) from
reaching it.
"""

from __future__ import annotations

import fnmatch
import ipaddress
from dataclasses import dataclass

from bot.core.failures import Failure


class EgressRefused(Failure):
    """The bot may not connect there."""


@dataclass(frozen=True)
class EgressPolicy:
    allowed: tuple[str, ...] = ()
    private: tuple[str, ...] = ()
    loopback: bool = False

    def check_host(self, host: str) -> None:
        """1. May a location name this registry (`host` or `host:port`)?"""
        if self.allowed and not _matches(host, self.allowed):
            raise EgressRefused(
                f"registry {host} is not one the bot's operators allow (setting "
                f"`registry.allowed`: {', '.join(self.allowed)})"
            )

    def check_address(self, host: str, port: int, address: str) -> None:
        """2. May a connection for `host` go to `address`?"""
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if ip.is_global and not ip.is_multicast:
            return
        if ip.is_loopback and self.loopback:
            return
        if _matches(f"{host}:{port}", self.private) or _matches(host, self.private):
            return
        raise EgressRefused(
            f"registry {host} resolves to {address}, which is not a public address; the bot's "
            f"operators can allow a registry inside their network (setting `registry.private`)"
        )


def _matches(host: str, patterns: tuple[str, ...]) -> bool:
    host = host.lower()
    bare = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return any(fnmatch.fnmatchcase(h, p.lower()) for p in patterns for h in {host, bare})
