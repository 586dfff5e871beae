"""Which cluster a landscape commit goes to, and what it would apply there: what the deploy,
the dry run and `/bootstrap status` share.

1. the commit's tree and bootstrap config (none readable: nothing to target; the render check
   run says why);
2. the cluster its `bot.cluster` names, and whether the operator bound that cluster to this
   repository and branch;
3. kustomize's objects of `envs/<env>/fluxcd` and `envs/<env>`;
4. the External Secrets Operator's objects, when the landscape wants ESO.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.adapters.cluster import ClusterError, ObjectRef
from bot.adapters.kustomize import build_tree
from bot.core import deploy
from bot.core.config import BootstrapConfig
from bot.core.discovery import Landscape
from bot.core.eso import wants_eso
from bot.core.fileset import FileSet
from bot.flows.scope import LandscapeScope
from bot.kit.jobs import in_thread
from bot.ocm.location import LocationError, parse_location
from bot.services.context import BotContext
from bot.services.pipeline import LandscapeError, landscape_eso, read_config, release_graph
from bot.settings import ClusterSettings

SOURCE = ObjectRef(deploy.SOURCE_API, "GitRepository", deploy.FLUX_NAMESPACE, deploy.SOURCE_NAME)


@dataclass(frozen=True)
class Target:
    """A landscape commit and the cluster it goes to."""

    landscape: Landscape
    config: BootstrapConfig
    commit: str
    tree: FileSet
    cluster_name: str
    cluster: ClusterSettings | None  # None: not bound to this repository and branch

    @property
    def version(self) -> str:
        try:
            return parse_location(self.config.component.location).version or "unknown"
        except LocationError:
            return "unknown"


async def landscape_target(scope: LandscapeScope, commit: str | None = None) -> Target | None:
    """The landscape at `commit` (default: its branch head) and its cluster; None when it names
    no cluster, or has no readable config (the render check run tells about that)."""
    # 1. the commit and its config
    head = await scope.git.fetch(scope.branch)
    if head is None:
        return None
    commit = commit or head
    tree = await scope.git.read_tree(commit)
    try:
        config, _ = read_config(tree, scope.config_path)
    except LandscapeError:
        return None
    # 2. its cluster
    bound = bound_cluster(scope.context, scope.full_name, scope.landscape, config)
    if bound is None:
        return None
    return Target(scope.landscape, config, commit, tree, *bound)


def bound_cluster(
    context: BotContext, full_name: str, landscape: Landscape, config: BootstrapConfig
) -> tuple[str, ClusterSettings | None] | None:
    """The cluster `config` names in `bot.cluster`, with its settings when the operator bound
    it to this repository and branch (None when not); None when it names no cluster."""
    name = config.bot.cluster
    if name is None:
        return None
    cluster = context.settings.clusters.get(name)
    if cluster is not None and not cluster.may_target(full_name, landscape.branch):
        cluster = None
    return name, cluster


async def built_objects(target: Target) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """3. kustomize's objects of `envs/<env>/fluxcd` and of `envs/<env>`."""
    env = target.config.environment
    flux_dir, env_dir = f"envs/{env}/fluxcd", f"envs/{env}"
    built = await build_tree(target.tree, [flux_dir, env_dir])
    return built[flux_dir], built[env_dir]


async def eso_objects_of(scope: LandscapeScope, target: Target) -> list[dict[str, Any]]:
    """4. the External Secrets Operator's objects, from the release the config names (none when
    the landscape wants no ESO); what the release lacks for them is told at its location."""
    if not wants_eso(target.config):
        return []
    config, config_path = target.config, scope.config_path

    def built() -> list[dict[str, Any]]:
        graph = release_graph(config, scope.context.open_reader, config_path=config_path)
        return landscape_eso(config, graph, config_path=config_path)

    return await in_thread(built)


def required_source(plan: deploy.ApplyPlan, env: str) -> dict[str, Any]:
    """The GitRepository Flux syncs the landscape from; a render without one is refused."""
    if plan.source is None:
        raise ClusterError(
            f"envs/{env}/fluxcd has no GitRepository "
            f"{deploy.FLUX_NAMESPACE}/{deploy.SOURCE_NAME} for Flux to sync from"
        )
    return plan.source
