"""The fake Kubernetes API server over real HTTP on 127.0.0.1 (JSON only).

Routing follows kube-apiserver's URL layout: discovery (`/api`, `/api/v1`, `/apis`,
`/apis/GROUP/VERSION`, `/version`), then `/api/v1/…` and `/apis/GROUP/VERSION/…` with
`namespaces/NS/PLURAL[/NAME[/status]]` or `PLURAL[/NAME[/status]]`. Writes understand
`dryRun=All`, `fieldManager`, `force` and `fieldValidation=Strict`; patches are server-side apply
(`application/apply-patch+yaml`), merge patch, or strategic merge patch (treated as a merge
patch). Protobuf is refused with 415, as the real server does for a type it cannot decode.
It serves HTTPS with a certificate of its own (client-go sends no bearer token over plain
HTTP), and every request needs a bearer token: the administrator's, in the kubeconfig the fake
writes, or a ServiceAccount's, which the fake's token controller puts in a
`kubernetes.io/service-account-token` Secret; those requests are authorized by RBAC
(`rbac.py`) from the ClusterRoleBindings stored.
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import ipaddress
import json
import secrets
import ssl
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.peers.chaos import Chaos
from tests.peers.kubernetes.rbac import RBAC_GROUP, Authorizer, Rule, request_attributes
from tests.peers.kubernetes.resources import ResourceType
from tests.peers.kubernetes.store import ApiError, Store, Write
from tests.peers.net import LOOPBACK

CHAOS_KINDS = ("500", "503", "504", "409", "stall")
STALL_SECONDS = 1.0
VERSION = {"major": "1", "minor": "32", "gitVersion": "v1.32.0-fake", "platform": "linux/amd64"}
_UNKNOWN_FORMAT = (
    "the body of the request was in an unknown format - accepted media types include: "
)
_PATCH_TYPES = (
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
)
SERVICE_ACCOUNT_TOKEN = "kubernetes.io/service-account-token"
_VERBS = ["create", "delete", "get", "list", "patch", "update"]


@dataclass
class FakeKubernetes:
    store: Store = field(default_factory=Store)
    token: str = field(default_factory=lambda: secrets.token_hex(16))
    url: str = ""
    certificate: bytes = b""  # PEM; the kubeconfig's certificate-authority-data
    #: (method, path with query) of every request, in order
    requests: list[tuple[str, str]] = field(default_factory=list)
    #: random faults: a 500, 503 or 504 instead of the answer, a 409 Conflict on a replace, or a
    #: stall before the answer
    chaos: Chaos | None = None
    #: when set, the administrator's requests are authorized by these RBAC rules too
    authorizer: Authorizer | None = None
    #: token -> (namespace, name) of the ServiceAccount it was issued for
    service_account_tokens: dict[str, tuple[str, str]] = field(default_factory=dict)

    def kubeconfig(self, path: Path, *, context: str = "fake") -> Path:
        """A kubeconfig for this server with its bearer token."""
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": context,
                    "cluster": {
                        "server": self.url,
                        "certificate-authority-data": base64.b64encode(self.certificate).decode(),
                    },
                }
            ],
            "users": [{"name": context, "user": {"token": self.token}}],
            "contexts": [{"name": context, "context": {"cluster": context, "user": context}}],
            "current-context": context,
        }
        path.write_text(yaml.safe_dump(config))
        return path

    # ---- HTTP -------------------------------------------------------------------------------

    def application(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024**2)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        return app

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append((request.method, request.path_qs))
        # a Conflict is what a replace meets when someone wrote the object since
        kinds = CHAOS_KINDS if request.method == "PUT" else CHAOS_KINDS[:-2] + CHAOS_KINDS[-1:]
        fault = None if self.chaos is None else self.chaos.draw("kubernetes", kinds)
        try:
            authorizer = self._authenticated(request.headers.get("Authorization", ""))
            if authorizer is not None:
                await self._authorize(authorizer, request)
            if fault == "stall":
                await asyncio.sleep(STALL_SECONDS)
            elif fault == "409":
                raise ApiError(409, "Conflict", "the object has been modified (fault injected)")
            elif fault is not None:
                raise ApiError(int(fault), "InternalError", "fault injected by the test")
            status, body, warnings = await self._route(request)
        except ApiError as err:
            status, body, warnings = err.code, err.status(), []
        headers = {"Warning": ", ".join(f'299 - "{w}"' for w in warnings)} if warnings else {}
        return web.json_response(body, status=status, headers=headers)

    def _authenticated(self, header: str) -> Authorizer | None:
        """Who sent the request, as the authorizer of its rules: the kubeconfig's token is
        the administrator (allowed everything unless `authorizer` is set); a ServiceAccount's
        token (from a service-account-token Secret) is allowed what the ClusterRoles bound to
        it allow (RoleBindings are not read)."""
        token = header.removeprefix("Bearer ")
        if header == f"Bearer {self.token}":
            return self.authorizer
        account = self.service_account_tokens.get(token) if header.startswith("Bearer ") else None
        if account is None:
            raise ApiError(401, "Unauthorized", "Unauthorized")
        namespace, name = account
        subject = {"kind": "ServiceAccount", "name": name, "namespace": namespace}
        roles = [
            binding["roleRef"]["name"]
            for (group, plural, _, _), binding in self.store.objects.items()
            if (group, plural) == (RBAC_GROUP, "clusterrolebindings")
            and subject in (binding.get("subjects") or [])
        ]
        rules = [
            Rule.of(rule)
            for role in roles
            for rule in self.store.objects.get((RBAC_GROUP, "clusterroles", "", role), {}).get(
                "rules"
            )
            or []
        ]
        return Authorizer(f"system:serviceaccount:{namespace}:{name}", rules)

    def _issue_token(self, obj: dict[str, Any]) -> None:
        """The token controller: a service-account-token Secret gets its account's token."""
        if obj.get("type") != SERVICE_ACCOUNT_TOKEN or "token" in (obj.get("data") or {}):
            return
        metadata = obj["metadata"]
        account = (metadata.get("annotations") or {}).get("kubernetes.io/service-account.name")
        if not account:
            return
        token = secrets.token_urlsafe(32)
        self.service_account_tokens[token] = (metadata["namespace"], account)
        obj.setdefault("data", {})["token"] = base64.b64encode(token.encode()).decode()

    async def _authorize(self, authorizer: Authorizer, request: web.Request) -> None:
        at = request_attributes(request.method, request.path, dict(request.query))
        writes = at.is_resource and request.method in ("POST", "PUT", "PATCH")
        body = await _body(request) if writes else None
        namespace = "" if at.resource == "namespaces" else at.namespace
        exists = (at.group, at.resource, namespace, at.name) in self.store.objects
        authorizer.authorize(at, creates=not exists, body=body)

    async def _route(self, request: web.Request) -> tuple[int, Any, list[str]]:
        parts = [p for p in request.path.split("/") if p]
        if request.method == "GET":
            discovered = self._discovery(parts)
            if discovered is not None:
                return 200, discovered, []
        if parts[:2] == ["api", "v1"]:
            group, version, rest = "", "v1", parts[2:]
        elif parts[:1] == ["apis"] and len(parts) >= 3:
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        namespace = ""
        if len(rest) >= 3 and rest[0] == "namespaces" and rest[2] != "status":
            namespace, rest = rest[1], rest[2:]
        if not rest or len(rest) > 3:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        rtype = self.store.resource(group, version, rest[0])
        name = rest[1] if len(rest) > 1 else None
        subresource = rest[2] if len(rest) > 2 else None
        if subresource not in (None, "status") or (subresource and not rtype.status_subresource):
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if rtype.namespaced != bool(namespace) and not (
            rtype.namespaced and name is None and request.method == "GET"
        ):
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        return await self._serve(request, rtype, version, namespace, name, subresource)

    async def _serve(
        self,
        request: web.Request,
        rtype: ResourceType,
        version: str,
        namespace: str,
        name: str | None,
        subresource: str | None,
    ) -> tuple[int, Any, list[str]]:
        query = request.query
        dry_run = query.get("dryRun") == "All"
        strict = query.get("fieldValidation") == "Strict"
        manager = query.get("fieldManager") or _default_manager(request)
        store = self.store
        if request.method == "GET":
            if name is None:
                items = [_as(o, rtype, version) for o in store.items(rtype, namespace or None)]
                return (
                    200,
                    {
                        "kind": f"{rtype.kind}List",
                        "apiVersion": rtype.api_version(version),
                        "metadata": {"resourceVersion": str(store.revision)},
                        "items": items,
                    },
                    [],
                )
            return 200, _as(store.get(rtype, namespace, name), rtype, version), []
        if request.method == "DELETE" and name is not None:
            return (
                200,
                _as(store.delete(rtype, namespace, name, dry_run=dry_run), rtype, version),
                [],
            )
        body = await _body(request)
        write: Write
        if subresource == "status" and name is not None:
            live = store.get(rtype, namespace, name)
            if request.method == "PUT":
                status = body.get("status") or {}
            elif (
                request.method == "PATCH" and request.content_type != "application/apply-patch+yaml"
            ):
                status = (live.get("status") or {}) | (body.get("status") or {})
            else:
                raise ApiError(
                    405, "MethodNotAllowed", "the fake serves PUT and merge PATCH on status"
                )
            write = store.write_status(rtype, namespace, name, status, manager)
        elif request.method == "POST" and name is None:
            write = store.create(rtype, namespace, body, manager, dry_run=dry_run, strict=strict)
        elif request.method == "PUT" and name is not None:
            write = store.replace(
                rtype, namespace, name, body, manager, dry_run=dry_run, strict=strict
            )
        elif request.method == "PATCH" and name is not None:
            if request.content_type == "application/apply-patch+yaml":
                force = query.get("force") == "true"
                write = store.apply(
                    rtype,
                    namespace,
                    name,
                    body,
                    query.get("fieldManager", ""),
                    force=force,
                    dry_run=dry_run,
                    strict=strict,
                )
            elif request.content_type in _PATCH_TYPES[:2]:
                write = store.patch(
                    rtype, namespace, name, body, manager, dry_run=dry_run, strict=strict
                )
            else:
                raise ApiError(
                    415,
                    "UnsupportedMediaType",
                    _UNKNOWN_FORMAT + ", ".join(_PATCH_TYPES),
                )
        else:
            raise ApiError(405, "MethodNotAllowed", f"{request.method} is not supported here")
        if rtype.kind == "Secret" and not dry_run:
            self._issue_token(
                store.objects[("", "secrets", namespace, write.obj["metadata"]["name"])]
            )
        return (201 if write.created else 200), _as(write.obj, rtype, version), write.warnings

    def _openapi_v3(self, parts: list[str]) -> Any:
        """Only what kubectl reads to decide whether the server validates fields itself
        (`fieldValidation` on each kind's PATCH), as kube-apiserver publishes it. This fake
        checks custom resources against their schema; built-in kinds it takes as they come
        (the tests check those against kubernetes_asyncio's models)."""
        by_path: dict[str, list[tuple[ResourceType, str]]] = {}
        for rtype in self.store.served():
            for version in rtype.versions:
                root = f"apis/{rtype.group}/{version}" if rtype.group else f"api/{version}"
                by_path.setdefault(root, []).append((rtype, version))
        if len(parts) == 2:
            return {
                "paths": {
                    root: {"serverRelativeURL": f"/openapi/v3/{root}?hash=fake"}
                    for root in sorted(by_path)
                }
            }
        root = "/".join(parts[2:])
        if root not in by_path:
            return None
        paths = {}
        for rtype, version in by_path[root]:
            scope = "/namespaces/{namespace}" if rtype.namespaced else ""
            gvk = {"group": rtype.group, "version": version, "kind": rtype.kind}
            parameter = {"name": "fieldValidation", "in": "query", "schema": {"type": "string"}}
            paths[f"/{root}{scope}/{rtype.plural}/{{name}}"] = {
                "patch": {
                    "x-kubernetes-group-version-kind": gvk,
                    "parameters": [parameter],
                    "responses": {"200": {"description": "OK"}},
                }
            }
        return {
            "openapi": "3.0.0",
            "info": {"title": "Kubernetes", "version": "fake"},
            "paths": paths,
        }

    def _discovery(self, parts: list[str]) -> Any:
        served = self.store.served()
        if parts == ["version"]:
            return VERSION
        if parts[:2] == ["openapi", "v3"]:
            return self._openapi_v3(parts)
        if parts == ["api"]:
            return {
                "kind": "APIVersions",
                "versions": ["v1"],
                "serverAddressByClientCIDRs": [
                    {"clientCIDR": "0.0.0.0/0", "serverAddress": LOOPBACK}
                ],
            }
        if parts == ["apis"]:
            groups: dict[str, list[str]] = {}
            for rtype in served:
                if rtype.group:
                    known = groups.setdefault(rtype.group, [])
                    known += [v for v in rtype.versions if v not in known]
            return {
                "kind": "APIGroupList",
                "apiVersion": "v1",
                "groups": [
                    {
                        "name": g,
                        "versions": [{"groupVersion": f"{g}/{v}", "version": v} for v in vs],
                        "preferredVersion": {"groupVersion": f"{g}/{vs[0]}", "version": vs[0]},
                    }
                    for g, vs in sorted(groups.items())
                ],
            }
        if parts == ["api", "v1"]:
            group, version = "", "v1"
        elif len(parts) == 3 and parts[0] == "apis":
            group, version = parts[1], parts[2]
        else:
            return None
        resources = []
        for rtype in served:
            if rtype.group == group and version in rtype.versions:
                resources.append(
                    {
                        "name": rtype.plural,
                        "singularName": rtype.kind.lower(),
                        "namespaced": rtype.namespaced,
                        "kind": rtype.kind,
                        "verbs": _VERBS,
                        "shortNames": list(rtype.short_names),
                    }
                )
                if rtype.status_subresource:
                    resources.append(
                        {
                            "name": f"{rtype.plural}/status",
                            "singularName": "",
                            "namespaced": rtype.namespaced,
                            "kind": rtype.kind,
                            "verbs": ["get", "patch", "update"],
                        }
                    )
        if not resources:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        group_version = f"{group}/{version}" if group else version
        return {
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": group_version,
            "resources": resources,
        }


def _default_manager(request: web.Request) -> str:
    # kube-apiserver names an update's manager after the client's User-Agent program name.
    return request.headers.get("User-Agent", "unknown").split("/")[0]


async def _body(request: web.Request) -> dict[str, Any]:
    if "protobuf" in request.content_type:
        raise ApiError(
            415,
            "UnsupportedMediaType",
            _UNKNOWN_FORMAT + "application/json, application/yaml",
        )
    raw = await request.read()
    try:
        body = yaml.safe_load(raw) if request.content_type.endswith("yaml") else json.loads(raw)
    except (ValueError, yaml.YAMLError) as err:
        raise ApiError(
            400, "BadRequest", f"the body of the request cannot be decoded: {err}"
        ) from None
    if not isinstance(body, dict):
        raise ApiError(400, "BadRequest", "the body of the request must be an object")
    return body


def _as(obj: dict[str, Any], rtype: ResourceType, version: str) -> dict[str, Any]:
    """The object as the requested version shows it (the fake converts by relabelling)."""
    return {**obj, "apiVersion": rtype.api_version(version)}


@asynccontextmanager
async def run_fake_kubernetes(*, establish_delay: float = 0.05) -> AsyncIterator[FakeKubernetes]:
    """Serve a fresh fake API server on a free 127.0.0.1 port until the block ends."""
    fake = FakeKubernetes(Store(establish_delay=establish_delay))
    fake.certificate, context = _tls()
    server = TestServer(fake.application(), host=LOOPBACK)
    await server.start_server(ssl=context)
    fake.url = str(server.make_url("")).rstrip("/")
    try:
        yield fake
    finally:
        await server.close()


def _tls() -> tuple[bytes, ssl.SSLContext]:
    """A self-signed certificate for 127.0.0.1 and a server context serving it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake-kube-apiserver")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(LOOPBACK))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_pem = certificate.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    with tempfile.TemporaryDirectory() as scratch:
        cert_file, key_file = f"{scratch}/tls.crt", f"{scratch}/tls.key"
        with open(cert_file, "wb") as out:
            out.write(cert_pem)
        with open(key_file, "wb") as out:
            out.write(key_pem)
        context.load_cert_chain(cert_file, key_file)
    return cert_pem, context
