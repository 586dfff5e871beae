"""Git: landscape branches as file sets, read and written with pygit2 (called in threads).

Each GitHub repository has one bare cache repository under the cache directory; nothing is ever
checked out. The bot authenticates as its installation (`x-access-token` and the installation
token, handed over per call and never put into a URL, so it cannot leak into a log).

A push is a compare-and-swap: it names the commit the bot expects the remote branch to be at,
and is refused (`StaleBranch`) if anyone moved the branch since. The server re-checks the old
value atomically when it updates the ref, so two replicas can never overwrite each other's or a
person's commit; `update_branch` then starts over from a fresh fetch.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Literal, TypeVar

import pygit2
from pygit2.enums import FileMode, ObjectType

from bot.core.failures import Failure, Temporary
from bot.core.fileset import FileSet, SizeTally
from bot.core.heads import BRANCH_REFS, MAX_REFS, Heads, heads_of
from bot.core.names import STAGING_REFS
from bot.kit.jobs import in_thread
from bot.kit.peers import PEERS

PushOutcome = Literal["created", "updated", "unchanged", "deleted"]

# libgit2's own timeouts (process-wide, in milliseconds): to connect, and for each read or write,
# so a remote that stalls ends the call instead of holding a thread.
pygit2.settings.server_connect_timeout = 10_000
pygit2.settings.server_timeout = 30_000
#: a fetch (a pull request's head included) may bring this much, for this long
MAX_FETCH_BYTES = 512 * 1024 * 1024
FETCH_SECONDS = 300.0
#: folders nested deeper are not read (the limits on files are the file set's)
MAX_TREE_DEPTH = 64
#: the most commits whose changes are read to tell who changed a path (GitHub lists 250 of
#: a pull request's commits; beyond this, every path counts as changed by someone else)
MAX_COMMITS_READ = 500


class GitFailure(Failure):
    """A fetch or push that failed for another reason than a moved branch."""


class GitUnavailable(Temporary):
    """The remote could not be reached, or failed to answer a fetch."""


class StaleBranch(Temporary):
    """The remote branch is not where the bot expected it: someone pushed in between."""


class ForeignCommits(GitFailure):
    """A bot branch holds commits someone else made: the bot no longer replaces it."""

    def __init__(self, branch: str, commits: list[str]) -> None:
        self.branch = branch
        self.commits = commits
        super().__init__(f"{branch} has commits not made by the bot: {', '.join(commits)}")


@dataclass(frozen=True)
class Identity:
    """Author and committer of the bot's commits."""

    name: str = "bootstrap-bot[bot]"
    email: str = "bootstrap-bot[bot]@users.noreply.github.com"


BOT_IDENTITY = Identity()


@dataclass(frozen=True)
class BranchUpdate:
    outcome: PushOutcome
    commit: str | None  # the branch's commit afterwards
    attempts: int


class TooLarge(GitFailure):
    """A fetch or a branch larger than the bot reads."""


class _Callbacks(pygit2.RemoteCallbacks):
    def __init__(self, token: str, expected: dict[str, pygit2.Oid] | None = None) -> None:
        super().__init__(credentials=pygit2.UserPass("x-access-token", token))
        self._expected = expected or {}
        self._deadline = time.monotonic() + FETCH_SECONDS

    def transfer_progress(self, stats: pygit2.remotes.TransferProgress) -> None:
        if stats.received_bytes > MAX_FETCH_BYTES:
            raise TooLarge(f"the fetch brings more than {MAX_FETCH_BYTES // 2**20} MiB")
        if time.monotonic() > self._deadline:
            raise GitUnavailable(f"the fetch took longer than {FETCH_SECONDS:.0f} s")

    def push_negotiation(self, updates: list[pygit2.remotes.PushUpdate]) -> None:
        # `src` is the remote's current value, as it advertised it on this very connection.
        for update in updates:
            wanted = self._expected.get(update.dst_refname)
            if wanted is not None and update.src != wanted:
                raise StaleBranch(f"{update.dst_refname} moved to {update.src} on the remote")

    def push_update_reference(self, refname: str, message: str | None) -> None:
        if message:
            # A branch that moved after the remote advertised it (another replica pushed the
            # same branch at the same moment) fails in the remote's ref transaction: git says
            # "failed to update ref" or "cannot lock ref", GitHub "incorrect old value". The
            # next attempt fetches afresh and finds out; a lasting failure still ends as one.
            stale = (
                "stale info",
                "fetch first",
                "non-fast-forward",
                "failed to lock",
                "cannot lock ref",
                "failed to update ref",
                "incorrect old value",
            )
            kind = StaleBranch if any(s in message for s in stale) else GitFailure
            raise kind(f"the remote refused to update {refname}: {message}")


_ZERO = pygit2.Oid(hex="0" * 40)


def _refused_credentials(message: str) -> bool:
    """Whether libgit2 says the remote refused the token (no retry makes that work)."""
    lowered = message.lower()
    return "authentication" in lowered or any(code in lowered for code in ("401", "403"))


class GitRepository:
    """One bare cache repository mirroring the branches of one remote that the bot works on."""

    def __init__(self, path: Path, url: str) -> None:
        self.path = path
        self.url = url
        self._lock = threading.Lock()  # a libgit2 repository handle is not shared by threads
        if (path / "HEAD").exists():
            self._repo = pygit2.Repository(str(path))
        else:
            path.mkdir(parents=True, exist_ok=True)
            self._repo = pygit2.init_repository(str(path), bare=True)
        if "origin" not in [r.name for r in self._repo.remotes]:
            self._repo.remotes.create("origin", url)
        elif self._repo.remotes["origin"].url != url:
            self._repo.remotes.set_url("origin", url)

    @classmethod
    def in_cache(cls, cache_dir: Path, full_name: str, url: str) -> GitRepository:
        owner, _, name = full_name.lower().partition("/")
        return cls(cache_dir / "git" / owner / f"{name}.git", url)

    def fetch(self, branch: str, token: str) -> str | None:
        """Bring a branch's commits into the cache; its commit, or None if it does not exist.

        A full ref (`refs/pull/7/head`, where GitHub keeps a pull request's head, forks'
        included) is fetched as it is.
        """
        remote_ref = branch if branch.startswith("refs/") else f"refs/heads/{branch}"
        tracking = "refs/remotes/origin/" + branch.removeprefix("refs/")
        with self._lock:
            remote = self._repo.remotes["origin"]
            try:
                remote.fetch([f"+{remote_ref}:{tracking}"], callbacks=_Callbacks(token))
                heads = remote.list_heads(connect=False)
            except (TooLarge, GitUnavailable) as exc:
                raise type(exc)(f"cannot fetch {branch} from {self.url}: {exc}") from None
            except pygit2.GitError as exc:
                kind = GitFailure if _refused_credentials(str(exc)) else GitUnavailable
                raise kind(f"cannot fetch {branch} from {self.url}: {exc}") from None
            found = next((h for h in heads if h.name == remote_ref), None)
            if found is None:
                if tracking in self._repo.references:
                    self._repo.references.delete(tracking)
                return None
            return str(found.oid)

    def remote_heads(self, token: str) -> Heads:
        """The remote's branch and pull request heads (`git ls-remote`: git's own protocol,
        which GitHub does not charge against the REST API's rate limit)."""
        with self._lock:
            remote = self._repo.remotes["origin"]
            try:
                advertised = remote.list_heads(callbacks=_Callbacks(token))
            except pygit2.GitError as exc:
                kind = GitFailure if _refused_credentials(str(exc)) else GitUnavailable
                raise kind(f"cannot list the heads of {self.url}: {exc}") from None
        if len(advertised) > MAX_REFS:
            raise TooLarge(f"{self.url} has {len(advertised)} refs, more than {MAX_REFS}")
        return heads_of((head.name or "", str(head.oid)) for head in advertised)

    def read_tree(self, commit: str) -> FileSet:
        """The files of a commit (symbolic links as their target, submodules left out).

        Raises TooLarge, having read no file, for more files or bytes than a file set may
        hold (`bot.core.fileset.SizeTally`, on the sizes in the object headers) or folders
        deeper than MAX_TREE_DEPTH. Folders count as files, so empty ones are bounded too.
        """
        with self._lock:
            blobs = self._blobs(self._repo[pygit2.Oid(hex=commit)].peel(pygit2.Tree), commit)
            return FileSet((path, self._repo[oid].peel(pygit2.Blob).data) for path, oid, _ in blobs)

    def _blobs(self, root: pygit2.Tree, commit: str) -> list[tuple[str, pygit2.Oid, int]]:
        """The commit's files, their blobs and sizes, checked against the limits."""
        blobs: list[tuple[str, pygit2.Oid, int]] = []
        tally = SizeTally()
        folders: list[tuple[pygit2.Tree, str, int]] = [(root, "", 0)]
        while folders:
            tree, prefix, depth = folders.pop()
            if depth > MAX_TREE_DEPTH:
                raise TooLarge(f"{commit[:12]}: {prefix} is deeper than {MAX_TREE_DEPTH} folders")
            for entry in tree:
                path = prefix + str(entry.name)
                if entry.type not in (ObjectType.TREE, ObjectType.BLOB):
                    continue  # a submodule
                folder = entry.type == ObjectType.TREE
                size = 0 if folder else self._repo.odb.read_header(entry.id)[1]
                problem = tally.add(path, size)
                if problem is not None:
                    raise TooLarge(f"{commit[:12]}: {problem}")
                if folder:
                    folders.append((self._repo[entry.id].peel(pygit2.Tree), path + "/", depth + 1))
                else:
                    blobs.append((path, entry.id, size))
        return blobs

    def commit(
        self,
        parent: str | None,
        files: FileSet,
        message: str,
        identity: Identity = BOT_IDENTITY,
    ) -> str | None:
        """A commit of exactly `files` on top of `parent`; None when that changes nothing.

        Files that keep their content keep their mode (executable bits, links), and submodule
        entries of the parent are kept.
        """
        with self._lock:
            repo = self._repo
            index = pygit2.Index()
            parent_commit = None
            if parent is not None:
                parent_commit = repo[pygit2.Oid(hex=parent)].peel(pygit2.Commit)
                index.read_tree(parent_commit.tree)
            before = {entry.path: entry for entry in index}
            for path, entry in before.items():
                if path not in files and entry.mode != FileMode.COMMIT:
                    index.remove(path)
            for path, data in files.items():
                blob = repo.create_blob(data)
                current = before.get(path)
                if current is not None and current.id == blob:
                    continue
                mode = current.mode if current is not None else FileMode.BLOB
                index.add(pygit2.IndexEntry(path, blob, mode))
            tree = index.write_tree(repo)
            if parent_commit is not None and parent_commit.tree_id == tree:
                return None
            signature = pygit2.Signature(identity.name, identity.email)
            parents = [] if parent_commit is None else [parent_commit.id]
            return str(repo.create_commit(None, signature, signature, message, tree, parents))

    def foreign_commits(self, head: str, base: str | None, identity: Identity) -> list[str]:
        """Commits on `head` but not on `base` that `identity` did not author, newest first."""
        with self._lock:
            walker = self._repo.walk(pygit2.Oid(hex=head), pygit2.enums.SortMode.TOPOLOGICAL)
            if base is not None:
                walker.hide(pygit2.Oid(hex=base))
            return [str(c.id) for c in walker if c.author.email != identity.email]

    def changed_by_others(self, head: str, base: str | None, identity: Identity) -> set[str] | None:
        """The paths that commits on `head` but not on `base`, not authored by `identity`,
        changed against their first parent; None when there are too many commits to read."""
        paths: set[str] = set()
        with self._lock:
            walker = self._repo.walk(pygit2.Oid(hex=head), pygit2.enums.SortMode.TOPOLOGICAL)
            if base is not None:
                walker.hide(pygit2.Oid(hex=base))
            for count, found in enumerate(walker):
                if count >= MAX_COMMITS_READ:
                    return None
                if found.author.email == identity.email:
                    continue
                parents = found.parents
                diff = (
                    parents[0].tree.diff_to_tree(found.tree)
                    if parents
                    else found.tree.diff_to_tree(swap=True)
                )
                for delta in diff.deltas:
                    paths.update((delta.old_file.path, delta.new_file.path))
        return paths

    def holds(self, commit: str) -> bool:
        """Whether the cache has the commit."""
        with self._lock:
            return pygit2.Oid(hex=commit) in self._repo

    def parents(self, commit: str) -> list[str]:
        """The parents of a commit in the cache."""
        with self._lock:
            found = self._repo[pygit2.Oid(hex=commit)].peel(pygit2.Commit)
            return [str(parent) for parent in found.parent_ids]

    def equivalent(self, first: str, second: str) -> bool:
        """Whether two commits hold the same files on the same parents (a rebuild that changed
        nothing but the time)."""
        with self._lock:
            a = self._repo[pygit2.Oid(hex=first)].peel(pygit2.Commit)
            b = self._repo[pygit2.Oid(hex=second)].peel(pygit2.Commit)
            return a.tree_id == b.tree_id and a.parent_ids == b.parent_ids

    def push(self, branch: str, new: str | None, expected: str | None, token: str) -> None:
        """Set the remote branch to `new` (None deletes it) only if it is still at `expected`."""
        target = f"refs/heads/{branch}"
        staging = STAGING_REFS + branch
        with self._lock:
            if new is None:
                spec = f":{target}"
            else:
                self._repo.references.create(staging, pygit2.Oid(hex=new), force=True)
                spec = f"+{staging}:{target}"
            old = _ZERO if expected is None else pygit2.Oid(hex=expected)
            try:
                self._repo.remotes["origin"].push(
                    [spec], callbacks=_Callbacks(token, {target: old})
                )
            except StaleBranch:
                raise
            except pygit2.GitError as exc:
                message = str(exc)
                if "not present locally" in message or "non-fastforwardable" in message:
                    raise StaleBranch(f"{target} moved on the remote: {message}") from None
                # the server failing or out of reach is an outage; refused credentials are not
                kind = GitFailure if _refused_credentials(message) else GitUnavailable
                raise kind(f"cannot push {branch} to {self.url}: {message}") from None
            finally:
                if staging in self._repo.references:
                    self._repo.references.delete(staging)
            tracking = f"refs/remotes/origin/{branch}"
            if new is None:
                if tracking in self._repo.references:
                    self._repo.references.delete(tracking)
            else:
                self._repo.references.create(tracking, pygit2.Oid(hex=new), force=True)


Change = Callable[[FileSet], FileSet]
#: tries of a read (fetch, heads listing) the server failed, and the wait before the next
#: (times the attempt)
FETCH_ATTEMPTS = 3
RETRY_SECONDS = 0.5
Read = TypeVar("Read")


async def read_again(read: Callable[[str], Read], token: str) -> Read:
    """`read(token)` (a fetch or a heads listing), tried again a few times while the server
    fails or is out of reach."""
    for attempt in range(1, FETCH_ATTEMPTS + 1):
        try:
            found = await in_thread(read, token)
        except GitUnavailable as outage:
            if attempt == FETCH_ATTEMPTS:
                PEERS.failed("git", str(outage))
                raise
        else:
            PEERS.answered("git")
            return found
        await asyncio.sleep(RETRY_SECONDS * attempt)
    raise AssertionError("unreachable")


async def fetch_again(repository: GitRepository, ref: str, token: str) -> str | None:
    """`repository.fetch`, tried again a few times while the server fails or is out of reach."""
    return await read_again(partial(repository.fetch, ref), token)


async def update_branch(
    repository: GitRepository,
    *,
    branch: str,
    change: Change,
    message: str,
    token: Callable[[], Awaitable[str]],
    start_from: str | None = None,
    identity: Identity = BOT_IDENTITY,
    attempts: int = 3,
) -> BranchUpdate:
    """Commit `change(files)` onto the branch and push it, starting over if the branch moved.

    The new commit's parent is the branch itself, or the head of `start_from` when given (a bot
    branch rebuilt on its base; the push then replaces the branch, still only from the commit
    just fetched, and never when someone else committed to it: ForeignCommits). `change` may
    run several times, each time on freshly fetched files.
    """
    for attempt in range(1, attempts + 1):
        secret = await token()
        current = await fetch_again(repository, branch, secret)
        base = current
        if start_from is not None and start_from != branch:
            base = await fetch_again(repository, start_from, secret)
            if base is None:
                raise GitFailure(f"cannot start {branch} from {start_from}: no such branch")
            if current is not None:
                foreign = await in_thread(repository.foreign_commits, current, base, identity)
                if foreign:
                    raise ForeignCommits(branch, foreign)
        files = FileSet() if base is None else await in_thread(repository.read_tree, base)
        changed = await in_thread(change, files)  # may be slow (a render): off the loop
        new = await in_thread(repository.commit, base, changed, message, identity)
        if new is None:  # the change leaves the base as it is: nothing to propose
            return BranchUpdate("unchanged", current, attempt)
        if current is not None and await in_thread(repository.equivalent, current, new):
            return BranchUpdate("unchanged", current, attempt)
        try:
            await in_thread(repository.push, branch, new, current, secret)
        except StaleBranch:
            if attempt == attempts:
                raise
            continue
        except GitUnavailable as outage:
            # the push may have been done (only its answer lost): the next attempt fetches
            # the branch afresh and finds the commit there, or pushes it again
            if attempt == attempts:
                PEERS.failed("git", str(outage))
                raise
            await asyncio.sleep(RETRY_SECONDS * attempt)
            continue
        return BranchUpdate("created" if current is None else "updated", new, attempt)
    raise AssertionError("unreachable")


async def delete_branch(
    repository: GitRepository,
    branch: str,
    *,
    token: Callable[[], Awaitable[str]],
    expected: str | None = None,
) -> BranchUpdate:
    """Delete a bot branch, if it still is at `expected` (when given)."""
    secret = await token()
    current = await in_thread(repository.fetch, branch, secret)
    if current is None:
        return BranchUpdate("unchanged", None, 1)
    if expected is not None and current != expected:
        raise StaleBranch(f"{branch} is at {current}, not at {expected}: left alone")
    await in_thread(repository.push, branch, None, current, secret)
    return BranchUpdate("deleted", None, 1)


Token = Callable[[], Awaitable[str]]


@dataclass(frozen=True)
class Git:
    """A cache repository as the flows use it: async (libgit2 runs in a worker thread) and
    authenticated (the token is asked for when git needs it, so it is always fresh)."""

    repository: GitRepository
    token: Token
    #: the remote's heads as a listing moments ago showed them (a resync round's `git
    #: ls-remote`), kept current by the writes made through this Git: a ref listed there at a
    #: commit the cache holds is not fetched again (a landscape of a repository of many costs
    #: no request of its own). Writes still fetch first, so a head that moved since is found.
    listed: dict[str, str] | None = field(default=None, compare=False)

    @classmethod
    def with_heads(cls, repository: GitRepository, token: Token, heads: Heads | None) -> Git:
        return cls(repository, token, None if heads is None else dict(heads.refs))

    async def fetch(self, ref: str) -> str | None:
        """The commit `ref` (a branch or a full ref) is at, fetched; None when it does not exist.
        A fetch the server failed is tried again a few times."""
        known = None if self.listed is None else self.listed.get(_full_ref(ref))
        if known is not None and await in_thread(self.repository.holds, known):
            return known
        found = await fetch_again(self.repository, ref, await self.token())
        self._forget(ref)
        self._learn(ref, found)
        return found

    async def read_tree(self, commit: str) -> FileSet:
        return await in_thread(self.repository.read_tree, commit)

    async def remote_heads(self) -> Heads:
        """The remote's heads; a listing the server failed is tried again a few times."""
        return await read_again(self.repository.remote_heads, await self.token())

    async def fetch_tree(self, ref: str) -> tuple[str, FileSet] | None:
        """The commit `ref` is at and its files; None when it does not exist."""
        commit = await self.fetch(ref)
        return None if commit is None else (commit, await self.read_tree(commit))

    async def foreign_commits(
        self, head: str, base: str | None, identity: Identity = BOT_IDENTITY
    ) -> list[str]:
        return await in_thread(self.repository.foreign_commits, head, base, identity)

    async def changed_by_others(
        self, head: str, base: str | None, identity: Identity = BOT_IDENTITY
    ) -> set[str] | None:
        return await in_thread(self.repository.changed_by_others, head, base, identity)

    async def parents(self, commit: str) -> list[str]:
        return await in_thread(self.repository.parents, commit)

    async def update_branch(
        self,
        *,
        branch: str,
        change: Change,
        message: str,
        start_from: str | None = None,
        identity: Identity = BOT_IDENTITY,
    ) -> BranchUpdate:
        self._forget(branch)  # whatever becomes of the write, the listing no longer tells
        update = await update_branch(
            self.repository,
            branch=branch,
            change=change,
            message=message,
            token=self.token,
            start_from=start_from,
            identity=identity,
        )
        self._learn(branch, update.commit)
        return update

    async def delete_branch(self, branch: str, *, expected: str | None = None) -> BranchUpdate:
        self._forget(branch)
        return await delete_branch(self.repository, branch, token=self.token, expected=expected)

    def _forget(self, ref: str) -> None:
        if self.listed is not None:
            self.listed.pop(_full_ref(ref), None)

    def _learn(self, ref: str, commit: str | None) -> None:
        if self.listed is not None and commit is not None:
            self.listed[_full_ref(ref)] = commit


def _full_ref(ref: str) -> str:
    return ref if ref.startswith("refs/") else BRANCH_REFS + ref
