"""Applying a landscape to its cluster after a merge, a push or `/bootstrap apply`.

1. the commit's tree and bootstrap config; no `bot.cluster`, nothing to do;
2. the cluster must be one the operator bound to this repository and branch; else refused;
3. `kustomize build` of `envs/<env>/fluxcd` and `envs/<env>`; the git credentials are checked
   against the GitRepository before anything is applied;
4. check run `bootstrap-bot/deploy` in progress;
5. server-side apply: CRDs and Namespaces, the git Secret, then (once the CRDs are
   Established) the rest of Flux, then the Flux Kustomizations of `envs/<env>`;
6. wait until Flux reports the commit Ready (or a Kustomization fails, or time runs out);
7. the check run completed, and a comment on the merged pull request.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, Literal

from bot.adapters.cluster import Cluster, ClusterError, ObjectRef, wait_for
from bot.adapters.github.client import InstallationClient, PullRequest, Repository
from bot.adapters.kustomize import KustomizeError, build_files
from bot.core import deploy
from bot.core.config import BootstrapConfig, read_bot_settings
from bot.core.deploy import DEPLOY_CHECK, DeployReport, Readiness
from bot.core.discovery import Landscape
from bot.core.fileset import FileSet
from bot.flows.checks import finish_check
from bot.flows.deploy_key import (
    DeployKeyError,
    SecretKeys,
    deploy_key_secret,
    require_ssh_url,
)
from bot.kit.logs import bind
from bot.ocm.location import LocationError, parse_location
from bot.services.context import BotContext
from bot.services.pipeline import LandscapeError, read_config
from bot.settings import ClusterSettings, GitCredentials

log = logging.getLogger(__name__)
#: paths whose change in a push means the cluster may run something else now
RENDERED_PREFIXES = ("envs/", "resources/")
SOURCE = ObjectRef(deploy.SOURCE_API, "GitRepository", deploy.FLUX_NAMESPACE, deploy.SOURCE_NAME)
GIT_SECRET = ObjectRef("v1", "Secret", deploy.FLUX_NAMESPACE, deploy.GIT_SECRET)


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


async def landscape_target(
    context: BotContext,
    gh: InstallationClient,
    repository: Repository,
    landscape: Landscape,
    commit: str | None = None,
) -> Target | None:
    """The landscape at `commit` (default: its branch head) and its cluster; None when it names
    no cluster, or has no readable config (the render check run tells about that)."""
    git = context.git(repository.full_name, repository.clone_url)
    token = context.token(gh)
    head = await asyncio.to_thread(git.fetch, landscape.branch, await token())
    if head is None:
        return None
    commit = commit or head
    tree = await asyncio.to_thread(git.read_tree, commit)
    try:
        config, _ = read_config(tree, landscape.config_path)
    except LandscapeError:
        return None
    bound = bound_cluster(context, repository.full_name, landscape, config)
    if bound is None:
        return None
    return Target(landscape, config, commit, tree, *bound)


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


def not_bound(cluster_name: str, full_name: str, branch: str) -> str:
    return (
        f"cluster `{cluster_name}` is not configured for {full_name} branch `{branch}`: the "
        f"bot's operators bind clusters to repositories and branches in its settings "
        f"(`clusters:`), and a landscape may only name one bound to it"
    )


async def built_objects(target: Target) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """kustomize's objects of `envs/<env>/fluxcd` and of `envs/<env>`."""
    env = target.config.environment
    flux_dir, env_dir = f"envs/{env}/fluxcd", f"envs/{env}"
    built = await asyncio.to_thread(build_files, target.tree, [flux_dir, env_dir])
    return built[flux_dir], built[env_dir]


async def deploy_landscape(
    context: BotContext,
    gh: InstallationClient,
    repository: Repository,
    landscape: Landscape,
    *,
    commit: str | None = None,
    pull: PullRequest | None = None,
    again: bool = True,
    rotate_key: bool = False,
) -> DeployReport | None:
    """Apply the landscape at `commit` and report; None when there is nothing to apply to.
    With `again` false, a commit whose deploy check run exists already is left alone."""
    full_name = repository.full_name
    bind(landscape=landscape.branch)

    # 1. the commit and its cluster
    if not again and commit and await gh.latest_check_run(full_name, commit, DEPLOY_CHECK):
        return None
    target = await landscape_target(context, gh, repository, landscape, commit)
    if target is None:
        return None
    env = target.config.environment

    # 2. bound to this repository and branch?
    if target.cluster is None:
        why = not_bound(target.cluster_name, full_name, landscape.branch)
        report = deploy.refused(env, target.cluster_name, target.commit, why)
        return await _reported(context, gh, full_name, report, pull)

    # 3.-6.
    merged_at = await _first_deploy_after_merge(gh, full_name, target.commit, pull)
    await gh.ensure_check_run(
        full_name, head_sha=target.commit, name=DEPLOY_CHECK, status="in_progress"
    )
    try:
        report = await _apply(gh, full_name, target, target.cluster, rotate_key)
    except (ClusterError, KustomizeError, DeployKeyError) as err:
        report = deploy.refused(env, target.cluster_name, target.commit, str(err))
    log.info(
        "deploy of %s@%s to %s: %s",
        full_name,
        target.commit[:12],
        target.cluster_name,
        report.conclusion,
    )

    if merged_at is not None and report.conclusion == "success":
        latency = context.deploy_metrics.merge_to_ready.labels(target.cluster_name)
        latency.observe(max(0.0, time.time() - merged_at))

    # 7. told
    return await _reported(context, gh, full_name, report, pull)


async def _first_deploy_after_merge(
    gh: InstallationClient, full_name: str, commit: str, pull: PullRequest | None
) -> float | None:
    """When `pull` was merged (epoch seconds), unless its commit reached Ready before: a
    redelivery, another replica or `/bootstrap apply` is no new merge to measure."""
    if pull is None or not pull.merged_at:
        return None
    earlier = await gh.latest_check_run(full_name, commit, DEPLOY_CHECK)
    if earlier is not None and earlier.conclusion == "success":
        return None
    return datetime.fromisoformat(pull.merged_at).timestamp()


async def _reported(
    context: BotContext,
    gh: InstallationClient,
    full_name: str,
    report: DeployReport,
    pull: PullRequest | None,
) -> DeployReport:
    context.deploy_metrics.applies.labels(report.cluster, report.conclusion).inc()
    await finish_check(gh, full_name, DEPLOY_CHECK, report)
    if pull is not None:
        marker = f"deploy-{report.commit}"
        await gh.upsert_comment(full_name, pull.number, marker=marker, body=report.comment())
    return report


async def _apply(
    gh: InstallationClient,
    full_name: str,
    target: Target,
    cluster: ClusterSettings,
    rotate_key: bool,
) -> DeployReport:
    env = target.config.environment
    plan = deploy.apply_plan(*await built_objects(target))
    source = required_source(plan, env)
    timeout = cluster.ready_timeout.total_seconds()
    started = time.monotonic()
    async with Cluster.connect(cluster.kubeconfig) as api:
        # the credentials must fit the GitRepository before anything changes
        secret = await _git_secret(gh, api, full_name, target, cluster, source, rotate_key)
        applied = [await api.apply(obj) for obj in plan.first]
        if secret is not None:
            applied.append(await api.apply(deploy.git_secret(secret.data)))
            if secret.replaces is not None:  # Flux has the new key now
                await gh.delete_deploy_key(full_name, secret.replaces)
        await _established(api, plan.crds, timeout)
        applied += [await api.apply(obj) for obj in [*plan.rest, *plan.kustomizations]]
        commit = await _followed_commit(gh, full_name, target, source)
        readiness = await _flux_ready(api, plan.kustomizations, commit, timeout)
    outcomes = tuple((str(a.ref), a.outcome) for a in applied)
    seconds = time.monotonic() - started
    if readiness.state == "ready":
        conclusion: Literal["success", "failure"] = "success"
        problem = ""
    else:
        conclusion = "failure"
        waited = deploy.duration(timeout)
        problem = readiness.message or f"Flux did not report {commit[:12]} Ready within {waited}"
    return DeployReport(
        env,
        target.cluster_name,
        target.commit,
        target.version,
        conclusion,
        outcomes,
        readiness,
        seconds,
        problem,
    )


def required_source(plan: deploy.ApplyPlan, env: str) -> dict[str, Any]:
    if plan.source is None:
        raise ClusterError(
            f"envs/{env}/fluxcd has no GitRepository "
            f"{deploy.FLUX_NAMESPACE}/{deploy.SOURCE_NAME} for Flux to sync from"
        )
    return plan.source


async def checked_credentials(
    api: Cluster,
    full_name: str,
    cluster_name: str,
    credentials: GitCredentials,
    source: dict[str, Any],
) -> dict[str, Any] | None:
    """Check that `credentials` give the Secret the keys Flux needs for `source`, before
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


async def _git_secret(
    gh: InstallationClient,
    api: Cluster,
    full_name: str,
    target: Target,
    cluster: ClusterSettings,
    source: dict[str, Any],
    rotate_key: bool,
) -> SecretKeys | None:
    """The keys of the `flux-system/git` Secret to apply (None: it exists and is only
    checked)."""
    credentials = cluster.git
    live = await checked_credentials(api, full_name, target.cluster_name, credentials, source)
    if credentials.type == "secret":
        return None
    if credentials.type == "deploy-key":
        return await deploy_key_secret(gh, full_name, target, credentials, live, rotate_key)
    return SecretKeys(credentials.secret_data())


async def _established(api: Cluster, names: list[str], timeout: float) -> None:
    async def established(name: str) -> bool | None:
        ref = ObjectRef("apiextensions.k8s.io/v1", "CustomResourceDefinition", "", name)
        conditions = ((await api.get(ref) or {}).get("status") or {}).get("conditions") or []
        done = any(c.get("type") == "Established" and c.get("status") == "True" for c in conditions)
        return True if done else None

    for name in names:
        if await wait_for(partial(established, name), timeout=timeout) is None:
            raise ClusterError(f"CustomResourceDefinition {name} was not Established in time")


async def _followed_commit(
    gh: InstallationClient, full_name: str, target: Target, source: dict[str, Any]
) -> str:
    """The commit Flux should end up at: the applied one when the GitRepository follows the
    landscape branch, else the head of the branch it follows."""
    branch = ((source.get("spec") or {}).get("ref") or {}).get("branch")
    if branch in (None, target.landscape.branch):
        return target.commit
    head = await gh.read_ref(full_name, str(branch))
    if head is None:
        raise ClusterError(f"the GitRepository follows branch `{branch}`, which does not exist")
    return head


async def flux_state(api: Cluster, kustomizations: list[dict[str, Any]], commit: str) -> Readiness:
    source = await api.get(SOURCE)
    live = [await api.get(ObjectRef.of(k)) for k in kustomizations]
    return deploy.flux_readiness(source, [k for k in live if k is not None], commit)


async def _flux_ready(
    api: Cluster, kustomizations: list[dict[str, Any]], commit: str, timeout: float
) -> Readiness:
    last = [Readiness("waiting")]

    async def probe() -> Readiness | None:
        last[0] = await flux_state(api, kustomizations, commit)
        return None if last[0].state == "waiting" else last[0]

    return await wait_for(probe, timeout=timeout) or last[0]


async def cluster_rows(
    context: BotContext, gh: InstallationClient, repository: Repository, landscape: Landscape
) -> tuple[tuple[str, str], ...]:
    """What the landscape's cluster runs, as `/bootstrap status` rows: Flux's revision and
    Ready conditions, and the openMCP release at the applied commit against the one in git."""
    target = await landscape_target(context, gh, repository, landscape)
    if target is None:
        return (("cluster", "none named in `bot.cluster`"),)
    if target.cluster is None:
        why = not_bound(target.cluster_name, repository.full_name, landscape.branch)
        return (("cluster", why),)
    try:
        _, objects = await built_objects(target)
        async with Cluster.connect(target.cluster.kubeconfig) as api:
            state = await flux_state(api, deploy.flux_kustomizations(objects), target.commit)
            source = await api.get(SOURCE)
    except (ClusterError, KustomizeError) as err:
        return (("cluster", f"`{target.cluster_name}`: {err}"),)
    revision = str(((source or {}).get("status") or {}).get("artifact", {}).get("revision") or "")
    deployed = "unknown"
    if revision:
        at = await landscape_target(
            context, gh, repository, landscape, deploy.revision_commit(revision)
        )
        deployed = at.version if at is not None else "unknown"
    flux = "<br>".join(state.lines) or "nothing applied yet"
    return (
        ("cluster", f"`{target.cluster_name}`: Flux has {revision or 'no artifact'}"),
        ("openMCP release deployed", f"`{deployed}` (in git: `{target.version}`)"),
        ("Flux", flux),
    )


async def awaits_deploy(
    gh: InstallationClient, full_name: str, landscape: Landscape, commit: str
) -> bool:
    """Whether `commit` should be applied by a resync: its config names a cluster, and no
    apply of it finished (its merge or push event was lost, or the bot stopped mid-apply)."""
    text = await gh.read_file(full_name, landscape.config_path, commit)
    section = read_bot_settings(text.decode("utf-8", errors="replace")) if text else None
    if section is None or section.cluster is None:
        return False
    run = await gh.latest_check_run(full_name, commit, DEPLOY_CHECK)
    return run is None or run.status != "completed"


def changes_rendered_files(push: dict[str, Any], payload_commits: int) -> bool:
    """Whether a push payload touches rendered files (a long push is assumed to)."""
    commits = push.get("commits") or []
    if len(commits) >= payload_commits:
        return True
    return any(
        path.startswith(RENDERED_PREFIXES)
        for commit in commits
        for kind in ("added", "modified", "removed")
        for path in commit.get(kind) or []
    )
