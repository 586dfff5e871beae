"""A real git server: bare repositories behind `git http-backend` (smart HTTP, Basic auth like
GitHub's `x-access-token:<token>`) and `git daemon` (git://, no auth). `play` lets the HTTP side
meet random faults (`tests.peers.chaos`).

The HTTP front is a small threaded server in this process; it de-chunks request bodies because
libgit2 always pushes with `Transfer-Encoding: chunked`, which CGI cannot pass on.
"""

from __future__ import annotations

import base64
import http.server
import os
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pygit2
from pygit2.enums import FileMode

from tests.peers.chaos import Chaos, drop, refuse
from tests.peers.net import LOOPBACK, free_port, port_open, stop, wait_until

CHAOS_KINDS = ("500", "reset", "lost", "refused")

SOMEONE = pygit2.Signature("someone", "someone@example.invalid", 1_700_000_000, 0)


def commit_directly(
    bare: Path, branch: str, files: dict[str, bytes], *, message: str = "a change"
) -> str:
    """Commit `files` on top of `branch` (created when missing) right in a bare repository on
    the server, as a person pushing from elsewhere would; returns the commit id."""
    repo = pygit2.Repository(str(bare))
    ref = repo.references.get(f"refs/heads/{branch}")
    index = pygit2.Index()
    parents = []
    if ref is not None:
        parent = repo[ref.target].peel(pygit2.Commit)
        index.read_tree(parent.tree)
        parents = [parent.id]
    for path, data in files.items():
        index.add(pygit2.IndexEntry(path, repo.create_blob(data), FileMode.BLOB))
    tree = index.write_tree(repo)
    return str(repo.create_commit(f"refs/heads/{branch}", SOMEONE, SOMEONE, message, tree, parents))


def files_at(commit: pygit2.Commit) -> dict[str, bytes]:
    """Every file of a commit, by path."""
    files: dict[str, bytes] = {}

    def walk(tree: pygit2.Tree, prefix: str) -> None:
        for entry in tree:
            if isinstance(entry, pygit2.Tree):
                walk(entry, f"{prefix}{entry.name}/")
            elif isinstance(entry, pygit2.Blob):
                files[f"{prefix}{entry.name}"] = entry.data

    walk(commit.tree, "")
    return files


class _GitHTTPHandler(http.server.BaseHTTPRequestHandler):
    server: _GitHTTPServer

    def log_message(self, format: str, *args: object) -> None:
        pass  # the server is quiet; failures surface in the client

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() != "chunked":
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))
        chunks = []
        while size := int(self.rfile.readline().split(b";")[0], 16):
            chunks.append(self.rfile.read(size))
            self.rfile.readline()
        self.rfile.readline()
        return b"".join(chunks)

    def _deny(self) -> None:
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="git"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _handle(self) -> None:
        auth = self.headers.get("Authorization", "")
        user, password = "", ""
        if auth.startswith("Basic "):
            user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
        self.server.requests.append((self.command, self.path, user))
        if password != self.server.token and password not in self.server.installation_tokens:
            self._deny()
            return
        body = self._body()
        chaos = self.server.chaos
        pushing = self.command == "POST" and self.path.endswith("/git-receive-pack")
        kinds = CHAOS_KINDS if pushing else CHAOS_KINDS[:-1]  # only a push can be refused
        fault = None if chaos is None else chaos.draw("git", kinds)
        if fault == "500":
            refuse(self, 500)
            return
        if fault == "reset":
            drop(self)
            return
        path, _, query = self.path.partition("?")
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": str(self.server.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "REQUEST_METHOD": self.command,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_USER": user,
            "REMOTE_ADDR": self.client_address[0],
            "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
            "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
        }
        # a push refused: the branch's ref is locked (another push holds it), and git's own
        # receive-pack says so ("failed to lock"), as GitHub does in a race
        lock = self._locked_ref(path, body) if fault == "refused" else None
        try:
            result = subprocess.run(
                ["git", "http-backend"], input=body, env=env, capture_output=True, check=False
            )
        finally:
            if lock is not None:
                lock.unlink(missing_ok=True)
        if fault == "lost":  # done (a push updated the branch), but the client hears 500
            refuse(self, 500)
            return
        head, _, payload = result.stdout.partition(b"\r\n\r\n")
        headers = [line.split(": ", 1) for line in head.decode().split("\r\n") if line]
        status = next((int(v.split()[0]) for k, v in headers if k.lower() == "status"), 200)
        self.send_response(status)
        for key, value in headers:
            if key.lower() != "status":
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _locked_ref(self, path: str, body: bytes) -> Path | None:
        """Lock the first ref a receive-pack request updates (its first pkt-line:
        `<old> <new> <ref>\\0<capabilities>`); the lock file, or None for other requests."""
        if not path.endswith("/git-receive-pack") or len(body) < 4:
            return None
        command = body[4:].split(b"\0", 1)[0].split(b"\n", 1)[0].split()
        if len(command) != 3 or not command[2].startswith(b"refs/heads/"):
            return None
        repository = self.server.root / path.strip("/").removesuffix("/git-receive-pack")
        lock = repository / (command[2].decode() + ".lock")
        lock.parent.mkdir(parents=True, exist_ok=True)
        lock.touch()
        return lock

    do_GET = do_POST = _handle


class _GitHTTPServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, root: Path, token: str) -> None:
        super().__init__((LOOPBACK, port), _GitHTTPHandler)
        self.root = root
        self.token = token
        # Tokens the fake GitHub minted for its installations, accepted like GitHub accepts them.
        self.installation_tokens: set[str] = set()
        self.requests: list[tuple[str, str, str]] = []
        self.chaos: Chaos | None = None


@dataclass
class GitServer:
    root: Path  # directory holding the bare repositories
    http_port: int
    daemon_port: int
    token: str
    _http: _GitHTTPServer

    def create_repository(self, name: str, *, default_branch: str = "main") -> Path:
        """A new empty bare repository `<name>.git` that accepts pushes on both transports."""
        path = self.root / f"{name}.git"
        subprocess.run(
            ["git", "init", "--quiet", "--bare", "-b", default_branch, str(path)], check=True
        )
        subprocess.run(["git", "-C", str(path), "config", "http.receivepack", "true"], check=True)
        return path

    def http_url(self, name: str) -> str:
        return f"http://{LOOPBACK}:{self.http_port}/{name}.git"

    def git_url(self, name: str) -> str:
        return f"git://{LOOPBACK}:{self.daemon_port}/{name}.git"

    def accept_token(self, token: str) -> None:
        self._http.installation_tokens.add(token)

    def revoke_token(self, token: str) -> None:
        self._http.installation_tokens.discard(token)

    def play(self, chaos: Chaos | None) -> None:
        """Let requests meet `chaos`' faults: a 500 before or after the work, a reset, a push
        refused on a locked ref."""
        self._http.chaos = chaos

    @property
    def requests(self) -> list[tuple[str, str, str]]:
        """(method, path, user) of every HTTP request, authorised or not."""
        return self._http.requests


@contextmanager
def run_git_server(root: Path, *, token: str) -> Iterator[GitServer]:
    """Serve the bare repositories under `root` over smart HTTP and git:// until the block ends."""
    root.mkdir(parents=True, exist_ok=True)
    http_server = _GitHTTPServer(free_port(), root, token)
    thread = threading.Thread(target=http_server.serve_forever, name="git-http", daemon=True)
    thread.start()
    daemon = None
    try:
        for _attempt in range(3):
            port = free_port()
            log = root.parent / f"{root.name}-daemon.log"
            with log.open("ab") as output:
                daemon = subprocess.Popen(
                    [
                        "git",
                        "daemon",
                        "--reuseaddr",
                        f"--listen={LOOPBACK}",
                        f"--port={port}",
                        f"--base-path={root}",
                        "--export-all",
                        "--enable=receive-pack",
                        str(root),
                    ],
                    stdout=output,
                    stderr=subprocess.STDOUT,
                )
            try:
                wait_until(partial(port_open, port), what="git daemon", process=daemon, log=log)
                break
            except RuntimeError:
                stop(daemon)
                daemon = None
        if daemon is None:
            raise RuntimeError("git daemon could not start on a free port")
        yield GitServer(root, http_server.server_address[1], port, token, http_server)
    finally:
        if daemon is not None:
            stop(daemon)
        http_server.shutdown()
        http_server.server_close()
        thread.join(timeout=10)
