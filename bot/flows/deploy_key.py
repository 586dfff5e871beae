"""The read-only deploy key Flux clones the landscape with, when the bot manages it.

The private half lives only in the cluster's `flux-system/git` Secret (beside `identity.pub`,
as `flux bootstrap` writes it); GitHub holds the public half. An apply keeps a key that is in
both places; a missing one, or `/bootstrap apply --rotate-key`, makes a new key. The old one is
removed from the repository only after the Secret with the new one is applied, so Flux always
has a key that works.
"""

from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.adapters.github.client import InstallationClient
from bot.settings import GitCredentials

if TYPE_CHECKING:
    from bot.flows.deploy import Target


class DeployKeyError(Exception):
    """A deploy key cannot work for this landscape."""


def new_key_pair(comment: str) -> tuple[bytes, bytes]:
    """(OpenSSH private key, OpenSSH public key line) of a new Ed25519 key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    key = ed25519.Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    return private, public + b" " + comment.encode()


def require_ssh_url(source: dict[str, Any], full_name: str) -> None:
    """A deploy key is an SSH key: the GitRepository has to clone over SSH."""
    url = str((source.get("spec") or {}).get("url", ""))
    if not url.startswith("ssh://"):
        raise DeployKeyError(
            f"a deploy key needs an ssh:// `repository.url` in the bootstrap config, such as "
            f"ssh://git@github.com/{full_name}; the GitRepository uses {url}"
        )


@dataclass(frozen=True)
class SecretKeys:
    """The git Secret's keys, and the repository's deploy key they replace (to delete once
    the Secret is applied)."""

    data: dict[str, bytes]
    replaces: int | None = None


async def deploy_key_secret(
    gh: InstallationClient,
    full_name: str,
    target: Target,
    credentials: GitCredentials,
    live: dict[str, Any] | None,
    rotate: bool,
) -> SecretKeys:
    assert credentials.known_hosts_file is not None
    known_hosts = credentials.known_hosts_file.read_bytes()
    stored = {k: base64.b64decode(v) for k, v in ((live or {}).get("data") or {}).items()}
    old_public = stored.get("identity.pub", b"").decode(errors="replace")
    old = await gh.find_deploy_key(full_name, old_public) if old_public else None
    if old is not None and stored.get("identity") and not rotate:
        data = {k: stored[k] for k in ("identity", "identity.pub")}
        return SecretKeys({**data, "known_hosts": known_hosts})
    title = f"bootstrap-bot: Flux on cluster {target.cluster_name} ({target.landscape.branch})"
    private, public = await asyncio.to_thread(new_key_pair, title)
    await gh.ensure_deploy_key(full_name, title=title, public_key=public.decode())
    data = {"identity": private, "identity.pub": public, "known_hosts": known_hosts}
    return SecretKeys(data, replaces=old.id if old is not None else None)
