"""The fake GitHub's rate limits are GitHub's: the primary budget per installation (with the
per-repository bonus), 304s free, ETags tied to the token, and the secondary limits, each
refused with GitHub's status, message and headers, and without doing the request."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from tests.peers.github import FakeGitHub, run_fake_github
from tests.peers.github.app_key import AppKey
from tests.peers.github.budget import (
    CONTENT_PER_MINUTE,
    POINTS_PER_MINUTE,
    Limited,
    RateLimits,
    primary_limit,
)
from tests.peers.github.state import Installation
from tests.peers.gitserver import GitServer, commit_directly

pytestmark = pytest.mark.peers

BASE = "/repos/example-org/landscape"


@dataclass
class Clock:
    now: float = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Setup:
    fake: FakeGitHub
    installation: Installation
    clock: Clock
    client: httpx.AsyncClient

    def new_token(self) -> dict[str, str]:
        token = self.fake.state.mint_token(self.installation.id, expires_at=2**40)
        return {"Authorization": f"token {token.value}"}


@pytest.fixture
async def setup(git_server: GitServer, app_key: AppKey) -> AsyncIterator[Setup]:
    clock = Clock()
    async with run_fake_github(
        git_server, app_id=app_key.app_id, public_key_pem=app_key.public_pem, clock=clock
    ) as fake:
        installation = fake.add_installation("example-org")
        repository = fake.add_repository(installation, "landscape")
        commit_directly(repository.bare, "main", {"README.md": b"hello\n"})
        limits = httpx.Limits(max_connections=200)
        async with httpx.AsyncClient(base_url=fake.url, limits=limits) as client:
            setup = Setup(fake, installation, clock, client)
            client.headers.update(setup.new_token())
            yield setup


def test_the_primary_limit_grows_with_repositories_up_to_githubs_maximum():
    assert primary_limit(1) == primary_limit(20) == 5000
    assert primary_limit(25) == 5250
    assert primary_limit(170) == 12_500 == primary_limit(5000)
    assert primary_limit(1, enterprise_cloud=True) == 15_000


async def test_a_spent_budget_is_refused_as_github_does_and_does_nothing(setup: Setup):
    fake, client = setup.fake, setup.client
    first = await client.get(BASE)
    assert first.headers["X-RateLimit-Limit"] == "5000"
    assert first.headers["X-RateLimit-Remaining"] == "4999"
    reset = int(first.headers["X-RateLimit-Reset"])
    assert reset == setup.clock.now + 3600
    fake.limits.windows[setup.installation.id].used = 4999  # an hour of work, in one step

    last = await client.get(BASE)
    assert last.status_code == 200 and last.headers["X-RateLimit-Remaining"] == "0"
    body = {"head": "main", "base": "main", "title": "t"}
    refused = await client.post(f"{BASE}/pulls", json=body)
    assert refused.status_code == 403
    assert refused.json()["message"] == (
        f"API rate limit exceeded for installation ID {setup.installation.id}."
    )
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert int(refused.headers["X-RateLimit-Reset"]) == reset
    assert "retry-after" not in refused.headers  # GitHub says when in x-ratelimit-reset
    assert fake.state.pulls == {}  # refused before anything was done
    assert fake.limits.refused == {"primary": 1}

    setup.clock.now = reset  # a new window
    again = await client.get(BASE)
    assert again.status_code == 200 and again.headers["X-RateLimit-Remaining"] == "4999"


async def test_a_304_is_free_and_an_etag_is_the_token_s(setup: Setup):
    client = setup.client
    first = await client.get(f"{BASE}/git/ref/heads/main")
    etag = first.headers["ETag"]
    cached = await client.get(f"{BASE}/git/ref/heads/main", headers={"If-None-Match": etag})
    assert cached.status_code == 304
    assert cached.headers["X-RateLimit-Remaining"] == first.headers["X-RateLimit-Remaining"]

    # The same answer to a renewed token has another ETag: the old one is charged in full.
    renewed = {**setup.new_token(), "If-None-Match": etag}
    after_renewal = await client.get(f"{BASE}/git/ref/heads/main", headers=renewed)
    assert after_renewal.status_code == 200
    assert after_renewal.headers["ETag"] != etag
    assert after_renewal.json() == first.json()
    remaining = int(after_renewal.headers["X-RateLimit-Remaining"])
    assert remaining == int(first.headers["X-RateLimit-Remaining"]) - 1  # one installation


async def test_content_creation_past_80_a_minute_is_a_secondary_limit(setup: Setup):
    fake, client = setup.fake, setup.client
    fake.open_pull_request("example-org/landscape", head="main", base="main", title="t", user="u")
    for n in range(CONTENT_PER_MINUTE):
        made = await client.post(f"{BASE}/issues/1/comments", json={"body": f"{n}"})
        assert made.status_code == 201
        setup.clock.now += 0.5
    refused = await client.post(f"{BASE}/issues/1/comments", json={"body": "one more"})
    assert refused.status_code == 403
    assert refused.json()["message"].startswith("You have exceeded a secondary rate limit.")
    assert int(refused.headers["retry-after"]) >= 1
    assert len(fake.comments_on("example-org/landscape", 1)) == CONTENT_PER_MINUTE
    setup.clock.now += 61
    late = await client.post(f"{BASE}/issues/1/comments", json={"body": "a minute later"})
    assert late.status_code == 201


async def test_more_than_100_requests_at_once_are_a_secondary_limit(setup: Setup):
    setup.fake.latency = 0.5
    answers = await asyncio.gather(*(setup.client.get(BASE) for _ in range(101)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] * 100 + [403]
    assert setup.fake.limits.refused == {"concurrent": 1}
    setup.fake.latency = 0.0
    assert (await setup.client.get(BASE)).status_code == 200  # none left in flight


def test_points_past_900_a_minute_are_refused_until_the_minute_has_passed():
    clock = Clock()
    limits = RateLimits(clock)
    for _ in range(POINTS_PER_MINUTE // 5):  # writes are 5 points
        limits.admit(1, 5000, "PATCH", "checks/update")
        limits.done(1, charged=True)
    with pytest.raises(Limited, match="secondary rate limit") as refused:
        limits.admit(1, 5000, "GET", "repos/get")
    assert refused.value.headers["retry-after"] == "60"
    clock.now += 30
    with pytest.raises(Limited, match="secondary rate limit"):
        limits.admit(1, 5000, "GET", "repos/get")
    clock.now += 30.5
    limits.admit(1, 5000, "GET", "repos/get")  # the first minute's points have gone
    assert limits.refused == {"points": 2}
