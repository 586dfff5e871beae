"""The `flux-system/git` Secret Flux clones the landscape with, from the operator's settings.

1. the credentials must give the Secret the keys Flux needs for the rendered GitRepository,
   checked before anything is applied (a deploy key needs an ssh:// URL; an existing Secret
   must exist and have the keys);
2. the Secret's keys: the operator's basic/bearer/ssh credentials, a deploy key, or none when
   the Secret exists already and is only checked.

A deploy key's private half lives only in the cluster's Secret (beside `identity.pub`, as
`flux bootstrap` writes it); GitHub holds the public half. An apply keeps a key that is in
both places; a missing one, or `/bootstrap apply --rotate-key`, makes a new key. The old one is
removed from the repository only after the Secret with the new one is applied, so Flux always
has a key that works.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from bot.adapters.cluster import Cluster, ClusterError, ObjectRef
from bot.adapters.keys import generate_key_pair
from bot.core import deploy
from bot.core.failures import Failure
from bot.flows.scope import LandscapeScope
from bot.settings import ClusterSettings, GitCredentials

GIT_SECRET = ObjectRef("v1", "Secret", deploy.FLUX_NAMESPACE, deploy.GIT_SECRET)


class DeployKeyError(Failure):
    """A deploy key cannot work for this landscape."""


@dataclass(frozen=True)
class SecretKeys:
    """The git Secret's keys, and the repository's deploy key they replace (to delete once
    the Secret is applied)."""

    data: dict[str, bytes]
    replaces: int | None = None


def require_ssh_url(source: dict[str, Any], full_name: str) -> None:
    """A deploy key is an SSH key: the GitRepository has to clone over SSH."""
    url = str((source.get("spec") or {}).get("url", ""))
    if not url.startswith("ssh://"):
        raise DeployKeyError(
            f"a deploy key needs an ssh:// `repository.url` in the bootstrap config, such as "
            f"ssh://git@github.com/{full_name}; the GitRepository uses {url}"
        )


async def checked_credentials(
    api: Cluster,
    full_name: str,
    cluster_name: str,
    credentials: GitCredentials,
    source: dict[str, Any],
) -> dict[str, Any] | None:
    """1. Check that `credentials` give the Secret the keys Flux needs for `source`, before
    anything is applied; the live Secret, where the credentials build on it."""
    live = None
    if credentials.type == "deploy-key":
        require_ssh_url(source, full_name)
        live = await api.get(GIT_SECRET)
        keys = {"identity", "identity.pub", "known_hosts"}
    elif credentials.type == "secret":
        live = await api.get(GIT_SECRET)
        if live is None:
            raise ClusterError(
                f"Secret {GIT_SECRET.namespace}/{GIT_SECRET.name} does not exist: create it, or "
                f"configure git credentials for cluster `{cluster_name}`"
            )
        keys = set(live.get("data") or {})
    else:
        keys = set(credentials.secret_data())
    missing, why = deploy.missing_secret_keys(source, keys)
    if missing:
        raise ClusterError(
            f"Secret {GIT_SECRET.namespace}/{GIT_SECRET.name} needs {', '.join(missing)} {why}; "
            f"the credentials for cluster `{cluster_name}` are `{credentials.type}`"
        )
    return live


async def git_secret_keys(
    scope: LandscapeScope,
    api: Cluster,
    cluster_name: str,
    cluster: ClusterSettings,
    source: dict[str, Any],
    rotate_key: bool,
) -> SecretKeys | None:
    """2. The keys of the `flux-system/git` Secret to apply (None: it exists and is only
    checked)."""
    credentials = cluster.git
    live = await checked_credentials(api, scope.full_name, cluster_name, credentials, source)
    if credentials.type == "secret":
        return None
    if credentials.type == "deploy-key":
        return await _deploy_key_secret(scope, cluster_name, credentials, live, rotate_key)
    return SecretKeys(credentials.secret_data())


async def _deploy_key_secret(
    scope: LandscapeScope,
    cluster_name: str,
    credentials: GitCredentials,
    live: dict[str, Any] | None,
    rotate: bool,
) -> SecretKeys:
    gh, full_name = scope.gh, scope.full_name
    assert credentials.known_hosts_file is not None
    known_hosts = credentials.known_hosts_file.read_bytes()
    stored = {k: base64.b64decode(v) for k, v in ((live or {}).get("data") or {}).items()}
    old_public = stored.get("identity.pub", b"").decode(errors="replace")
    old = await gh.find_deploy_key(full_name, old_public) if old_public else None
    if old is not None and stored.get("identity") and not rotate:
        data = {k: stored[k] for k in ("identity", "identity.pub")}
        return SecretKeys({**data, "known_hosts": known_hosts})
    title = f"bootstrap-bot: Flux on cluster {cluster_name} ({scope.branch})"
    private, public = await generate_key_pair(title)
    await gh.ensure_deploy_key(full_name, title=title, public_key=public.decode())
    data = {"identity": private, "identity.pub": public, "known_hosts": known_hosts}
    return SecretKeys(data, replaces=old.id if old is not None else None)
