"""OCI registries through oras-py, with the fixes OCM content needs.

- The auth scheme is learnt from the `/v2/` challenge: oras-py's default token backend takes a
  Basic realm for a token service.
- Basic credentials are sent with every request instead of after a 401 (see `_client`).
- One oras client per repository: oras-py's token backend reuses one bearer token across
  repositories and fails with `insufficient_scope` when it does.
- Manifests are fetched raw, so their digest can be checked over the bytes served.
"""

from __future__ import annotations

import hashlib
import json
import socket
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, TypeVar

import oras.provider
import requests
import requests.adapters
import urllib3
import urllib3.connection
import urllib3.exceptions

from bot.ocm import store
from bot.ocm.credentials import Credentials
from bot.ocm.egress import EgressPolicy
from bot.ocm.layout import ACCEPT, digest_of, file_digest, is_digest
from bot.ocm.store import (
    MAX_ARTIFACT_BYTES,
    MAX_BLOB_BYTES,
    NotFound,
    StoreError,
    StoreUnavailable,
)


class _Registry(oras.provider.Registry):  # type: ignore[misc]
    """oras-py's client without its retry decorator: it repeats any failed request five times,
    sleeping up to 83 s in between, whatever failed (a refused address, a lying registry). What
    is worth repeating, and when, is the bot's to decide (a `Temporary`)."""

    do_request = oras.provider.Registry.do_request.__wrapped__


T = TypeVar("T")
#: told how each read went: None when the registry answered, else what failed (the services
#: show it as the registry's health, `bot.kit.peers`)
READ_OBSERVERS: list[Callable[[str | None], None]] = []
#: tries of a read, and the first wait between them (doubled each time): a registry failing on
#: its side or a connection that broke is tried again at once, a little; a lasting outage is
#: the caller's `Temporary`
READ_ATTEMPTS = 3
READ_BACKOFF_SECONDS = 0.25


def _again(read: Callable[[], T]) -> T:
    for attempt in range(1, READ_ATTEMPTS + 1):
        try:
            answer = read()
        except StoreUnavailable as outage:
            if attempt == READ_ATTEMPTS:
                for observe in READ_OBSERVERS:
                    observe(str(outage))
                raise
        else:
            for observe in READ_OBSERVERS:
                observe(None)
            return answer
        time.sleep(READ_BACKOFF_SECONDS * 2 ** (attempt - 1))
    raise AssertionError("unreachable")


class RegistryStore:
    def __init__(
        self,
        host: str,
        *,
        plain_http: bool = False,
        credentials: Callable[[str], Credentials | None] | None = None,
        on_request: Callable[[], None] | None = None,
        egress: EgressPolicy | None = None,
    ) -> None:
        """`credentials` maps a repository path to what to log in with (None: anonymous);
        `on_request` is told of every HTTP request made (metrics); with `egress`, every
        connection (redirects included) goes only where the operator's policy allows."""
        if egress is not None:
            egress.check_host(host)
        self.egress = egress
        self.host = host
        self.plain_http = plain_http
        self.scheme = "http" if plain_http else "https"
        self.description = f"{self.scheme}://{host}"
        self.credentials = credentials
        self._clients: dict[str, oras.provider.Registry] = {}
        self._backend: str | None = None
        self.last_content_type = ""
        self.last_status = 0
        self.requests = 0  # HTTP requests made, for benchmarks and tests
        self._on_request = on_request

    def _note_status(self, response: requests.Response, *_: object, **__: object) -> None:
        """The last answer's status (oras-py says only the reason of a failed tag list)."""
        self.last_status = response.status_code

    def _count(self, *_: object, **__: object) -> None:
        """One HTTP request made (also a `requests` response hook: oras-py sends every
        request, token exchanges and tag-list pages included, through its session)."""
        self.requests += 1
        if self._on_request is not None:
            self._on_request()

    # --- clients -------------------------------------------------------------------------------

    def _auth_backend(self) -> str:
        if self._backend is None:
            self._count()
            try:
                with self._session() as session:
                    # HEAD: the challenge is in the headers, and a re-run that only asks
                    # whether versions are there stays HEAD-only (GET where HEAD is refused)
                    base = f"{self.scheme}://{self.host}/v2/"
                    response = session.head(base, timeout=30)
                    if response.status_code in (404, 405, 501):
                        self._count()
                        response = session.get(base, timeout=30)
            except requests.RequestException as err:
                raise StoreUnavailable(
                    f"registry {self.description} is not reachable: {err}"
                ) from None
            challenge = response.headers.get("WWW-Authenticate", "").lower()
            self._backend = "basic" if challenge.startswith("basic") else "token"
        return self._backend

    def reachable(self) -> str:
        """How the registry answers `GET /v2/` (its authentication scheme); StoreUnavailable
        when it does not."""
        self._backend = None
        return self._auth_backend()

    def _client(self, repository: str) -> oras.provider.Registry:
        client = self._clients.get(repository)
        if client is None:
            client = _Registry(
                hostname=self.host, insecure=self.plain_http, auth_backend=self._auth_backend()
            )
            client.session.hooks["response"].append(self._count)
            client.session.hooks["response"].append(self._note_status)
            _mount_bounded(client.session, self.egress)
            creds = self.credentials(repository) if self.credentials else None
            if creds and (creds.username or creds.identity_token):
                secret = creds.password or creds.identity_token
                client.auth.set_basic_auth(creds.username, secret)
                if self._backend == "token":
                    _refresh_on_insufficient_scope(client)
                if self._backend == "basic":
                    # oras' basic backend tries every request without credentials first; after
                    # a refused upload body the pooled connection hangs. Send them up front.
                    client.session.auth = (creds.username, secret)
            self._clients[repository] = client
        return client

    def _session(self) -> requests.Session:
        session = requests.Session()
        _mount_bounded(session, self.egress)
        return session

    def _url(self, repository: str, kind: str, reference: str) -> str:
        return f"{self.scheme}://{self.host}/v2/{repository}/{kind}/{reference}"

    def _get(
        self,
        repository: str,
        url: str,
        headers: dict[str, str] | None = None,
        *,
        limit: int | None = None,
        digest: str | None = None,
    ) -> bytes:
        return _again(lambda: self._get_once(repository, url, headers, limit, digest))

    def _get_once(
        self,
        repository: str,
        url: str,
        headers: dict[str, str] | None,
        limit: int | None,
        digest: str | None,
    ) -> bytes:
        response = self._request(repository, url, "GET", headers)
        _read_bounded(response, limit, digest)
        self.last_content_type = response.headers.get("Content-Type", "")
        return bytes(response.content)

    def _request(
        self, repository: str, url: str, method: str, headers: dict[str, str] | None = None
    ) -> requests.Response:
        """One request, its body not read yet; a refusal or an outage raised as what it is."""
        client = self._client(repository)
        try:
            response: requests.Response = client.do_request(
                url, method, headers=headers or {}, stream=True
            )
        except requests.RequestException as err:
            raise StoreUnavailable(f"{url}: {err}") from None
        except ValueError as err:
            raise StoreError(f"{url}: {err}") from None
        if response.status_code >= 400:
            response.close()
        if response.status_code == 404:
            raise NotFound(f"{url} not found")
        if response.status_code >= 500 or response.status_code == 429:
            raise StoreUnavailable(f"{url}: HTTP {response.status_code}")
        if response.status_code >= 400:
            raise StoreError(f"{url}: HTTP {response.status_code}")
        return response

    # --- reading -------------------------------------------------------------------------------

    def list_repositories(self) -> list[str]:
        """The registry's repositories, from its catalog (`/v2/_catalog`, which many
        registries do not offer to everyone: then a StoreError says so)."""
        found: list[str] = []
        url = f"{self.scheme}://{self.host}/v2/_catalog?n={CATALOG_PAGE}"
        for _ in range(CATALOG_PAGES):
            page = json.loads(self._get("", url, limit=MAX_MANIFEST_BYTES))
            names = page.get("repositories") if isinstance(page, dict) else None
            if not isinstance(names, list):
                raise StoreError(f"{self.description} answered its catalog with no repositories")
            found.extend(str(n) for n in names)
            if len(names) < CATALOG_PAGE:
                return sorted(found)
            url = f"{self.scheme}://{self.host}/v2/_catalog?n={CATALOG_PAGE}&last={names[-1]}"
        raise StoreError(
            f"{self.description} lists more than {CATALOG_PAGE * CATALOG_PAGES} repositories"
        )

    def list_tags(self, repository: str) -> list[str]:
        return _again(lambda: self._list_tags_once(repository))

    def _list_tags_once(self, repository: str) -> list[str]:
        client = self._client(repository)
        self.last_status = 0
        try:
            return list(client.get_tags(f"{self.host}/{repository}"))
        except requests.RequestException as err:  # a broken body's JSON error included
            raise StoreUnavailable(f"listing tags of {repository}: {err}") from None
        except ValueError as err:
            # the status the hook saw, not "404" in the text: the registry's port may hold it
            if self.last_status == 404 or "NAME_UNKNOWN" in str(err):
                raise NotFound(f"repository {repository} not in {self.description}") from None
            if self.last_status >= 500 or self.last_status == 429:  # failing on its side
                said = f"listing tags of {repository}: HTTP {self.last_status}"
                raise StoreUnavailable(said) from None
            raise StoreError(f"listing tags of {repository}: {err}") from None

    def get_manifest(self, repository: str, reference: str) -> tuple[bytes, str]:
        url = self._url(repository, "manifests", reference)
        data = self._get(repository, url, {"Accept": ACCEPT}, limit=MAX_MANIFEST_BYTES)
        return data, self.last_content_type.split(";")[0].strip()

    def manifest_digest(self, repository: str, reference: str) -> str | None:
        return _again(lambda: self._manifest_digest_once(repository, reference))

    def _manifest_digest_once(self, repository: str, reference: str) -> str | None:
        url = self._url(repository, "manifests", reference)
        try:
            response = self._request(repository, url, "HEAD", {"Accept": ACCEPT})
        except NotFound:
            return None
        response.close()
        digest = response.headers.get("Docker-Content-Digest", "")
        # without the header (it is optional) the answer says only that the tag is there
        return digest if is_digest(digest) else ""

    def get_blob(self, repository: str, digest: str) -> bytes:
        if not is_digest(digest):  # it goes into the URL's path
            raise StoreError(f"{digest!r} is not a digest")
        return self._get(repository, self._url(repository, "blobs", digest), digest=digest)

    def _has_blob(self, repository: str, digest: str) -> bool:
        url = self._url(repository, "blobs", digest)
        try:
            self._request(repository, url, "HEAD").close()
        except NotFound:
            return False
        except StoreError:  # a registry that will not say: send it
            return False
        return True

    def save_blob(self, repository: str, digest: str, destination: Path) -> int:
        if not is_digest(digest):
            raise StoreError(f"{digest!r} is not a digest")
        url = self._url(repository, "blobs", digest)

        def save() -> int:
            response = self._request(repository, url, "GET")
            with destination.open("wb") as sink:
                return _copy_body(response, sink, MAX_ARTIFACT_BYTES, digest, ARTIFACT_SECONDS)

        return _again(save)

    # --- writing -------------------------------------------------------------------------------

    def put_blob(self, repository: str, data: bytes, media_type: str) -> str:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "blob"
            path.write_bytes(data)
            return self.put_blob_file(repository, path, media_type)

    def put_blob_file(self, repository: str, source: Path, media_type: str) -> str:
        digest, size = file_digest(source)
        if self._has_blob(repository, digest):  # an interrupted run sent it already
            return digest
        layer = {"mediaType": media_type, "digest": digest, "size": size}
        try:
            response = self._client(repository).upload_blob(
                str(source), f"{self.host}/{repository}", layer
            )
        except (ValueError, requests.RequestException) as err:
            raise StoreError(f"uploading {digest} to {repository}: {err}") from None
        if response.status_code not in (200, 201, 202):
            raise StoreError(f"uploading {digest} to {repository}: HTTP {response.status_code}")
        return digest

    def put_manifest(self, repository: str, tag: str, data: bytes, media_type: str) -> str:
        client = self._client(repository)
        url = self._url(repository, "manifests", tag)
        response = client.do_request(url, "PUT", data=data, headers={"Content-Type": media_type})
        if response.status_code not in (200, 201):
            raise StoreError(f"pushing {repository}:{tag}: HTTP {response.status_code}")
        return digest_of(data)


def _refresh_on_insufficient_scope(client: oras.provider.Registry) -> None:
    """oras-py reuses its bearer token when a 401 says the scope is too narrow (a pull token
    before a push); ask the token service again instead."""
    original = client.auth.authenticate_request

    def authenticate_request(
        response: requests.Response, headers: dict[str, str], refresh: bool = False
    ) -> tuple[dict[str, str], bool]:
        challenge = response.headers.get("Www-Authenticate") or ""
        result: tuple[dict[str, str], bool] = original(
            response, headers, refresh=refresh or "insufficient_scope" in challenge
        )
        return result

    client.auth.authenticate_request = authenticate_request


#: how long to wait for a connection, and for the next bytes of an answer
TIMEOUT = (10.0, 30.0)
#: how long one answer may take in all (a registry trickling one byte at a time)
TOTAL_SECONDS = 300.0
#: how long a blob moved as a file (an artifact set: a whole image) may take
ARTIFACT_SECONDS = 3600.0
#: the largest answer read, and the largest manifest
MAX_RESPONSE_BYTES = MAX_BLOB_BYTES
MAX_MANIFEST_BYTES = store.MAX_MANIFEST_BYTES
#: a catalog is read in pages of this many repositories, at most this many pages
CATALOG_PAGE, CATALOG_PAGES = 1000, 20
#: an answer larger than this is taken in on disk while it comes
SPOOL_BYTES = 1024 * 1024


def _mount_bounded(session: requests.Session, egress: EgressPolicy | None) -> None:
    """Every request of `session` bounded in time and size, and, with `egress`, every
    connection checked against the operator's policy (see `bot.ocm.egress`)."""
    adapter = _BoundedAdapter(egress)
    session.mount("http://", adapter)
    session.mount("https://", adapter)


def _checked_address(egress: EgressPolicy, host: str, port: int) -> str:
    """The address to connect to for `host`: its first resolved address, which the policy must
    allow. The socket then goes to that very address, so the name cannot resolve differently
    between the check and the connection."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as err:
        raise StoreUnavailable(f"cannot resolve {host}: {err.strerror}") from None
    address = str(found[0][4][0])
    egress.check_address(host, port, address)
    return address


class _CheckedHTTPConnection(urllib3.connection.HTTPConnection):
    egress: EgressPolicy

    def _new_conn(self) -> socket.socket:
        # the socket goes to the checked address; TLS (below, for https) still checks the
        # certificate against the name
        name = self._dns_host
        self._dns_host = _checked_address(self.egress, name, self.port)
        try:
            return super()._new_conn()
        finally:
            self._dns_host = name


class _CheckedHTTPSConnection(urllib3.connection.HTTPSConnection, _CheckedHTTPConnection):
    egress: EgressPolicy


class _BoundedAdapter(requests.adapters.HTTPAdapter):
    def __init__(self, egress: EgressPolicy | None) -> None:
        self._egress = egress
        super().__init__()

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, stream: bool = False, timeout: Any = None,
        **kwargs: Any,
    ) -> requests.Response:  # fmt: skip
        response = super().send(request, stream=True, timeout=timeout or TIMEOUT, **kwargs)
        if not stream:
            _read_bounded(response)
        return response

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        egress = self._egress
        if egress is None:
            return

        class Plain(_CheckedHTTPConnection):
            pass

        class Secure(_CheckedHTTPSConnection):
            pass

        Plain.egress = Secure.egress = egress

        class PlainPool(urllib3.HTTPConnectionPool):
            ConnectionCls = Plain

        class SecurePool(urllib3.HTTPSConnectionPool):
            ConnectionCls = Secure

        self.poolmanager.pool_classes_by_scheme = {"http": PlainPool, "https": SecurePool}


def _read_bounded(
    response: requests.Response, limit: int | None = None, digest: str | None = None
) -> None:
    """Read the answer's body, refusing one past `limit` bytes (MAX_RESPONSE_BYTES) before
    reading it when it says its size, and as soon as it passes it when it does not; one that
    takes longer than `TOTAL_SECONDS`, however slowly its bytes come; and, with `digest`, one
    whose bytes are not that digest's. The body goes to disk past SPOOL_BYTES, so an answer
    that is refused is never held in memory whole."""
    if response._content_consumed:
        return
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as body:
        _copy_body(response, body, MAX_RESPONSE_BYTES if limit is None else limit, digest,
                   TOTAL_SECONDS)  # fmt: skip
        body.seek(0)
        response._content = body.read()
    response._content_consumed = True


def _copy_body(
    response: requests.Response,
    sink: IO[bytes],
    limit: int,
    digest: str | None,
    total_seconds: float,
) -> int:
    """The answer's body written to `sink`, bounded and checked as `_read_bounded` says; its
    size."""
    url = response.url
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        response.close()
        raise StoreError(f"{url}: the answer has {declared} bytes; at most {limit}")
    started = time.monotonic()
    hashed = hashlib.sha256() if digest is not None and digest.startswith("sha256:") else None
    size = 0
    try:
        # read1: what has arrived, so a trickle cannot hold one read past the total time
        while chunk := response.raw.read1(64 * 1024, decode_content=True):
            sink.write(chunk)
            size += len(chunk)
            if hashed is not None:
                hashed.update(chunk)
            if size > limit:
                raise StoreError(f"{url}: the answer is larger than {limit} bytes")
            if time.monotonic() - started > total_seconds:
                raise StoreUnavailable(f"{url}: the answer took longer than {total_seconds:.0f} s")
    except (urllib3.exceptions.HTTPError, OSError) as err:
        response.close()
        raise StoreUnavailable(f"{url}: the answer broke off: {err}") from None
    except BaseException:
        response.close()
        raise
    response.raw.release_conn()  # read whole: the connection can serve the next request
    if hashed is not None and digest != f"sha256:{hashed.hexdigest()}":
        raise StoreError(f"{url}: the answer is not the blob {digest} (its digest differs)")
    return size
