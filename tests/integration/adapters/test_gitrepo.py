"""The git adapter against the real git server over smart HTTP with an installation token."""

from __future__ import annotations

import re
import secrets
import socket
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pygit2
import pytest

from bot.adapters import gitrepo
from bot.adapters.gitrepo import (
    ForeignCommits,
    Git,
    GitFailure,
    GitRepository,
    GitUnavailable,
    StaleBranch,
    TooLarge,
    delete_branch,
    update_branch,
)
from bot.core.fileset import FileSet
from tests.peers.chaos import Chaos
from tests.peers.gitserver import GitServer, commit_directly
from tests.peers.net import LOOPBACK

pytestmark = pytest.mark.peers


@pytest.fixture
def remote(git_server: GitServer, tmp_path: Path):
    """A remote repository with one commit on main, and a cache repository for it."""
    name = f"landscape-{secrets.token_hex(4)}"
    bare = git_server.create_repository(name)
    commit_directly(bare, "main", {"README.md": b"hello\n", ".bootstrap/config.yaml": b"a: 1\n"})
    cache = GitRepository.in_cache(
        tmp_path / "cache", f"example-org/{name}", git_server.http_url(name)
    )
    return bare, cache


def remote_head(bare: Path, branch: str) -> str | None:
    ref = pygit2.Repository(str(bare)).references.get(f"refs/heads/{branch}")
    return None if ref is None else str(ref.target)


def test_fetch_read_commit_and_push_a_new_commit(remote, git_server, tmp_path):
    bare, cache = remote
    token = git_server.token
    head = cache.fetch("main", token)
    assert head == remote_head(bare, "main")
    assert cache.fetch("no-such-branch", token) is None
    files = cache.read_tree(head)
    assert dict(files) == {".bootstrap/config.yaml": b"a: 1\n", "README.md": b"hello\n"}

    assert cache.commit(head, files, "nothing") is None  # the same files are no commit
    changed = FileSet({**files, "envs/dev/kustomization.yaml": b"kind: Kustomization\n"})
    new = cache.commit(head, changed, "Re-render manifests")
    assert new is not None
    cache.push("main", new, head, token)
    assert remote_head(bare, "main") == new

    # The git CLI, cloning afresh, sees the bot's commit with the bot as author and committer.
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(bare), str(clone)], check=True)
    log = subprocess.run(
        ["git", "-C", str(clone), "log", "-1", "--format=%an <%ae>|%cn|%s"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert log == (
        "bootstrap-bot[bot] <bootstrap-bot[bot]@users.noreply.github.com>|bootstrap-bot[bot]|"
        "Re-render manifests"
    )
    assert (clone / "envs/dev/kustomization.yaml").read_bytes() == b"kind: Kustomization\n"


def test_untouched_files_keep_their_mode(remote, git_server, tmp_path):
    bare, cache = remote
    work = tmp_path / "work"
    subprocess.run(["git", "clone", "-q", str(bare), str(work)], check=True)
    script = work / "hack" / "check.sh"
    script.parent.mkdir()
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    env = {
        "GIT_AUTHOR_NAME": "a",
        "GIT_AUTHOR_EMAIL": "a@example.invalid",
        "GIT_COMMITTER_NAME": "a",
        "GIT_COMMITTER_EMAIL": "a@example.invalid",
        "HOME": str(tmp_path),
        "PATH": "/usr/bin:/bin",
    }
    subprocess.run(["git", "-C", str(work), "add", "."], check=True)
    subprocess.run(["git", "-C", str(work), "commit", "-qm", "script"], check=True, env=env)
    subprocess.run(["git", "-C", str(work), "push", "-q", "origin", "main"], check=True)

    head = cache.fetch("main", git_server.token)
    assert head is not None
    files = cache.read_tree(head)
    new = cache.commit(head, FileSet({**files, "README.md": b"changed\n"}), "edit")
    assert new is not None
    tree = pygit2.Repository(str(cache.path))[pygit2.Oid(hex=new)].peel(pygit2.Commit).tree
    assert tree["hack/check.sh"].filemode == pygit2.enums.FileMode.BLOB_EXECUTABLE


def test_a_push_racing_a_concurrent_commit_is_refused_not_overwritten(remote, git_server):
    bare, cache = remote
    token = git_server.token
    head = cache.fetch("main", token)
    assert head is not None
    mine = cache.commit(head, FileSet({"README.md": b"mine\n"}), "mine")
    theirs = commit_directly(bare, "main", {"README.md": b"theirs\n"})
    with pytest.raises(StaleBranch):
        cache.push("main", mine, head, token)
    assert remote_head(bare, "main") == theirs

    # Even a push that replaces the branch (a rebuilt bot branch) only replaces what it saw.
    cache.fetch("main", token)
    racing = commit_directly(bare, "main", {"README.md": b"again\n"})
    with pytest.raises(StaleBranch):
        cache.push("main", mine, theirs, token)
    assert remote_head(bare, "main") == racing


async def test_update_branch_retries_from_a_fresh_fetch(remote, git_server: GitServer):
    bare, cache = remote
    calls = []

    def add_manifest(files: FileSet) -> FileSet:
        calls.append(dict(files))
        if len(calls) == 1:  # someone pushes while the bot is rendering
            commit_directly(bare, "main", {"NOTES.md": b"human\n"})
        return files | {"envs/dev/a.yaml": b"a: 1\n"}

    async def token() -> str:
        return git_server.token

    result = await update_branch(
        cache, branch="main", change=add_manifest, message="Re-render manifests", token=token
    )
    assert (result.outcome, result.attempts) == ("updated", 2)
    assert "NOTES.md" in calls[1]  # the second attempt saw the person's commit
    assert remote_head(bare, "main") == result.commit
    assert cache.read_tree(result.commit)["NOTES.md"] == b"human\n"

    again = await update_branch(
        cache, branch="main", change=add_manifest, message="Re-render manifests", token=token
    )
    assert (again.outcome, again.commit) == ("unchanged", result.commit)


async def test_a_ref_a_listing_showed_is_fetched_only_when_the_cache_lacks_its_commit(
    remote, git_server: GitServer
):
    bare, cache = remote

    async def token() -> str:
        return git_server.token

    heads = await Git(cache, token).remote_heads()
    asked = len(git_server.requests)
    listed = Git.with_heads(cache, token, heads)
    assert await listed.fetch("main") == remote_head(bare, "main")
    assert len(git_server.requests) > asked, "the cache lacked the commit: fetched"
    asked = len(git_server.requests)
    assert await Git.with_heads(cache, token, heads).fetch("main") == remote_head(bare, "main")
    assert len(git_server.requests) == asked, "listed and held: nothing asked"

    # a write fetches first, so it builds on what the remote holds now, not on the listing;
    # the listing then knows the commit pushed
    person = commit_directly(bare, "main", {"NOTES.md": b"human\n"})
    update = await listed.update_branch(
        branch="main", change=lambda files: files | {"a.yaml": b"a: 1\n"}, message="m"
    )
    assert update.outcome == "updated"
    assert cache.parents(str(update.commit)) == [person]
    asked = len(git_server.requests)
    assert await listed.fetch("main") == update.commit == remote_head(bare, "main")
    assert len(git_server.requests) == asked

    # a branch deleted through it is asked for again
    commit_directly(bare, "bot/x", {"a": b"1"})
    assert await listed.fetch("bot/x") == remote_head(bare, "bot/x")
    await listed.delete_branch("bot/x")
    assert await listed.fetch("bot/x") is None
    # a fetch finding a listed branch gone forgets it
    assert listed.listed is not None and "refs/heads/bot/x" not in listed.listed


class Scripted(Chaos):
    """The git server's faults in a given order, one per push (fetches meet none)."""

    def __init__(self, *kinds: str) -> None:
        super().__init__(seed=0)
        self.script = list(kinds)

    def draw(self, peer: str, kinds: Sequence[str]) -> str | None:
        playable = self.script and self.pushing and self.script[0] in kinds
        return self.script.pop(0) if playable else None

    pushing = False


@pytest.mark.parametrize("fault", ["refused", "500", "lost", "reset"])
async def test_a_push_the_server_refused_or_failed_is_tried_again(
    remote, git_server: GitServer, fault: str
):
    """A locked ref ("failed to lock"), a 500 before or after the push was done, a dropped
    connection: the next attempt fetches afresh and ends with the one commit on the branch."""
    bare, cache = remote
    script = Scripted(fault)

    def add_manifest(files: FileSet) -> FileSet:
        script.pushing = True  # the render is done: the next request is the push
        return files | {"envs/dev/a.yaml": b"a: 1\n"}

    async def token() -> str:
        script.pushing = False
        return git_server.token

    git_server.play(script)
    try:
        result = await update_branch(
            cache, branch="main", change=add_manifest, message="Re-render manifests", token=token
        )
    finally:
        git_server.play(None)
    assert script.script == [], "the fault was played"
    head = pygit2.Repository(str(bare)).references["refs/heads/main"].peel(pygit2.Commit)
    assert head.message == "Re-render manifests"
    assert head.parents[0].message != "Re-render manifests", "one re-render commit, not two"
    assert result.attempts == 2
    assert not (bare / "refs" / "heads" / "main.lock").exists()


class FirstRequests(Chaos):
    """The git server's faults on its first requests, whatever they are."""

    def __init__(self, *kinds: str) -> None:
        super().__init__(seed=0)
        self.script = list(kinds)

    def draw(self, peer: str, kinds: Sequence[str]) -> str | None:
        return self.script.pop(0) if self.script else None


@pytest.mark.parametrize("fault", ["500", "reset"])
async def test_a_heads_listing_or_fetch_the_server_failed_is_tried_again(
    remote, git_server: GitServer, fault: str, monkeypatch
):
    bare, cache = remote
    monkeypatch.setattr(gitrepo, "RETRY_SECONDS", 0.01)

    async def token() -> str:
        return git_server.token

    git = Git(cache, token)
    git_server.play(FirstRequests(fault))
    try:
        heads = await git.remote_heads()
    finally:
        git_server.play(None)
    assert heads.branch("main") == remote_head(bare, "main")
    script = FirstRequests(fault)
    git_server.play(script)
    try:
        assert await git.fetch("main") == remote_head(bare, "main")
    finally:
        git_server.play(None)
    assert script.script == [], "the fault was played"
    git_server.play(FirstRequests(*[fault] * 20))
    try:
        with pytest.raises(GitUnavailable, match="cannot list the heads"):
            await git.remote_heads()
    finally:
        git_server.play(None)


async def test_a_bot_branch_rebuilt_on_its_base_is_not_churned(remote, git_server: GitServer):
    bare, cache = remote

    async def token() -> str:
        return git_server.token

    def bump(files: FileSet) -> FileSet:
        return files | {".bootstrap/config.yaml": b"a: 2\n"}

    created = await update_branch(
        cache,
        branch="bootstrap-bot/upgrade/main",
        start_from="main",
        change=bump,
        message="Upgrade",
        token=token,
    )
    assert created.outcome == "created"
    same = await update_branch(
        cache,
        branch="bootstrap-bot/upgrade/main",
        start_from="main",
        change=bump,
        message="Upgrade",
        token=token,
    )
    assert (same.outcome, same.commit) == ("unchanged", created.commit)
    nothing = await update_branch(
        cache,
        branch="bootstrap-bot/render/main",
        start_from="main",
        change=lambda files: files,
        message="none",
        token=token,
    )
    assert (nothing.outcome, nothing.commit) == ("unchanged", None)
    assert remote_head(bare, "bootstrap-bot/render/main") is None

    # The base moved: the bot branch is rebuilt on it and replaced.
    commit_directly(bare, "main", {"README.md": b"newer\n"})
    rebuilt = await update_branch(
        cache,
        branch="bootstrap-bot/upgrade/main",
        start_from="main",
        change=bump,
        message="Upgrade",
        token=token,
    )
    assert rebuilt.outcome == "updated" and rebuilt.commit is not None
    commit = pygit2.Repository(str(bare))[pygit2.Oid(hex=rebuilt.commit)].peel(pygit2.Commit)
    assert [str(p) for p in commit.parent_ids] == [remote_head(bare, "main")]

    # A branch someone else moved is neither rebuilt nor deleted from under them.
    theirs = commit_directly(bare, "bootstrap-bot/upgrade/main", {"x": b"1"})
    commit_directly(bare, "main", {"README.md": b"newest\n"})
    with pytest.raises(ForeignCommits) as taken:
        await update_branch(
            cache,
            branch="bootstrap-bot/upgrade/main",
            start_from="main",
            change=bump,
            message="Upgrade",
            token=token,
        )
    assert taken.value.commits == [theirs]
    assert remote_head(bare, "bootstrap-bot/upgrade/main") == theirs
    with pytest.raises(StaleBranch):
        await delete_branch(
            cache, "bootstrap-bot/upgrade/main", token=token, expected=rebuilt.commit
        )
    deleted = await delete_branch(cache, "bootstrap-bot/upgrade/main", token=token, expected=theirs)
    assert deleted.outcome == "deleted"
    assert remote_head(bare, "bootstrap-bot/upgrade/main") is None
    assert cache.fetch("bootstrap-bot/upgrade/main", git_server.token) is None
    gone = await delete_branch(cache, "bootstrap-bot/upgrade/main", token=token)
    assert gone.outcome == "unchanged"


def test_a_refused_token_is_a_failure_that_does_not_quote_it(remote):
    _, cache = remote
    wrong = "ghs_" + secrets.token_hex(10)
    with pytest.raises(GitFailure) as failed:
        cache.fetch("main", wrong)
    assert wrong not in str(failed.value)
    assert not isinstance(failed.value, StaleBranch)


# --- limits: a branch or a remote larger or slower than the bot reads ---------------------------


class _CountingRepository:
    """A pygit2 repository that notes every blob looked up (which reads its content)."""

    def __init__(self, repo: pygit2.Repository) -> None:
        self._repo = repo
        self.blobs_read: list[str] = []

    def __getitem__(self, oid: pygit2.Oid) -> pygit2.Object:
        found = self._repo[oid]
        if found.type == pygit2.enums.ObjectType.BLOB:
            self.blobs_read.append(str(oid))
        return found

    def __getattr__(self, name: str) -> object:
        return getattr(self._repo, name)


MiB = 1024 * 1024


@pytest.mark.parametrize(
    ("limit", "value", "files", "said"),
    [
        ("core.fileset.MAX_FILE_BYTES", 100, {"big.bin": b"x" * 101}, "big.bin is 101 bytes"),
        ("core.fileset.MAX_FILES", 3, {f"f{i}": b"" for i in range(4)}, "more than 3 files"),
        ("core.fileset.MAX_TOTAL_BYTES", MiB, {"a": b"x" * MiB, "b": b"y"}, "more than 1 MiB"),
        ("adapters.gitrepo.MAX_TREE_DEPTH", 2, {"a/b/c/d": b""}, "a/b/c/ is deeper than 2"),
    ],
)
def test_a_branch_past_a_limit_is_refused_before_its_files_are_read(
    remote, git_server, monkeypatch, limit, value, files, said
):
    bare, cache = remote
    commit_directly(bare, "big", files)
    head = cache.fetch("big", git_server.token)
    assert head is not None
    monkeypatch.setattr(f"bot.{limit}", value)
    counting = _CountingRepository(cache._repo)
    monkeypatch.setattr(cache, "_repo", counting)
    with pytest.raises(TooLarge, match=re.escape(said)):
        cache.read_tree(head)
    assert counting.blobs_read == []
    monkeypatch.undo()
    assert set(cache.read_tree(head)) >= set(files)  # within the limits the same branch reads


def test_a_fetch_that_brings_more_than_the_limit_is_stopped(remote, git_server, monkeypatch):
    bare, cache = remote
    commit_directly(bare, "big", {"noise.bin": secrets.token_bytes(200_000)})
    monkeypatch.setattr("bot.adapters.gitrepo.MAX_FETCH_BYTES", 50_000)
    with pytest.raises(TooLarge, match=r"cannot fetch big from .*: the fetch brings more than"):
        cache.fetch("big", git_server.token)


def test_a_remote_that_never_answers_is_given_up_on(tmp_path, monkeypatch):
    with socket.create_server((LOOPBACK, 0)) as silent:  # accepts, then says nothing
        port = silent.getsockname()[1]
        monkeypatch.setattr(pygit2.settings, "server_timeout", 300)
        cache = GitRepository(tmp_path / "cache.git", f"http://{LOOPBACK}:{port}/x.git")
        with pytest.raises(GitUnavailable, match="cannot fetch main"):
            cache.fetch("main", "token")


def test_empty_folders_count_against_the_file_limit(remote, monkeypatch):
    _, cache = remote
    repo = cache._repo
    empty = repo.TreeBuilder().write()
    builder = repo.TreeBuilder()
    for i in range(4):
        builder.insert(f"empty{i}", empty, pygit2.enums.FileMode.TREE)
    who = pygit2.Signature("a", "a@example.com")
    commit = repo.create_commit(None, who, who, "folders", builder.write(), [])
    monkeypatch.setattr("bot.core.fileset.MAX_FILES", 3)
    with pytest.raises(TooLarge, match="more than 3 files"):
        cache.read_tree(str(commit))
