"""`serve --check --online`: whether the peers the settings name answer, before `serve` runs.

1. GitHub: the App's credentials (GET /app with its JWT);
2. each cluster: its kubeconfig (GET /version);
3. each registry `registry.allowed` names by a plain host (patterns name no host to ask):
   GET /v2/, through the same egress policy and credentials as a render.

Every problem is said, all at once, each in one line; nothing is changed anywhere.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from bot.adapters.cluster import Cluster
from bot.adapters.github.app import GitHubApp
from bot.core.failures import Failure, Temporary
from bot.kit.jobs import in_thread
from bot.ocm.location import Repository
from bot.ocm.registry import RegistryStore
from bot.services.registries import open_landscape_store
from bot.settings import Settings


async def online_problems(
    settings: Settings, *, app_id: int, private_key: str
) -> tuple[list[str], list[str]]:
    """(what answered, what did not), one line each."""
    answered: list[str] = []
    problems: list[str] = []

    # 1. GitHub
    async with GitHubApp.open(
        app_id=app_id,
        private_key=private_key,
        base_url=settings.github_api_url,
        registry=CollectorRegistry(),
    ) as github:
        try:
            name = await github.app_name()
        except Temporary as outage:
            problems.append(f"github: {outage}")
        except Exception as refused:  # a refused JWT: the App id or key is wrong
            problems.append(f"github: the App credentials were refused: {refused}")
        else:
            answered.append(f"github: the App {name}")

    # 2. the clusters
    for cluster_name, cluster in settings.clusters.items():
        try:
            async with Cluster.connect(cluster.kubeconfig) as api:
                version = await api.version()
        except (Failure, Temporary, OSError, ValueError) as failed:
            problems.append(f"clusters.{cluster_name}: {failed}")
        else:
            answered.append(f"clusters.{cluster_name}: Kubernetes {version}")

    # 3. the registries named by host
    for host in settings.registry.allowed:
        if "*" in host:
            continue
        try:
            store = open_landscape_store(settings, Repository("oci", host=host))
            assert isinstance(store, RegistryStore)
            scheme = await in_thread(store.reachable)
        except (Failure, Temporary) as failed:
            problems.append(f"registry {host}: {failed}")
        else:
            answered.append(f"registry {host}: answers ({scheme} authentication)")
    return answered, problems
