"""Registry credentials from a docker `config.json` and an OCM config file. Pure parsing.

OCM config: `credentials.config.ocm.software` consumers of type `OCIRegistry`, matched with
OCM's hostpath rules (hostname equal; port and scheme only when both sides set them; pathprefix
a component-wise prefix of the repository path; the most specific pattern wins). Docker config:
`auths[<host>]` with `auth` (base64 user:password), `username`/`password` or `identitytoken`.
External credential helpers are not run.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

import yaml

from bot.core.failures import Failure

CREDENTIALS_CONFIG = "credentials.config.ocm.software"


@dataclass(frozen=True)
class Credentials:
    username: str = ""
    password: str = ""
    #: an identity (refresh) token, used as the password of the token exchange
    identity_token: str = ""

    def __repr__(self) -> str:  # never show secrets
        return f"Credentials(username={self.username!r}, password=<redacted>)"


class CredentialsError(Failure, ValueError):
    """A credentials file that cannot be used (the message never includes a secret)."""


@dataclass(frozen=True)
class _Consumer:
    hostname: str
    port: str
    scheme: str
    pathprefix: str
    credentials: Credentials

    def matches(self, hostname: str, port: str, scheme: str, path: str) -> bool:
        if self.hostname != hostname:
            return False
        if self.port and port and self.port != port:
            return False
        if self.scheme and scheme and self.scheme != scheme:
            return False
        if self.pathprefix:
            want = self.pathprefix.strip("/").split("/")
            have = path.strip("/").split("/") if path else []
            return have[: len(want)] == want
        return True

    def specificity(self) -> tuple[int, int]:
        prefix = self.pathprefix.strip("/")
        return (bool(self.port) + bool(self.scheme), len(prefix.split("/")) if prefix else 0)


def _host_key(key: str) -> str:
    for scheme in ("https://", "http://"):
        key = key.removeprefix(scheme)
    return key.split("/", 1)[0]


def docker_credentials(text: str) -> dict[str, Credentials]:
    """Host -> credentials from a docker config.json."""
    try:
        config = json.loads(text)
    except ValueError:
        raise CredentialsError("docker config is not JSON") from None
    found = {}
    for key, entry in (config.get("auths") or {}).items():
        if not isinstance(entry, dict):
            continue
        if entry.get("auth"):
            try:
                user, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                raise CredentialsError(f"docker config: auth of {key} is not base64") from None
            found[_host_key(key)] = Credentials(user, password)
        elif entry.get("identitytoken"):
            found[_host_key(key)] = Credentials(
                entry.get("username", "<token>"), identity_token=entry["identitytoken"]
            )
        elif entry.get("username"):
            found[_host_key(key)] = Credentials(entry["username"], entry.get("password", ""))
    return found


def _ocm_consumers(text: str) -> list[_Consumer]:
    try:
        config = yaml.safe_load(text) or {}
    except yaml.YAMLError:
        raise CredentialsError("OCM config is not YAML") from None
    configurations: list[Any] = config.get("configurations") or []
    if config.get("type", "").startswith(CREDENTIALS_CONFIG):
        configurations = [config]
    consumers = []
    for configuration in configurations:
        if not str(configuration.get("type", "")).startswith(CREDENTIALS_CONFIG):
            continue
        for entry in configuration.get("repositories") or []:
            kind = str(((entry or {}).get("repository") or {}).get("type", ""))
            if "DockerConfig" in kind:
                # as openmcp-bootstrapper refuses it: read here, it would be a file on this
                # machine the bot silently did or did not find, so its credentials go unused
                raise CredentialsError(
                    f"invalid OCM configuration: unsupported repository type: {kind}; give the "
                    f"docker config itself instead (--docker-config, registry.docker_config)"
                )
        for consumer in configuration.get("consumers") or []:
            identity = consumer.get("identity") or {}
            if identity.get("type") != "OCIRegistry":
                continue
            properties: dict[str, Any] = {}
            for credential in consumer.get("credentials") or []:
                properties.update(credential.get("properties") or {})
            consumers.append(
                _Consumer(
                    hostname=str(identity.get("hostname", "")),
                    port=str(identity.get("port", "")),
                    scheme=str(identity.get("scheme", "")),
                    pathprefix=str(identity.get("pathprefix", "")),
                    credentials=Credentials(
                        str(properties.get("username", "")),
                        str(properties.get("password", "")),
                        str(properties.get("identityToken", "")),
                    ),
                )
            )
    return consumers


@dataclass(frozen=True)
class CredentialStore:
    """Credentials for registry requests, from the operator's configured files."""

    docker: dict[str, Credentials]
    consumers: tuple[_Consumer, ...] = ()

    @classmethod
    def from_texts(cls, docker_config: str | None, ocm_config: str | None) -> CredentialStore:
        return cls(
            docker_credentials(docker_config) if docker_config else {},
            tuple(_ocm_consumers(ocm_config)) if ocm_config else (),
        )

    def lookup(self, host: str, path: str = "", scheme: str = "") -> Credentials | None:
        """The best match for a request to `host` (host[:port]) and repository `path`."""
        hostname, _, port = host.partition(":")
        matching = [c for c in self.consumers if c.matches(hostname, port, scheme, path)]
        if matching:
            return max(matching, key=_Consumer.specificity).credentials
        return self.docker.get(host) or self.docker.get(hostname)
