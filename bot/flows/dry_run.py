"""A server-side dry run of a landscape render against its cluster, before anything is merged.

1. the cluster the render's config names must be bound to this repository and branch (a
   landscape that names none has nothing to check; one not bound is told so);
2. the git credentials are checked against the rendered GitRepository, as the apply would;
3. every object the apply would send (the External Secrets Operator's too), in its order, is
   sent with `dryRun=All`: the API server runs admission and schema validation and stores
   nothing. An object whose kind or namespace the render itself creates cannot be checked
   yet; it is listed, not failed;
4. the report, on a `bootstrap-bot/dry-run` check run when asked (pull requests) and to the
   caller (`/bootstrap plan`).
"""

from __future__ import annotations

import logging

from bot.adapters.cluster import Cluster, ClusterError, ObjectRef
from bot.core import deploy, replies
from bot.core.dry_run import Checked, DryRunReport
from bot.core.failures import Failure, Temporary
from bot.core.names import DRY_RUN_CHECK
from bot.flows.checks import finish_check, wait_check
from bot.flows.git_credentials import checked_credentials
from bot.flows.scope import LandscapeScope
from bot.flows.target import bound_cluster, required_source
from bot.services.pipeline import LandscapeRender
from bot.settings import ClusterSettings

log = logging.getLogger(__name__)


async def dry_run_landscape(
    scope: LandscapeScope, render: LandscapeRender, commit: str, *, check_run: bool
) -> DryRunReport | None:
    """Dry-run `render` (of `commit`) against the landscape's cluster; None when its config
    names no cluster. With `check_run`, the report is also a check run on `commit`."""
    full_name, landscape = scope.full_name, scope.landscape

    # 1. the cluster
    bound = bound_cluster(scope.context, full_name, landscape, render.config)
    if bound is None:
        return None
    name, cluster = bound
    env = render.config.environment
    if cluster is None:
        why = replies.not_bound(name, full_name, landscape.branch)
        report = DryRunReport(env, name, commit, problem=why)
    else:
        # 2.-3.
        try:
            report = await _dry_run(full_name, name, cluster, render, commit)
        except Failure as err:
            report = DryRunReport(env, name, commit, problem=str(err))
        except Temporary as err:
            # nothing was checked: no verdict on the commit (the reply of `/bootstrap plan`
            # says the same); the check run says when the resync tries again
            log.warning("dry run of %s@%s on %s: %s", full_name, commit[:12], name, err)
            if check_run:
                await wait_check(scope.gh, full_name, commit, DRY_RUN_CHECK, err)
            return DryRunReport(env, name, commit, problem=str(err), unavailable=True)
    log.info("dry run of %s@%s on %s: %s", full_name, commit[:12], name, report.conclusion)

    # 4. told
    if check_run:
        await finish_check(scope.gh, full_name, DRY_RUN_CHECK, report)
    return report


async def _dry_run(
    full_name: str,
    cluster_name: str,
    cluster: ClusterSettings,
    render: LandscapeRender,
    commit: str,
) -> DryRunReport:
    env = render.config.environment
    plan = deploy.apply_plan(render.objects[f"envs/{env}/fluxcd"], render.objects[f"envs/{env}"])
    source = required_source(plan, env)
    objects = [*plan.objects, *render.eso]
    async with Cluster.connect(cluster.kubeconfig) as api:
        await checked_credentials(api, full_name, cluster_name, cluster.git, source)
        checked = [await _checked(api, obj, objects) for obj in objects]
    url = (source.get("spec") or {}).get("url")
    credentials = f"The git credentials (`{cluster.git.type}`) have what Flux needs for {url}."
    return DryRunReport(env, cluster_name, commit, tuple(checked), credentials=credentials)


async def _checked(api: Cluster, obj: deploy.Obj, objects: list[deploy.Obj]) -> Checked:
    ref = str(ObjectRef.of(obj))
    try:
        applied = await api.apply(obj, dry_run=True)
    except ClusterError as err:
        if not err.code:  # no answer from the API server: nothing can be checked
            raise
        needs = deploy.created_with(obj, objects) if err.code == 404 else None
        if needs is not None:
            return Checked.deferred(ref, needs)
        return Checked(ref, "refused", err.detail)
    return Checked(ref, applied.outcome)
