"""The GitHub adapter against the stateful fake GitHub (whose refs live on the real git server)."""

from __future__ import annotations

import asyncio
import time
from functools import partial

import httpx
import pygit2
import pytest
from gidgethub import BadRequest

from bot.adapters.github.app import GitHubApp
from bot.adapters.github.client import ContentCache, MissingPermission
from bot.adapters.github.models import Annotation, CheckRunOutput
from bot.adapters.github.retry import GitHubUnavailable, RateLimited, RetryPolicy
from bot.adapters.gitrepo import GitFailure, GitRepository, update_branch
from bot.core.names import comment_marker
from tests.peers.github import FakeGitHub
from tests.peers.gitserver import commit_directly

pytestmark = pytest.mark.peers


class Sleeps:
    """Records the waits the client asks for, without waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def grant_administration(fake_github: FakeGitHub) -> None:
    """The installation granted `administration: write` (an App registered with
    `--deploy-keys`)."""
    installation = fake_github.state.installation_of(REPO)
    assert installation is not None
    installation.permissions["administration"] = "write"


@pytest.fixture
async def setup(fake_github: FakeGitHub, app_key):
    installation = fake_github.add_installation("example-org")
    repository = fake_github.add_repository(installation, "landscape")
    commit_directly(repository.bare, "main", {".bootstrap/config.yaml": b"environment: dev\n"})
    sleeps = Sleeps()
    async with httpx.AsyncClient() as client:
        app = fake_github.app_client(app_key.private_pem, client, sleep=sleeps)
        yield app, app.installation(installation.id), repository, sleeps


REPO = "example-org/landscape"


async def test_reads_files_refs_and_the_repository(setup, fake_github):
    app, gh, repository, _ = setup
    assert await app.installation_id_for(REPO) == gh.installation_id
    assert await app.installation_ids() == [gh.installation_id]
    info = await gh.repository(REPO)
    assert info.default_branch == "main"
    assert info.clone_url.endswith("/example-org/landscape.git")
    assert await gh.repositories() == [info]
    assert await gh.read_file(REPO, ".bootstrap/config.yaml", "main") == b"environment: dev\n"
    assert await gh.read_file(REPO, ".bootstrap/missing.yaml", "main") is None
    assert await gh.read_file(REPO, ".bootstrap", "main") is None  # a directory, not a file
    sha = await gh.read_ref(REPO, "main")
    assert sha == str(pygit2.Repository(str(repository.bare)).references["refs/heads/main"].target)
    assert await gh.read_file(REPO, ".bootstrap/config.yaml", sha) == b"environment: dev\n"
    assert await gh.read_ref(REPO, "nope") is None


async def test_branch_names_with_slashes_and_deletion(setup):
    _, gh, repository, _ = setup
    commit_directly(repository.bare, "bootstrap-bot/render/main", {"a": b"1"})
    assert await gh.read_ref(REPO, "bootstrap-bot/render/main") is not None
    assert await gh.delete_branch(REPO, "bootstrap-bot/render/main") is True
    assert await gh.read_ref(REPO, "bootstrap-bot/render/main") is None
    assert await gh.delete_branch(REPO, "bootstrap-bot/render/main") is False


async def test_one_token_for_many_concurrent_calls_and_renewal(setup, fake_github):
    app, gh, _, _ = setup
    await asyncio.gather(*(gh.read_file(REPO, ".bootstrap/config.yaml", "main") for _ in range(8)))
    assert len(fake_github.calls("apps/create-installation-access-token")) == 1

    # Past the renewal margin the cached token is replaced before GitHub would refuse it.
    real_clock = app.clock
    app.clock = lambda: real_clock() + 3600 - 60
    await gh.read_ref(REPO, "main")
    assert len(fake_github.calls("apps/create-installation-access-token")) == 2
    app.clock = real_clock

    # A token GitHub no longer accepts is dropped and replaced once.
    fake_github.expire_tokens()
    assert await gh.read_ref(REPO, "main") is not None
    assert len(fake_github.calls("apps/create-installation-access-token")) == 3
    refused = [r for r in fake_github.requests if r.status == 401]
    assert len(refused) == 1


async def test_ensure_pull_request_never_duplicates(setup, fake_github):
    _, gh, repository, _ = setup
    with pytest.raises(BadRequest):  # GitHub refuses a PR for a branch nobody pushed
        await gh.ensure_pull_request(REPO, head="bot/x", base="main", title="t", body="b")
    commit_directly(repository.bare, "bot/x", {"b": b"2"})

    first = await gh.ensure_pull_request(REPO, head="bot/x", base="main", title="t", body="b")
    again = await gh.ensure_pull_request(REPO, head="bot/x", base="main", title="t", body="b")
    assert (first.outcome, again.outcome) == ("created", "unchanged")
    assert first.number == again.number
    changed = await gh.ensure_pull_request(REPO, head="bot/x", base="main", title="t2", body="b2")
    assert changed.outcome == "updated" and changed.number == first.number
    pulls = fake_github.pull_requests(REPO)
    assert [(p.number, p.title, p.body) for p in pulls] == [(first.number, "t2", "b2")]
    assert len(fake_github.calls("pulls/create")) == 2  # the refused one and the first


async def test_ensure_pull_request_after_a_concurrent_create(setup, fake_github):
    """Another replica opens the PR between the lookup and the create: the bot updates it."""
    _, gh, repository, _ = setup
    commit_directly(repository.bare, "bot/y", {"c": b"3"})
    other = await gh.ensure_pull_request(REPO, head="bot/y", base="main", title="a", body="a")
    original = gh.find_pull_request
    calls = 0

    async def stale_lookup(*args, **kwargs):
        nonlocal calls
        calls += 1
        return None if calls == 1 else await original(*args, **kwargs)

    gh.find_pull_request = stale_lookup
    mine = await gh.ensure_pull_request(REPO, head="bot/y", base="main", title="b", body="b")
    assert mine.number == other.number and mine.outcome == "updated"
    assert len(fake_github.pull_requests(REPO)) == 1


async def test_upsert_comment_keeps_one_comment_per_marker(setup, fake_github):
    _, gh, repository, _ = setup
    commit_directly(repository.bare, "bot/z", {"d": b"4"})
    pull = await gh.ensure_pull_request(REPO, head="bot/z", base="main", title="t", body="b")
    # A person quoting the marker does not make their comment the bot's.
    fake_github.add_comment(REPO, pull.number, comment_marker("summary") + "\nhi", user="alice")
    for n in range(105):  # the bot's comment ends up on the second page
        fake_github.add_comment(REPO, pull.number, f"chatter {n}", user="bob")

    first = await gh.upsert_comment(REPO, pull.number, marker="summary", body="one")
    again = await gh.upsert_comment(REPO, pull.number, marker="summary", body="one")
    edited = await gh.upsert_comment(REPO, pull.number, marker="summary", body="two")
    other = await gh.upsert_comment(REPO, pull.number, marker="plan", body="three")
    assert (first.outcome, again.outcome, edited.outcome) == ("created", "unchanged", "updated")
    assert first.id == again.id == edited.id != other.id
    bot_comments = [c for c in fake_github.comments_on(REPO, pull.number) if c.user_type == "Bot"]
    assert [c.body for c in bot_comments] == [
        comment_marker("summary") + "\ntwo",
        comment_marker("plan") + "\nthree",
    ]


async def test_reactions_are_idempotent(setup, fake_github):
    _, gh, repository, _ = setup
    commit_directly(repository.bare, "bot/r", {"e": b"5"})
    pull = await gh.ensure_pull_request(REPO, head="bot/r", base="main", title="t", body="b")
    comment = fake_github.add_comment(REPO, pull.number, "/bootstrap plan", user="alice")
    await gh.add_reaction(REPO, comment.id, "eyes")
    await gh.add_reaction(REPO, comment.id, "eyes")
    await gh.add_reaction(REPO, comment.id, "rocket")
    assert sorted(r.content for r in fake_github.state.reactions) == ["eyes", "rocket"]


async def test_check_runs_progress_batch_annotations_and_stay_put(setup, fake_github):
    _, gh, _, _ = setup
    sha = await gh.read_ref(REPO, "main")
    assert sha is not None
    render_check = partial(gh.ensure_check_run, REPO, head_sha=sha, name="bootstrap-bot/render")
    started = await render_check(status="in_progress")
    annotations = [
        Annotation(".bootstrap/config.yaml", n, f"problem {n}", start_column=3)
        for n in range(1, 121)
    ]
    output = CheckRunOutput("3 problems", "**summary**", annotations=annotations)
    done = await render_check(status="completed", conclusion="failure", output=output)
    same = await render_check(status="completed", conclusion="failure", output=output)
    assert (started.outcome, done.outcome, same.outcome) == ("created", "updated", "unchanged")
    assert started.id == done.id == same.id
    run = fake_github.state.check_runs[done.id]
    assert len(run.annotations) == 120
    assert run.annotations[0]["start_column"] == 3
    sent = [r.body for r in fake_github.requests if r.operation_id == "checks/update"]
    assert [len(b["output"].get("annotations", [])) for b in sent] == [50, 50, 20]

    # A different result on the same commit is a new run: GitHub shows the latest one.
    fixed = await render_check(
        status="completed", conclusion="success", output=CheckRunOutput("ok", "fine")
    )
    assert fixed.outcome == "created" and fixed.id != done.id
    latest = await gh.latest_check_run(REPO, sha, "bootstrap-bot/render")
    assert latest is not None and latest.conclusion == "success"


async def test_permissions_and_deploy_keys(setup, fake_github):
    _, gh, repository, _ = setup
    repository.roles.update(alice="maintain", bob="read")
    assert await gh.permission(REPO, "alice") == "maintain"
    assert await gh.permission(REPO, "bob") == "read"
    assert await gh.permission(REPO, "mallory") == "none"
    public = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl flux"
    # deploy keys need `administration`, which the App's manifest does not ask for by default
    with pytest.raises(MissingPermission, match="does not grant `administration: write`"):
        await gh.ensure_deploy_key(REPO, title="flux dev", public_key=public)
    assert fake_github.calls("repos/list-deploy-keys")[-1].status == 403
    grant_administration(fake_github)
    first = await gh.ensure_deploy_key(REPO, title="flux dev", public_key=public)
    again = await gh.ensure_deploy_key(REPO, title="renamed", public_key=public + " other")
    assert (first.outcome, again.outcome) == ("created", "unchanged")
    assert first.id == again.id and first.read_only
    await gh.delete_deploy_key(REPO, first.id)
    assert fake_github.state.deploy_keys == {}


async def test_retries_server_errors_and_rate_limits_as_github_asks(setup, fake_github):
    _, gh, _, sleeps = setup
    path = r"/git/ref/heads/main$"
    fake_github.fail_next("GET", path, 502, times=2)
    assert await gh.read_ref(REPO, "main") is not None
    assert sleeps.delays == [0.5, 1.0]

    sleeps.delays.clear()
    fake_github.fail_next(
        "GET",
        path,
        403,
        headers={"Retry-After": "7"},
        message="You have exceeded a secondary rate limit.",
    )
    reset = int(time.time()) + 30
    fake_github.fail_next(
        "GET",
        path,
        403,
        headers={
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Limit": "5000",
            "X-RateLimit-Reset": str(reset),
        },
        message="API rate limit exceeded",
    )
    fake_github.fail_next("GET", path, 429, headers={"Retry-After": "2"})
    assert await gh.read_ref(REPO, "main") is not None
    assert sleeps.delays[0] == 7.0
    assert 28 <= sleeps.delays[1] <= 32
    assert sleeps.delays[2] == 2.0

    # A connection that fails is retried too, where repeating is safe.
    sleeps.delays.clear()
    fake_github.fail_next("GET", path, 502, mode="reset")
    fake_github.fail_next("GET", path, 502, mode="lost-reset")
    assert await gh.read_ref(REPO, "main") is not None
    assert sleeps.delays == [0.5, 1.0]

    # A wait longer than the bot accepts inside one job ends the job instead.
    fake_github.fail_next(
        "GET", path, 403, headers={"Retry-After": "3600"}, message="secondary rate limit"
    )
    with pytest.raises(RateLimited) as limited:
        await gh.read_ref(REPO, "main")
    assert limited.value.retry_after == 3600.0  # a Temporary, saying when to try again


LOST_MODES = ["refuse", "reset", "lost", "lost-reset"]


@pytest.mark.parametrize("mode", LOST_MODES)
async def test_a_create_that_failed_is_looked_up_before_it_is_sent_again(setup, fake_github, mode):
    """A 502 or a dropped connection on a POST: GitHub may have done it (`lost`) or not; the
    client looks for the object before sending the POST again, so there is exactly one."""
    _, gh, repository, sleeps = setup
    grant_administration(fake_github)
    commit_directly(repository.bare, "bot/lost", {"f": b"6"})
    sha = await gh.read_ref(REPO, "main")
    assert sha is not None

    fake_github.fail_next("POST", r"/pulls$", 502, mode=mode, times=2)
    pull = await gh.ensure_pull_request(REPO, head="bot/lost", base="main", title="t", body="b")
    fake_github.fail_next("POST", r"/comments$", 502, mode=mode, times=2)
    comment = await gh.upsert_comment(REPO, pull.number, marker="summary", body="one")
    fake_github.fail_next("POST", r"/check-runs$", 502, mode=mode, times=2)
    run = await gh.ensure_check_run(REPO, head_sha=sha, name="bootstrap-bot/render",
                                    status="in_progress")  # fmt: skip
    fake_github.fail_next("POST", r"/keys$", 502, mode=mode, times=2)
    public = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl k"
    key = await gh.ensure_deploy_key(REPO, title="flux", public_key=public)

    done = mode in ("lost", "lost-reset")  # the first POST was done: it is found, not re-sent
    sent = 1 if done else 3
    for operation in ("pulls/create", "issues/create-comment", "checks/create",
                      "repos/create-deploy-key"):  # fmt: skip
        assert len(fake_github.calls(operation)) == sent, operation
    assert [p.number for p in fake_github.pull_requests(REPO)] == [pull.number]
    bot_comments = [c for c in fake_github.comments_on(REPO, pull.number) if c.user_type == "Bot"]
    assert [c.id for c in bot_comments] == [comment.id]
    assert [r.id for r in fake_github.state.check_runs.values()] == [run.id]
    assert list(fake_github.state.deploy_keys) == [key.id]
    assert len(sleeps.delays) == (4 if done else 8)


async def test_a_create_that_keeps_failing_is_a_temporary(setup, fake_github):
    _, gh, repository, _ = setup
    commit_directly(repository.bare, "bot/down", {"g": b"7"})
    fake_github.fail_next("POST", r"/pulls$", 502, times=5)
    with pytest.raises(GitHubUnavailable, match="GitHub answered 502"):  # a Temporary
        await gh.ensure_pull_request(REPO, head="bot/down", base="main", title="t", body="b")
    assert len(fake_github.calls("pulls/create")) == 5
    assert fake_github.pull_requests(REPO) == []


async def test_gives_up_after_the_last_attempt(fake_github, app_key):
    installation = fake_github.add_installation("example-org")
    fake_github.add_repository(installation, "landscape")
    fake_github.fail_next("GET", r"/repos/example-org/landscape$", 503, times=3)
    async with httpx.AsyncClient() as client:
        app = fake_github.app_client(
            app_key.private_pem, client, sleep=Sleeps(), policy=RetryPolicy(attempts=3)
        )
        with pytest.raises(GitHubUnavailable, match="GitHub answered 503"):
            await app.installation(installation.id).repository(REPO)


async def test_conditional_requests_do_not_spend_the_budget(setup, fake_github):
    app, gh, _, _ = setup
    await gh.read_file(REPO, ".bootstrap/config.yaml", "main")
    before = app.metrics.remaining.labels(str(gh.installation_id))._value.get()
    assert await gh.read_file(REPO, ".bootstrap/config.yaml", "main") == b"environment: dev\n"
    reads = fake_github.calls("repos/get-content")
    assert [r.status for r in reads] == [200, 304]
    after = app.metrics.remaining.labels(str(gh.installation_id))._value.get()
    assert after == before > 0


async def test_the_app_jwt_is_checked(fake_github, app_key):
    """A key GitHub does not know cannot mint tokens: the fake verifies the JWT's signature."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    installation = fake_github.add_installation("example-org")
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    async with httpx.AsyncClient() as client:
        app = fake_github.app_client(other.decode(), client)
        with pytest.raises(BadRequest) as refused:
            await app.installation_token(installation.id)
    assert refused.value.status_code == 401


async def test_a_branch_pushed_as_the_installation_becomes_a_pull_request(
    setup, fake_github, tmp_path
):
    """The whole write path: clone URL from the API, push over HTTPS with the installation
    token, then the PR, whose head is the commit really pushed."""
    app: GitHubApp = setup[0]
    gh = setup[1]
    info = await gh.repository(REPO)
    cache = GitRepository.in_cache(tmp_path / "cache", REPO, info.clone_url)

    async def token() -> str:
        return await app.installation_token(gh.installation_id)

    branch = "bootstrap-bot/render/main"
    with pytest.raises(BadRequest):
        await gh.ensure_pull_request(REPO, head=branch, base="main", title="t", body="b")
    pushed = await update_branch(
        cache,
        branch=branch,
        start_from="main",
        change=lambda files: files | {"envs/dev/kustomization.yaml": b"kind: Kustomization\n"},
        message="Re-render manifests",
        token=token,
    )
    assert pushed.outcome == "created"
    pull = await gh.ensure_pull_request(REPO, head=branch, base="main", title="t", body="b")
    assert pull.head_sha == pushed.commit
    assert await gh.read_file(REPO, "envs/dev/kustomization.yaml", branch) == (
        b"kind: Kustomization\n"
    )
    assert len(fake_github.calls("apps/create-installation-access-token")) == 1

    # A token GitHub revoked no longer pushes.
    fake_github.expire_tokens()
    with pytest.raises(GitFailure):
        cache.fetch("main", await token())


async def test_texts_past_githubs_limits_are_cut_not_refused(setup, fake_github):
    from bot.adapters.github.models import MAX_BODY, MAX_CHECK_RUN_TEXT, CheckRunOutput

    _, gh, repository, _ = setup
    commit_directly(repository.bare, "feature", {"a.txt": b"a"})
    pull = await gh.ensure_pull_request(REPO, head="feature", base="main", title="t", body="b")
    huge = "x" * 200_000

    # GitHub refuses a body past its limit whole; so does the fake
    with pytest.raises(BadRequest, match=r"body is too long \(maximum is 65536 characters\)"):
        await gh._send(
            "post",
            "/repos/{owner}/{repo}/issues/{number}/comments",
            {"owner": "example-org", "repo": "landscape", "number": pull.number},
            {"body": huge},
        )

    first = await gh.upsert_comment(REPO, pull.number, marker="summary", body=huge)
    again = await gh.upsert_comment(REPO, pull.number, marker="summary", body=huge)
    assert (first.outcome, again.outcome) == ("created", "unchanged")
    (stored,) = [c for c in fake_github.comments_on(REPO, pull.number) if "summary" in c.body]
    assert len(stored.body) <= MAX_BODY
    assert stored.body.endswith(f"did not fit GitHub's limit of {MAX_BODY}.")

    body = await gh.ensure_pull_request(REPO, head="feature", base="main", title="t", body=huge)
    assert len(body.body) <= MAX_BODY

    sha = repository.branch_sha("main")
    assert sha is not None
    output = CheckRunOutput("A long report", huge, text=huge)
    done = await gh.ensure_check_run(
        REPO, head_sha=sha, name="n", status="completed", conclusion="success", output=output
    )
    same = await gh.ensure_check_run(
        REPO, head_sha=sha, name="n", status="completed", conclusion="success", output=output
    )
    assert (done.outcome, same.outcome) == ("created", "unchanged")
    (run,) = fake_github.state.check_runs.values()
    assert len(run.fields["output"]["summary"]) <= MAX_CHECK_RUN_TEXT


async def test_a_file_read_at_a_commit_is_asked_of_github_once_whatever_the_token(
    setup, fake_github
):
    _, gh, _, _ = setup
    sha = await gh.read_ref(REPO, "main")
    for _ in range(2):
        assert await gh.read_file(REPO, ".bootstrap/config.yaml", sha) == b"environment: dev\n"
        assert await gh.read_file(REPO, ".github/bootstrap-bot.yml", sha) is None  # kept too
    fake_github.expire_tokens()  # a renewed token has no ETag that matches: no matter
    assert await gh.read_file(REPO, ".bootstrap/config.yaml", sha) == b"environment: dev\n"
    assert len(fake_github.calls("repos/get-content")) == 2
    # a branch moves: read by name, it is asked every time (the first with the expired token,
    # refused, then renewed)
    await gh.read_file(REPO, ".bootstrap/config.yaml", "main")
    await gh.read_file(REPO, ".bootstrap/config.yaml", "main")
    statuses = [r.status for r in fake_github.calls("repos/get-content")[2:]]
    assert statuses == [401, 200, 304]


def test_the_content_cache_drops_the_least_recently_used_past_its_size():
    cache = ContentCache(limit=3 * (64 + 1 + 100))
    for key in "abc":
        cache[key] = b"x" * 100
    assert "a" in cache
    cache["a"]  # used: "b" is now the oldest
    cache["d"] = b"y" * 100
    assert "b" not in cache and all(k in cache for k in "acd")
    assert cache.size <= cache.limit
    cache["huge"] = b"z" * cache.limit  # larger than the whole cache: not kept
    assert "huge" not in cache and "a" in cache
