"""The read-only deploy key Flux clones the landscape with, when the bot manages it.

The private half lives only in the cluster's `flux-system/git` Secret (beside `identity.pub`,
as `flux bootstrap` writes it); GitHub holds the public half. An apply keeps a key that is in
both places; a missing one, or `/bootstrap apply --rotate-key`, makes a new key and removes
the old one from the repository.
"""

from __future__ import annotations

import asyncio
import base64
from typing import TYPE_CHECKING, Any

from bot.github import InstallationClient
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


async def deploy_key_secret(
    gh: InstallationClient,
    full_name: str,
    target: Target,
    credentials: GitCredentials,
    source: dict[str, Any],
    live: dict[str, Any] | None,
    rotate: bool,
) -> dict[str, bytes]:
    url = str((source.get("spec") or {}).get("url", ""))
    if not url.startswith("ssh://"):
        raise DeployKeyError(
            f"a deploy key needs an ssh:// `repository.url` in the bootstrap config, such as "
            f"ssh://git@github.com/{full_name}; the GitRepository uses {url}"
        )
    assert credentials.known_hosts_file is not None
    known_hosts = credentials.known_hosts_file.read_bytes()
    stored = {k: base64.b64decode(v) for k, v in ((live or {}).get("data") or {}).items()}
    old_public = stored.get("identity.pub", b"").decode(errors="replace")
    keep = bool(old_public and stored.get("identity")) and not rotate
    if keep and await gh.find_deploy_key(full_name, old_public) is not None:
        return {
            "identity": stored["identity"],
            "identity.pub": stored["identity.pub"],
            "known_hosts": known_hosts,
        }
    title = f"bootstrap-bot: Flux on cluster {target.cluster_name} ({target.landscape.branch})"
    private, public = await asyncio.to_thread(new_key_pair, title)
    await gh.ensure_deploy_key(full_name, title=title, public_key=public.decode())
    if old_public:
        old = await gh.find_deploy_key(full_name, old_public)
        if old is not None:
            await gh.delete_deploy_key(full_name, old.id)
    return {"identity": private, "identity.pub": public, "known_hosts": known_hosts}
