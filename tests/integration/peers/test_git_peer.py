"""The git peer is a real git server: clone and push through it with pygit2 and the git CLI."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pygit2
import pytest
from pygit2.enums import FileMode

from tests.peers.gitserver import GitServer

pytestmark = pytest.mark.peers

SIGNATURE = pygit2.Signature("bootstrap-bot", "bot@example.invalid", 1_700_000_000, 0)


def callbacks(token: str) -> pygit2.RemoteCallbacks:
    class Callbacks(pygit2.RemoteCallbacks):
        def push_update_reference(self, refname: str, message: str | None) -> None:
            if message:
                raise pygit2.GitError(f"push of {refname} rejected: {message}")

    return Callbacks(credentials=pygit2.UserPass("x-access-token", token))


def seed(server: GitServer, name: str, tmp_path: Path) -> None:
    """A repository with one commit on main holding dummy.txt, pushed with the git CLI."""
    server.create_repository(name)
    work = tmp_path / f"seed-{name}"
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
        "HOME": str(tmp_path),
    }
    subprocess.run(["git", "init", "-q", "-b", "main", str(work)], check=True)
    (work / "dummy.txt").write_text("This is a dummy file.")
    subprocess.run(["git", "-C", str(work), "add", "."], check=True)
    subprocess.run(["git", "-C", str(work), "commit", "-qm", "init"], check=True, env=env)
    subprocess.run(["git", "-C", str(work), "push", "-q", server.git_url(name), "main"], check=True)


def commit_file(repo: pygit2.Repository, branch: str, path: str, content: bytes) -> pygit2.Oid:
    """Commit one file on top of origin/<branch> without touching the work tree."""
    parent = repo.revparse_single(f"refs/remotes/origin/{branch}").peel(pygit2.Commit)
    index = pygit2.Index()
    index.read_tree(parent.tree)
    index.add(pygit2.IndexEntry(path, repo.create_blob(content), FileMode.BLOB))
    tree = index.write_tree(repo)
    return repo.create_commit(
        f"refs/heads/{branch}", SIGNATURE, SIGNATURE, f"add {path}", tree, [parent.id]
    )


def test_clone_commit_push_over_http_and_read_back_over_git_daemon(git_server, tmp_path):
    seed(git_server, "landscape", tmp_path)
    repo = pygit2.clone_repository(
        git_server.http_url("landscape"),
        str(tmp_path / "clone"),
        callbacks=callbacks(git_server.token),
    )
    commit_id = commit_file(repo, "main", "envs/dev/kustomization.yaml", b"kind: Kustomization\n")
    repo.remotes["origin"].push(
        ["refs/heads/main:refs/heads/main"], callbacks=callbacks(git_server.token)
    )

    fresh = tmp_path / "fresh"
    subprocess.run(["git", "clone", "-q", git_server.git_url("landscape"), str(fresh)], check=True)
    head = subprocess.run(
        ["git", "-C", str(fresh), "rev-parse", "HEAD"], check=True, capture_output=True, text=True
    ).stdout.strip()
    assert head == str(commit_id)
    assert (fresh / "envs/dev/kustomization.yaml").read_bytes() == b"kind: Kustomization\n"
    assert (fresh / "dummy.txt").read_text() == "This is a dummy file."
    # libgit2 authenticated the way GitHub expects: any user name, the token as password.
    assert ("POST", "/landscape.git/git-receive-pack", "x-access-token") in git_server.requests


def test_wrong_token_is_refused(git_server, tmp_path):
    seed(git_server, "private", tmp_path)
    with pytest.raises(pygit2.GitError):
        pygit2.clone_repository(
            git_server.http_url("private"),
            str(tmp_path / "clone"),
            callbacks=callbacks("wrong-token"),
        )


def test_second_of_two_racing_pushes_is_rejected(git_server, tmp_path):
    """The compare-and-swap the bot relies on: a push based on a stale commit fails."""
    seed(git_server, "race", tmp_path)
    url, token = git_server.http_url("race"), git_server.token
    first = pygit2.clone_repository(url, str(tmp_path / "a"), callbacks=callbacks(token))
    second = pygit2.clone_repository(url, str(tmp_path / "b"), callbacks=callbacks(token))
    commit_file(first, "main", "a.txt", b"a")
    commit_file(second, "main", "b.txt", b"b")
    first.remotes["origin"].push(["refs/heads/main:refs/heads/main"], callbacks=callbacks(token))
    with pytest.raises(pygit2.GitError):
        second.remotes["origin"].push(
            ["refs/heads/main:refs/heads/main"], callbacks=callbacks(token)
        )
    remote_main = subprocess.run(
        ["git", "-C", str(git_server.root / "race.git"), "rev-parse", "main"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert remote_main == str(first.head.target)
