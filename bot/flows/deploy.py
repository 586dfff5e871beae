"""Applying a landscape to its cluster after a merge, a push or `/bootstrap apply`.

1. the commit's tree and bootstrap config; no `bot.cluster`, nothing to do (`bot.flows.target`);
2. the cluster must be one the operator bound to this repository and branch; else refused;
3. `kustomize build` of `envs/<env>/fluxcd` and `envs/<env>`; the git credentials are checked
   against the GitRepository before anything is applied (`bot.flows.git_credentials`);
4. check run `bootstrap-bot/deploy` in progress;
5. server-side apply: CRDs and Namespaces, the git Secret, then (once the CRDs are
   Established) the rest of Flux, then the Flux Kustomizations of `envs/<env>`;
6. wait until Flux reports the commit Ready (or a Kustomization fails, or time runs out);
7. when the landscape wants the External Secrets Operator: its chart's OCIRepository and its
   HelmRelease (built from the release before anything was applied), then wait until the
   HelmRelease is Ready at that chart;
8. the check run completed, and a comment on the merged pull request.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import partial
from typing import Any, Literal

from bot.adapters.cluster import Cluster, ClusterError, ObjectRef, wait_for
from bot.adapters.github.models import PullRequest
from bot.core import deploy, eso, replies
from bot.core.config import read_bot_settings
from bot.core.deploy import DeployReport, Readiness
from bot.core.failures import Failure, Temporary
from bot.core.names import DEPLOY_CHECK, deploy_marker
from bot.flows.checks import finish_check, needs_work, start_check
from bot.flows.git_credentials import git_secret_keys
from bot.flows.scope import LandscapeScope
from bot.flows.target import (
    SOURCE,
    Target,
    built_objects,
    eso_objects_of,
    landscape_target,
    required_source,
)
from bot.kit.logs import bind
from bot.settings import ClusterSettings

log = logging.getLogger(__name__)


async def deploy_landscape(
    scope: LandscapeScope,
    *,
    commit: str | None = None,
    pull: PullRequest | None = None,
    again: bool = True,
    rotate_key: bool = False,
) -> DeployReport | None:
    """Apply the landscape at `commit` and report; None when there is nothing to apply to.
    With `again` false, a commit whose deploy check run exists already is left alone."""
    gh, full_name = scope.gh, scope.full_name
    bind(landscape=scope.branch)

    # 1. the commit and its cluster
    if not again and commit and await gh.latest_check_run(full_name, commit, DEPLOY_CHECK):
        return None
    target = await landscape_target(scope, commit)
    if target is None:
        return None
    env = target.config.environment

    # 2. bound to this repository and branch?
    if target.cluster is None:
        why = replies.not_bound(target.cluster_name, full_name, scope.branch)
        report = deploy.refused(env, target.cluster_name, target.commit, why)
        return await _reported(scope, report, pull)

    # 3.-6.
    merged_at = await _first_deploy_after_merge(scope, target.commit, pull)
    await start_check(gh, full_name, target.commit, DEPLOY_CHECK)
    try:
        report = await _apply(scope, target, target.cluster, rotate_key)
    except Failure as err:
        report = deploy.refused(env, target.cluster_name, target.commit, str(err))
    log.info(
        "deploy of %s@%s to %s: %s",
        full_name,
        target.commit[:12],
        target.cluster_name,
        report.conclusion,
    )

    if merged_at is not None and report.conclusion == "success":
        latency = scope.context.deploy_metrics.merge_to_ready.labels(target.cluster_name)
        latency.observe(max(0.0, time.time() - merged_at))

    # 8. told
    return await _reported(scope, report, pull)


async def _first_deploy_after_merge(
    scope: LandscapeScope, commit: str, pull: PullRequest | None
) -> float | None:
    """When `pull` was merged (epoch seconds), unless its commit reached Ready before: a
    redelivery, another replica or `/bootstrap apply` is no new merge to measure."""
    if pull is None or not pull.merged_at:
        return None
    earlier = await scope.gh.latest_check_run(scope.full_name, commit, DEPLOY_CHECK)
    if earlier is not None and earlier.conclusion == "success":
        return None
    return datetime.fromisoformat(pull.merged_at).timestamp()


async def _reported(
    scope: LandscapeScope, report: DeployReport, pull: PullRequest | None
) -> DeployReport:
    scope.context.deploy_metrics.applies.labels(report.cluster, report.conclusion).inc()
    if pull is not None:  # before the run completes: a completed run means it was told
        await scope.gh.upsert_comment(
            scope.full_name,
            pull.number,
            marker=deploy_marker(report.commit),
            body=report.comment(),
        )
    await finish_check(scope.gh, scope.full_name, DEPLOY_CHECK, report)
    return report


async def _apply(
    scope: LandscapeScope, target: Target, cluster: ClusterSettings, rotate_key: bool
) -> DeployReport:
    env = target.config.environment
    plan = deploy.apply_plan(*await built_objects(target))
    source = required_source(plan, env)
    eso_objects = await eso_objects_of(scope, target)
    timeout = cluster.ready_timeout.total_seconds()
    started = time.monotonic()
    async with Cluster.connect(cluster.kubeconfig) as api:
        # the credentials must fit the GitRepository before anything changes
        secret = await git_secret_keys(scope, api, target.cluster_name, cluster, source, rotate_key)
        applied = [await api.apply(obj) for obj in plan.first]
        if secret is not None:
            applied.append(await api.apply(deploy.git_secret(secret.data)))
            if secret.replaces is not None:  # Flux has the new key now
                await scope.gh.delete_deploy_key(scope.full_name, secret.replaces)
        await _established(api, plan.crds, timeout)
        applied += [await api.apply(obj) for obj in [*plan.rest, *plan.kustomizations]]
        commit = await _followed_commit(scope, target, source)
        readiness = await _decided(partial(flux_state, api, plan.kustomizations, commit), timeout)
        waited = f"Flux did not report {commit[:12]} Ready"
        if eso_objects and readiness.state == "ready":  # 7.
            applied += [await api.apply(obj) for obj in eso_objects]
            left = max(0.0, timeout - (time.monotonic() - started))
            esos = await _decided(partial(eso_state, api, eso_objects), left)
            readiness = _after(readiness, esos)
            waited = "the External Secrets Operator was not Ready"
    outcomes = tuple((str(a.ref), a.outcome) for a in applied)
    seconds = time.monotonic() - started
    if readiness.state == "ready":
        conclusion: Literal["success", "failure"] = "success"
        problem = ""
    else:
        conclusion = "failure"
        problem = readiness.message or f"{waited} within {deploy.duration(timeout)}"
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


async def eso_state(api: Cluster, objects: list[dict[str, Any]]) -> Readiness:
    """Where the External Secrets Operator is against what `objects` ask for."""
    source, release = [await api.get(ObjectRef.of(obj)) for obj in objects]
    return eso.eso_readiness(source, release, eso.chart_revision(objects))


def _after(flux: Readiness, then: Readiness) -> Readiness:
    """Flux's readiness followed by ESO's: ESO's verdict, both's lines."""
    return Readiness(then.state, flux.lines + then.lines, then.message)


async def _established(api: Cluster, names: list[str], timeout: float) -> None:
    async def established(name: str) -> bool | None:
        ref = ObjectRef("apiextensions.k8s.io/v1", "CustomResourceDefinition", "", name)
        conditions = ((await api.get(ref) or {}).get("status") or {}).get("conditions") or []
        done = any(c.get("type") == "Established" and c.get("status") == "True" for c in conditions)
        return True if done else None

    for name in names:
        if await wait_for(partial(established, name), timeout=timeout) is None:
            raise ClusterError(f"CustomResourceDefinition {name} was not Established in time")


async def _followed_commit(scope: LandscapeScope, target: Target, source: dict[str, Any]) -> str:
    """The commit Flux should end up at: the applied one when the GitRepository follows the
    landscape branch, else the head of the branch it follows."""
    branch = ((source.get("spec") or {}).get("ref") or {}).get("branch")
    if branch in (None, target.landscape.branch):
        return target.commit
    head = await scope.gh.read_ref(scope.full_name, str(branch))
    if head is None:
        raise ClusterError(f"the GitRepository follows branch `{branch}`, which does not exist")
    return head


async def flux_state(api: Cluster, kustomizations: list[dict[str, Any]], commit: str) -> Readiness:
    source = await api.get(SOURCE)
    live = [await api.get(ObjectRef.of(k)) for k in kustomizations]
    return deploy.flux_readiness(source, [k for k in live if k is not None], commit)


async def _decided(state: Callable[[], Awaitable[Readiness]], timeout: float) -> Readiness:
    """`state` polled until it is no longer waiting, or the last one when time runs out."""
    last = [Readiness("waiting")]

    async def probe() -> Readiness | None:
        last[0] = await state()
        return None if last[0].state == "waiting" else last[0]

    return await wait_for(probe, timeout=timeout) or last[0]


async def cluster_rows(scope: LandscapeScope) -> tuple[tuple[str, str], ...]:
    """What the landscape's cluster runs, as `/bootstrap status` rows: Flux's revision and
    Ready conditions, the openMCP release at the applied commit against the one in git, and
    for a landscape with the External Secrets Operator its chart and HelmRelease."""
    target = await landscape_target(scope)
    if target is None:
        return (("cluster", "none named in `bot.cluster`"),)
    if target.cluster is None:
        why = replies.not_bound(target.cluster_name, scope.full_name, scope.branch)
        return (("cluster", why),)
    try:
        _, objects = await built_objects(target)
        eso_objects = await eso_objects_of(scope, target)
        async with Cluster.connect(target.cluster.kubeconfig) as api:
            state = await flux_state(api, deploy.flux_kustomizations(objects), target.commit)
            source = await api.get(SOURCE)
            esos = await eso_state(api, eso_objects) if eso_objects else None
    except Failure as err:
        return (("cluster", f"`{target.cluster_name}`: {err}"),)
    except Temporary as err:
        return (("cluster", f"`{target.cluster_name}`: {err} (try again later)"),)
    revision = str(((source or {}).get("status") or {}).get("artifact", {}).get("revision") or "")
    deployed = "unknown"
    if revision:
        at = await landscape_target(scope, deploy.revision_commit(revision))
        deployed = at.version if at is not None else "unknown"
    flux = "<br>".join(state.lines) or "nothing applied yet"
    rows: tuple[tuple[str, str], ...] = (
        ("cluster", f"`{target.cluster_name}`: Flux has {revision or 'no artifact'}"),
        ("openMCP release deployed", f"`{deployed}` (in git: `{target.version}`)"),
        ("Flux", flux),
    )
    if esos is not None:
        rows += (("External Secrets Operator", "<br>".join(esos.lines)),)
    return rows


async def awaits_deploy(scope: LandscapeScope, commit: str) -> bool:
    """Whether `commit` should be applied by a resync: its config names a cluster, and no
    apply of it finished (its merge or push event was lost, or the bot stopped mid-apply)."""
    gh, full_name = scope.gh, scope.full_name
    text = await gh.read_file(full_name, scope.config_path, commit)
    section = read_bot_settings(text.decode("utf-8", errors="replace")) if text else None
    if section is None or section.cluster is None:
        return False
    return await needs_work(gh, full_name, commit, DEPLOY_CHECK)
