"""The ClusterRole of deploy/target-cluster allows everything the bot does on a target cluster:
the whole loop runs with the fake API server authorizing every request by it, as RBAC would,
and refusing nothing; the same loop with a rule taken out fails where that rule is needed."""

from __future__ import annotations

from pathlib import Path

import pygit2
import pytest
import yaml

from bot.core.names import DEPLOY_CHECK, DRY_RUN_CHECK
from tests.integration.deployment import Deployment, check_run, merged
from tests.integration.flows.test_flow_dry_run import EXTRA_SYNC, push_extra
from tests.integration.landscape_bot import REPO, head_of
from tests.peers.kubernetes.rbac import Authorizer, Rule, request_attributes

pytestmark = pytest.mark.peers
ROLE = Path(__file__).parents[3] / "deploy/target-cluster/clusterrole.yaml"
USER = "system:serviceaccount:bootstrap-bot:bootstrap-bot"


async def test_the_target_cluster_role_allows_all_the_bot_does_and_no_more_is_used(
    eso_deployment: Deployment,
):
    """The whole loop for a landscape with the External Secrets Operator, so every kind the
    bot writes is asked for."""
    bot, kube, flux = eso_deployment.bot, eso_deployment.kube, eso_deployment.flux
    kube.authorizer = authorizer = Authorizer.from_manifests(USER, ROLE)

    # a pull request dry-run against a cluster without Flux, merged and applied
    pull, merge = await merged(bot)
    head = str(head_of(bot.repository.bare, pull.head).id)
    assert check_run(bot, head, DRY_RUN_CHECK).fields["conclusion"] == "success"
    async with flux.running():
        await bot.deliver("pull_request", bot.pull_request_event(pull, "closed"))
    deploy = check_run(bot, merge, DEPLOY_CHECK).fields
    assert deploy["conclusion"] == "success", deploy["output"]

    # a second pull request, dry-run against the cluster that runs Flux now
    git = bot.repository.bare
    pygit2.Repository(str(git)).references.create("refs/heads/extra-sync", head_of(git, "main").id)
    push_extra(bot, "extra-sync", EXTRA_SYNC.replace("  interval:", "  prune: true\n  interval:"))
    second = bot.fake.open_pull_request(
        REPO, head="extra-sync", base="main", title="Sync extra", user="alice"
    )
    await bot.deliver("pull_request", bot.pull_request_event(second, "opened"))
    head = str(head_of(git, "extra-sync").id)
    run = check_run(bot, head, DRY_RUN_CHECK).fields
    assert run["conclusion"] == "success", run["output"]

    # /bootstrap status and /bootstrap apply
    bot.repository.roles["walt"] = "write"
    for command in ("/bootstrap status", "/bootstrap apply"):
        asked = bot.fake.add_comment(REPO, pull.number, command, user="walt")
        async with flux.running():
            await bot.deliver("issue_comment", bot.comment_event(asked, on_pull=True))
    assert check_run(bot, merge, DEPLOY_CHECK).fields["conclusion"] == "success"

    assert authorizer.refused == []
    # every rule of the role was needed by some request
    asked_for = [request_attributes(m, p.split("?")[0], {}) for m, p in kube.requests]
    unused = [r for r in authorizer.rules if not any(r.allows(at) for at in asked_for)]
    assert unused == [Rule(("rbac.authorization.k8s.io",), ("clusterroles",), ("escalate", "bind"))]
    # which is needed for Flux's own ClusterRoles and its binding of cluster-admin, as the next
    # test shows; the rest are the verbs the bot uses
    assert {at.verb for at in asked_for} == {"get", "patch"}


@pytest.mark.parametrize(
    ("taken", "refused"),
    [
        (
            "escalate",
            'clusterroles.rbac.authorization.k8s.io "crd-controller-flux-system" is forbidden: '
            f'user "{USER}" (groups=["system:serviceaccounts" "system:authenticated"]) is '
            "attempting to grant RBAC permissions not currently held:\n"
            '{APIGroups:["source.toolkit.fluxcd.io"], Resources:["*"], Verbs:["*"]}',
        ),
        (
            "bind",
            'clusterrolebindings.rbac.authorization.k8s.io "cluster-reconciler-flux-system" is '
            f'forbidden: user "{USER}" (groups=["system:serviceaccounts" '
            '"system:authenticated"]) is attempting to grant RBAC permissions not currently held',
        ),
        (
            "secrets",
            f'secrets "git" is forbidden: User "{USER}" cannot get resource "secrets" in API '
            'group "" in the namespace "flux-system"',
        ),
    ],
)
async def test_without_a_rule_the_deploy_fails_at_the_object_that_needs_it(
    deployment: Deployment, tmp_path: Path, taken: str, refused: str
):
    bot, kube, flux = deployment.bot, deployment.kube, deployment.flux
    docs = list(yaml.safe_load_all(ROLE.read_text()))
    role = docs[0]
    for rule in role["rules"]:
        for key in ("verbs", "resources"):
            if taken in rule.get(key, []):
                rule[key].remove(taken)
    narrowed = tmp_path / "clusterrole.yaml"
    narrowed.write_text(yaml.safe_dump_all(docs))
    kube.authorizer = authorizer = Authorizer.from_manifests(USER, narrowed)

    pull, merge = await merged(bot)
    async with flux.running():
        await bot.deliver("pull_request", bot.pull_request_event(pull, "closed"))
    deploy = check_run(bot, merge, DEPLOY_CHECK).fields
    assert deploy["conclusion"] == "failure"
    told = "\n".join(deploy["output"].get(k, "") for k in ("title", "summary", "text"))
    assert refused in told
    first_refusal = authorizer.refused[0][1]
    assert refused in first_refusal
