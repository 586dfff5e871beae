"""The upgrade proposal flow on the in-memory GitHub, over a CTF with two releases."""

from __future__ import annotations

from bot.core.names import upgrade_branch
from bot.core.upgrade_pr import read_record
from bot.flows.upgrade import propose_upgrade, upgrade_closed
from tests.flows.conftest import REPO, Landscapes
from tests.reference_case import ROOT_COMPONENT


async def test_a_newer_release_is_proposed_once_and_a_decline_is_kept(landscapes: Landscapes):
    gh = landscapes.gh
    branch = upgrade_branch("main")

    proposed = await propose_upgrade(await landscapes.scope())

    assert (proposed.outcome, proposed.current, proposed.version) == (
        "proposed",
        "v0.0.1",
        "v0.0.2",
    )
    assert proposed.pull is not None and proposed.pull.head == branch
    record = read_record(proposed.pull.body)
    assert record is not None and (record.before, record.after) == ("v0.0.1", "v0.0.2")
    config = landscapes.files(branch)[".bootstrap/config.yaml"].decode()
    assert f"{ROOT_COMPONENT}:v0.0.2" in config and config.replace(":v0.0.2", ":v0.0.1") == (
        landscapes.files("main")[".bootstrap/config.yaml"].decode()
    )  # only the version changed: the text edit keeps the file as it was
    assert "envs/dev/kustomization.yaml" in landscapes.files(branch)

    # from the same inputs: nothing to do, nothing rendered
    again = await propose_upgrade(await landscapes.scope())
    assert again.outcome == "unchanged" and again.pull is not None
    assert [p.number for p in gh.pulls[REPO]] == [proposed.pull.number]

    # closed unmerged: v0.0.2 is declined, and not proposed again
    closed = await gh.close_pull_request(REPO, proposed.pull.number)
    await upgrade_closed(await landscapes.scope(), closed)
    assert await gh.read_ref(REPO, branch) is None
    after = await propose_upgrade(await landscapes.scope())
    assert after.outcome == "current" and "declined: `v0.0.2`" in after.detail


async def test_the_upgrade_body_leads_with_the_dry_run_of_the_landscape_s_cluster(
    landscapes: Landscapes,
):
    # the landscape names a cluster the operator has not bound to it: the dry run says so,
    # at the top of the body, before the tables
    named = landscapes.config() + "bot:\n  cluster: dev\n"
    landscapes.push("main", {".bootstrap/config.yaml": named.encode()})

    proposed = await propose_upgrade(await landscapes.scope())

    assert proposed.outcome == "proposed" and proposed.pull is not None
    body = proposed.pull.body
    verdict = "❌ **Dry run:** dev at "
    assert verdict in body and "was not checked on `dev`: cluster `dev` is not configured" in body
    assert body.index(verdict) < body.index("### What the release changes")
    notes = "https://github.com/openmcp-project/openmcp/releases/tag/v0.0.2"
    assert body.startswith(f"**Upgrades `main`: `v0.0.1` → [`v0.0.2`]({notes})**")
