"""A target cluster's API through kubernetes_asyncio: discovery, server-side apply, reads.

Objects are plain dicts, as kustomize prints them, so any kind works, custom ones included.
Requests go through `ApiClient.call_api` with `_preload_content=False`: the typed APIs map only
HTTP 200 to a result, and a server-side apply that creates an object answers 201, for which
kubernetes_asyncio's generated methods return None.

Errors carry the API server's `Status` message and the object's kind and name, never its
content: a Secret's data must not reach a log or a comment through an error.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import quote

from kubernetes_asyncio import client, config

from bot.core.failures import Failure, Temporary
from bot.kit.peers import PEERS

log = logging.getLogger(__name__)
FIELD_MANAGER = "bootstrap-bot"
REQUEST_TIMEOUT = 30
#: tries of a request safe to repeat, and the first wait between them (doubled each time)
ATTEMPTS = 3
BACKOFF_SECONDS = 0.5
T = TypeVar("T")


@dataclass(frozen=True)
class ObjectRef:
    api_version: str
    kind: str
    namespace: str
    name: str

    @classmethod
    def of(cls, obj: dict[str, Any]) -> ObjectRef:
        metadata = obj.get("metadata") or {}
        return cls(
            str(obj.get("apiVersion", "")),
            str(obj.get("kind", "")),
            str(metadata.get("namespace") or ""),
            str(metadata.get("name", "")),
        )

    def __str__(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {where}{self.name}"


class ClusterError(Failure):
    """The API server refused a request (a 4xx, with its Status)."""

    def __init__(self, message: str, *, code: int = 0, reason: str = "", detail: str = "") -> None:
        super().__init__(message)
        self.code, self.reason = code, reason
        #: the API server's own message, without the request it answered
        self.detail = detail or message


class ClusterUnavailable(Temporary):
    """The API server could not be reached, or failed on its side (5xx, 429)."""


@dataclass(frozen=True)
class Applied:
    ref: ObjectRef
    outcome: Literal["created", "configured", "unchanged"]
    obj: dict[str, Any]


@dataclass(frozen=True)
class _Resource:
    plural: str
    namespaced: bool


class Cluster:
    """One cluster, reached with one kubeconfig."""

    def __init__(self, api: client.ApiClient) -> None:
        self._api = api
        self._resources: dict[str, dict[str, _Resource]] = {}  # apiVersion -> kind -> resource

    @classmethod
    @asynccontextmanager
    async def connect(cls, kubeconfig: Path | None) -> AsyncIterator[Cluster]:
        """The cluster `kubeconfig` names; None: the one this process runs in (its service
        account, with the token re-read as Kubernetes rotates it)."""
        configuration = client.Configuration()
        try:
            if kubeconfig is None:
                config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
            else:
                await config.load_kube_config(
                    config_file=str(kubeconfig), client_configuration=configuration
                )
        except (OSError, config.ConfigException) as err:
            # The detail names a file on the bot's machine: the log gets it, GitHub does not.
            log.warning("cannot use the kubeconfig %s: %s", kubeconfig, err)
            raise ClusterError(
                "cannot use the cluster's kubeconfig (the bot's log says why)"
            ) from None
        async with client.ApiClient(configuration) as api:
            yield cls(api)

    # ---- requests ---------------------------------------------------------------------------

    async def _request(
        self,
        method: str,
        path: str,
        *,
        query: list[tuple[str, str]] | None = None,
        body: dict[str, Any] | None = None,
        content_type: str = "application/json",
    ) -> tuple[int, Any]:
        """One request; one safe to repeat (all but POST) is repeated, a few times with a short
        wait, when the API server cannot be reached or fails on its side (5xx, 429)."""
        for attempt in range(1, ATTEMPTS + 1):
            last = attempt == ATTEMPTS or method == "POST"
            try:
                status, data = await self._request_once(method, path, query, body, content_type)
            except ClusterUnavailable as outage:
                if last:
                    PEERS.failed("cluster", str(outage))
                    raise
            else:
                failing = status >= 500 or status == 429
                if failing and last:
                    PEERS.failed("cluster", f"{method} {path}: HTTP {status}")
                elif not failing:
                    PEERS.answered("cluster")
                if last or not failing:
                    return status, data
            await asyncio.sleep(BACKOFF_SECONDS * 2 ** (attempt - 1))
        raise AssertionError("unreachable")

    async def _request_once(
        self,
        method: str,
        path: str,
        query: list[tuple[str, str]] | None,
        body: dict[str, Any] | None,
        content_type: str,
    ) -> tuple[int, Any]:
        try:
            response = await self._api.call_api(
                path,
                method,
                query_params=query or [],
                header_params={"Accept": "application/json", "Content-Type": content_type},
                body=body,
                auth_settings=["BearerToken"],
                _preload_content=False,
                _request_timeout=REQUEST_TIMEOUT,
            )
            try:
                raw = await response.read()
            finally:
                response.release()
        except (OSError, TimeoutError, client.ApiException) as err:
            raise ClusterUnavailable(f"cannot reach the API server: {type(err).__name__}") from None
        try:
            data = json.loads(raw) if raw else None
        except ValueError:
            data = None
        return response.status, data

    @staticmethod
    def _failure(status: int, data: Any, what: str) -> ClusterError | ClusterUnavailable:
        if status >= 500 or status == 429:
            return ClusterUnavailable(f"{what}: the API server answered HTTP {status}")
        if isinstance(data, dict) and data.get("kind") == "Status":
            message = str(data.get("message") or data.get("reason") or status)
            return ClusterError(
                f"{what}: {message}", code=status, reason=str(data.get("reason")), detail=message
            )
        return ClusterError(f"{what}: HTTP {status}", code=status)

    async def version(self) -> str:
        """The API server's version (GET /version), which any credentials may read."""
        status, data = await self._request("GET", "/version")
        if status != 200 or not isinstance(data, dict):
            raise self._failure(status, data, "GET /version")
        return str(data.get("gitVersion") or "unknown")

    # ---- discovery --------------------------------------------------------------------------

    async def _resource(self, api_version: str, kind: str) -> _Resource:
        for refresh in (False, True):
            if refresh or api_version not in self._resources:
                self._resources[api_version] = await self._discover(api_version)
            found = self._resources[api_version].get(kind)
            if found is not None:
                return found
        raise ClusterError(
            f'no matches for kind "{kind}" in version "{api_version}"', code=404, reason="NotFound"
        )

    async def _discover(self, api_version: str) -> dict[str, _Resource]:
        path = f"/apis/{api_version}" if "/" in api_version else f"/api/{api_version}"
        status, data = await self._request("GET", path)
        if status == 404:
            return {}
        if status != 200:
            raise self._failure(status, data, f"discovering {api_version}")
        return {
            r["kind"]: _Resource(r["name"], bool(r["namespaced"]))
            for r in data.get("resources", [])
            if "/" not in r["name"]
        }

    async def _path(self, ref: ObjectRef) -> str:
        return f"{await self._collection(ref)}/{quote(ref.name, safe='')}"

    async def _collection(self, ref: ObjectRef) -> str:
        resource = await self._resource(ref.api_version, ref.kind)
        prefix = f"/apis/{ref.api_version}" if "/" in ref.api_version else f"/api/{ref.api_version}"
        if resource.namespaced:
            if not ref.namespace:
                raise ClusterError(f"{ref}: a {ref.kind} needs a namespace")
            prefix += f"/namespaces/{quote(ref.namespace, safe='')}"
        return f"{prefix}/{resource.plural}"

    # ---- objects ----------------------------------------------------------------------------

    async def get(self, ref: ObjectRef) -> dict[str, Any] | None:
        """The object, or None when it (or its kind) does not exist."""
        try:
            path = await self._path(ref)
        except ClusterError as err:
            if err.code == 404:
                return None
            raise
        status, data = await self._request("GET", path)
        if status == 404:
            return None
        if status != 200:
            raise self._failure(status, data, f"reading {ref}")
        result: dict[str, Any] = data
        return result

    async def list(self, ref: ObjectRef, *, limit: int = 500) -> list[dict[str, Any]]:
        """The objects of `ref`'s kind in its namespace (its name is not read), at most
        `limit` of them: what a namespace of the bot's own holds, not a cluster's worth."""
        path = await self._collection(ref)
        status, data = await self._request("GET", path, query=[("limit", str(limit))])
        if status != 200:
            raise self._failure(status, data, f"listing {ref.kind} in {ref.namespace}")
        items: list[dict[str, Any]] = list(data.get("items") or [])[:limit]
        return items

    async def apply(self, obj: dict[str, Any], *, dry_run: bool = False) -> Applied:
        """Server-side apply `obj` as the bot's field manager, taking over conflicting fields
        (the bot renders these objects; Flux's kustomize-controller applies the same ones)."""
        ref = ObjectRef.of(obj)
        path = await self._path(ref)
        before = await self.get(ref)
        query = [("fieldManager", FIELD_MANAGER), ("force", "true")]
        if dry_run:
            query.append(("dryRun", "All"))
        status, data = await self._request(
            "PATCH", path, query=query, body=obj, content_type="application/apply-patch+yaml"
        )
        if status not in (200, 201):
            raise self._failure(status, data, f"applying {ref}")
        if before is None:
            outcome: Literal["created", "configured", "unchanged"] = "created"
        elif data["metadata"].get("resourceVersion") == before["metadata"].get("resourceVersion"):
            outcome = "unchanged"
        else:
            outcome = "configured"
        if dry_run and before is not None:
            unchanged = _comparable(before) == _comparable(data)
            outcome = "unchanged" if unchanged else "configured"
        return Applied(ref, outcome, data)

    async def create(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Create `obj`; ClusterError 409 (AlreadyExists) when it exists."""
        ref = ObjectRef.of(obj)
        path = await self._collection(ref)
        return self._written(ref, "creating", await self._request("POST", path, body=obj))

    async def replace(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Replace `obj` as a whole. With `metadata.resourceVersion` it is a compare-and-swap:
        ClusterError 409 (Conflict) when someone wrote the object since."""
        ref = ObjectRef.of(obj)
        path = await self._path(ref)
        return self._written(ref, "replacing", await self._request("PUT", path, body=obj))

    def _written(self, ref: ObjectRef, verb: str, answer: tuple[int, Any]) -> dict[str, Any]:
        status, data = answer
        if status not in (200, 201):
            raise self._failure(status, data, f"{verb} {ref}")
        result: dict[str, Any] = data
        return result


def _comparable(obj: dict[str, Any]) -> dict[str, Any]:
    metadata = {
        k: v
        for k, v in (obj.get("metadata") or {}).items()
        if k not in ("managedFields", "resourceVersion", "generation")
    }
    return {**obj, "metadata": metadata}


async def wait_for(
    probe: Callable[[], Awaitable[T | None]], *, timeout: float, first: float = 0.05
) -> T | None:
    """`probe()`'s first non-None answer, polled with growing pauses; None after `timeout`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    pause = first
    while True:
        answer = await probe()
        if answer is not None:
            return answer
        left = deadline - loop.time()
        if left <= 0:
            return None
        await asyncio.sleep(min(pause, left))
        pause = min(pause * 2, 5.0)
