"""The fake API server's state: objects, their owners, resource versions, served kinds.

Every write goes through `_commit`, which is where kube-apiserver's contract lives: a write that
changes nothing keeps the resourceVersion, a spec change bumps `generation`, the status
subresource is written only through `write_status`, custom objects are pruned and validated
against their CRD's schema, and a dry run does all of it without storing.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import copy
import datetime
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.peers.kubernetes import fields, schema
from tests.peers.kubernetes.resources import (
    BUILTINS,
    CRD,
    NAMESPACES,
    SECRETS,
    ResourceType,
    crd_problems,
    from_crd,
)

_NAME_REQUIRED = "name or generateName is required"
Key = tuple[str, str, str, str]
JSON = dict[str, Any]  # group, plural, namespace ("" when cluster-scoped), name


class ApiError(Exception):
    """A request the API server refuses; becomes a `Status` body."""

    def __init__(
        self, code: int, reason: str, message: str, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.code, self.reason, self.message, self.details = code, reason, message, details

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details is not None:
            body["details"] = self.details
        return body


def not_found(rtype: ResourceType, name: str) -> ApiError:
    return ApiError(
        404,
        "NotFound",
        f'{rtype.group_resource} "{name}" not found',
        {"name": name, "group": rtype.group, "kind": rtype.plural},
    )


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Write:
    """What a write did, for the HTTP layer: the object and whether it was created."""

    obj: dict[str, Any]
    created: bool
    warnings: list[str] = field(default_factory=list)


@dataclass
class Store:
    #: seconds between storing a CRD and serving its kind (kube-apiserver takes a moment too)
    establish_delay: float = 0.05
    objects: dict[Key, dict[str, Any]] = field(default_factory=dict)
    types: dict[tuple[str, str], ResourceType] = field(default_factory=dict)  # group, plural
    revision: int = 1
    #: every committed write as (verb, key), for tests that count them
    writes: list[tuple[str, Key]] = field(default_factory=list)
    on_write: list[Callable[[], None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        for rtype in BUILTINS:
            self.types[(rtype.group, rtype.plural)] = rtype
        # the namespaces every cluster starts with
        for name in ("default", "kube-node-lease", "kube-public", "kube-system"):
            self.create(NAMESPACES, "", {"metadata": {"name": name}}, "kube-apiserver")
        self.writes.clear()

    # ---- kinds ------------------------------------------------------------------------------

    def served(self) -> list[ResourceType]:
        return list(self.types.values())

    def resource(self, group: str, version: str, plural: str) -> ResourceType:
        rtype = self.types.get((group, plural))
        if rtype is None or version not in rtype.versions:
            where = f"{group}/{version}" if group else version
            raise ApiError(
                404,
                "NotFound",
                f"the server could not find the requested resource ({where} {plural})",
            )
        return rtype

    def _establish(self, name: str) -> None:
        crd = self.objects.get(("apiextensions.k8s.io", "customresourcedefinitions", "", name))
        if crd is None:
            return
        rtype = from_crd(crd)
        self.types[(rtype.group, rtype.plural)] = rtype
        now = _now()
        conditions = [
            {"type": t, "status": "True", "reason": r, "message": m, "lastTransitionTime": now}
            for t, r, m in (
                ("NamesAccepted", "NoConflicts", "no conflicts found"),
                ("Established", "InitialNamesAccepted", "the initial names have been accepted"),
            )
        ]
        self.write_status(
            CRD,
            "",
            name,
            {
                "conditions": conditions,
                "acceptedNames": crd["spec"]["names"],
                "storedVersions": [v["name"] for v in crd["spec"]["versions"] if v.get("storage")],
            },
        )

    # ---- reads ------------------------------------------------------------------------------

    def get(self, rtype: ResourceType, namespace: str, name: str) -> dict[str, Any]:
        return copy.deepcopy(self._existing(rtype, namespace, name)[1])

    def items(self, rtype: ResourceType, namespace: str | None) -> list[dict[str, Any]]:
        return [
            copy.deepcopy(obj)
            for (group, plural, ns, _), obj in sorted(self.objects.items())
            if (group, plural) == (rtype.group, rtype.plural) and namespace in (None, ns)
        ]

    # ---- writes -----------------------------------------------------------------------------

    def create(
        self,
        rtype: ResourceType,
        namespace: str,
        obj: dict[str, Any],
        manager: str,
        *,
        dry_run: bool = False,
        strict: bool = False,
    ) -> Write:
        name = self._identity(rtype, namespace, obj)
        key = (rtype.group, rtype.plural, namespace, name)
        if key in self.objects:
            raise ApiError(
                409,
                "AlreadyExists",
                f'{rtype.group_resource} "{name}" already exists',
                {"name": name, "group": rtype.group, "kind": rtype.plural},
            )
        new = self._incoming(rtype, obj, live=None)
        entries = self._updated_owners([], None, new, manager)
        return self._commit(rtype, key, None, new, entries, dry_run=dry_run, strict=strict)

    def replace(
        self,
        rtype: ResourceType,
        namespace: str,
        name: str,
        obj: dict[str, Any],
        manager: str,
        *,
        dry_run: bool = False,
        strict: bool = False,
    ) -> Write:
        if self._identity(rtype, namespace, obj) != name:
            raise ApiError(
                400, "BadRequest", "the name of the object does not match the name on the URL"
            )
        key, live = self._existing(rtype, namespace, name)
        return self._update(rtype, key, live, obj, manager, dry_run=dry_run, strict=strict)

    def patch(
        self,
        rtype: ResourceType,
        namespace: str,
        name: str,
        patch: dict[str, Any],
        manager: str,
        *,
        dry_run: bool = False,
        strict: bool = False,
    ) -> Write:
        key, live = self._existing(rtype, namespace, name)
        # a resourceVersion in the patch is checked; without one the live one is kept
        obj = fields.merge_patch(live, patch)
        return self._update(rtype, key, live, obj, manager, dry_run=dry_run, strict=strict)

    def _existing(self, rtype: ResourceType, namespace: str, name: str) -> tuple[Key, JSON]:
        key = (rtype.group, rtype.plural, namespace, name)
        live = self.objects.get(key)
        if live is None:
            raise not_found(rtype, name)
        return key, live

    def _update(
        self, rtype: ResourceType, key: Key, live: JSON, obj: JSON, manager: str, *,
        dry_run: bool, strict: bool,
    ) -> Write:  # fmt: skip
        """A write that is not an apply: PUT or a merge patch's result."""
        self._check_revision(rtype, live, obj)
        new = self._incoming(rtype, obj, live=live)
        entries = self._updated_owners(_managed(live), live, new, manager)
        return self._commit(rtype, key, live, new, entries, dry_run=dry_run, strict=strict)

    def apply(
        self,
        rtype: ResourceType,
        namespace: str,
        name: str,
        config: dict[str, Any],
        manager: str,
        *,
        force: bool = False,
        dry_run: bool = False,
        strict: bool = False,
    ) -> Write:
        if not manager:
            raise ApiError(
                400,
                "BadRequest",
                "PATCH, application/apply-patch+yaml: fieldManager is required for apply requests",
            )
        if self._identity(rtype, namespace, config) != name:
            raise ApiError(
                400, "BadRequest", "the name of the object does not match the name on the URL"
            )
        key = (rtype.group, rtype.plural, namespace, name)
        live = self.objects.get(key)
        if live is not None:
            self._check_revision(rtype, live, config)
        config = self._incoming(rtype, config, live=None)
        config.pop("status", None) if rtype.status_subresource else None
        applied = fields.leaf_paths(fields.tracked(config))
        entries = _managed(live) if live is not None else []
        conflicts = []
        base = live or {}
        for entry in entries:
            if entry["manager"] == manager and entry["operation"] == "Apply":
                continue
            for path in sorted(applied & fields.from_fields_v1(entry.get("fieldsV1") or {})):
                if fields.value_at(base, path) != fields.value_at(config, path):
                    conflicts.append((entry, path))
        if conflicts and not force:
            causes = [
                {
                    "type": "FieldManagerConflict",
                    "message": f'conflict with "{e["manager"]}": {fields.dotted(p)}',
                    "field": fields.dotted(p),
                }
                for e, p in conflicts
            ]
            listed = "\n".join(f"- {c['message']}" for c in causes)
            many = len(causes) > 1
            summary = ("\n" + listed) if many else listed.removeprefix("- ")
            raise ApiError(
                409,
                "Conflict",
                f"Apply failed with {len(causes)} conflict{'s' if many else ''}: {summary}",
                {"name": name, "group": rtype.group, "kind": rtype.plural, "causes": causes},
            )
        taken = {p for _, p in conflicts}
        result = copy.deepcopy(base) if live is not None else {}
        own = next(
            (e for e in entries if e["manager"] == manager and e["operation"] == "Apply"), None
        )
        owned_before = fields.from_fields_v1(own["fieldsV1"]) if own else set()
        others = [e for e in entries if e is not own]
        others_own = (
            set().union(*(fields.from_fields_v1(e.get("fieldsV1") or {}) for e in others)) - taken
        )
        for path in owned_before - applied - others_own:
            fields.remove(result, path)
        result = fields.merge(result, config)
        new_entries = []
        for entry in others:
            kept = fields.from_fields_v1(entry.get("fieldsV1") or {}) - taken
            if kept:
                new_entries.append({**entry, "fieldsV1": fields.to_fields_v1(kept)})
        apply_entry = {
            "manager": manager,
            "operation": "Apply",
            "apiVersion": config["apiVersion"],
            "fieldsType": "FieldsV1",
            "fieldsV1": fields.to_fields_v1(applied),
        }
        if own is not None and own.get("fieldsV1") == apply_entry["fieldsV1"]:
            apply_entry["time"] = own.get("time")
        new_entries.insert(0 if own is None else entries.index(own), apply_entry)
        return self._commit(rtype, key, live, result, new_entries, dry_run=dry_run, strict=strict)

    def write_status(
        self,
        rtype: ResourceType,
        namespace: str,
        name: str,
        status: dict[str, Any],
        manager: str = "",
    ) -> Write:
        """Replace the status (the `/status` subresource); nothing else of the object moves."""
        key, live = self._existing(rtype, namespace, name)
        new = {**copy.deepcopy(live), "status": copy.deepcopy(status)}
        entries = _managed(live)
        if manager:
            entries = self._updated_owners(entries, live, new, manager, only=("status",))
        return self._commit(
            rtype, key, live, new, entries, dry_run=False, strict=False, status=True
        )

    def delete(
        self, rtype: ResourceType, namespace: str, name: str, *, dry_run: bool = False
    ) -> dict[str, Any]:
        key, live = self._existing(rtype, namespace, name)
        if dry_run:
            return copy.deepcopy(live)
        del self.objects[key]
        if rtype is NAMESPACES:
            for other in [k for k in self.objects if k[2] == name]:
                del self.objects[other]
        if rtype == CRD:
            gone = from_crd(live)
            self.types.pop((gone.group, gone.plural), None)
            for other in [k for k in self.objects if k[:2] == (gone.group, gone.plural)]:
                del self.objects[other]
        self._written("delete", key)
        return live

    # ---- the contract -----------------------------------------------------------------------

    def _identity(self, rtype: ResourceType, namespace: str, obj: dict[str, Any]) -> str:
        metadata = obj.get("metadata") or {}
        name = metadata.get("name") or ""
        if not name:
            raise ApiError(
                422,
                "Invalid",
                f'{rtype.kind} "" is invalid: metadata.name: Required value: ' + _NAME_REQUIRED,
                {
                    "kind": rtype.kind,
                    "group": rtype.group,
                    "causes": [
                        {
                            "reason": "FieldValueRequired",
                            "message": "Required value: " + _NAME_REQUIRED,
                            "field": "metadata.name",
                        }
                    ],
                },
            )
        given = metadata.get("namespace")
        if rtype.namespaced and given not in (None, "", namespace):
            raise ApiError(
                400,
                "BadRequest",
                "the namespace of the provided object does not match the namespace sent on the "
                "request",
            )
        expected = (obj.get("apiVersion"), obj.get("kind"))
        if expected[1] is not None and expected[1] != rtype.kind:
            raise ApiError(
                400,
                "BadRequest",
                f"the kind of the object ({expected[1]}) does not match the resource "
                f"({rtype.plural})",
            )
        return str(name)

    def _check_revision(
        self, rtype: ResourceType, live: dict[str, Any], obj: dict[str, Any]
    ) -> None:
        wanted = (obj.get("metadata") or {}).get("resourceVersion")
        if wanted and wanted != live["metadata"]["resourceVersion"]:
            name = live["metadata"]["name"]
            raise ApiError(
                409,
                "Conflict",
                f'Operation cannot be fulfilled on {rtype.group_resource} "{name}": '
                "the object has been modified; please apply your changes to the latest version "
                "and try again",
                {"name": name, "group": rtype.group, "kind": rtype.plural},
            )

    def _incoming(
        self, rtype: ResourceType, obj: dict[str, Any], live: dict[str, Any] | None
    ) -> dict[str, Any]:
        """The object as the server would store it (before pruning): kind set, stringData folded
        into data, and the live status kept where status is a subresource."""
        new = copy.deepcopy(obj)
        new.setdefault("apiVersion", rtype.api_version(rtype.versions[0]))
        new["kind"] = rtype.kind
        metadata = new.setdefault("metadata", {})
        for server_owned in (
            "managedFields",
            "uid",
            "creationTimestamp",
            "generation",
            "resourceVersion",
        ):
            metadata.pop(server_owned, None)
        if rtype.namespaced is False:
            metadata.pop("namespace", None)
        if rtype is SECRETS:
            data = dict(new.get("data") or {})
            for key, value in (new.pop("stringData", None) or {}).items():
                data[key] = base64.b64encode(str(value).encode()).decode()
            if data:
                new["data"] = data
        if rtype.status_subresource:
            new.pop("status", None)
            if live is not None and "status" in live:
                new["status"] = copy.deepcopy(live["status"])
        return new

    def _updated_owners(
        self,
        entries: list[dict[str, Any]],
        live: dict[str, Any] | None,
        new: dict[str, Any],
        manager: str,
        only: tuple[str, ...] | None = None,
    ) -> list[dict[str, Any]]:
        """An update (not an apply) takes every field it changed from whoever owned it."""
        old_paths = fields.leaf_paths(fields.tracked(live)) if live else set()
        new_paths = fields.leaf_paths(fields.tracked(new))
        changed = {
            p
            for p in new_paths
            if live is None or fields.value_at(live, p) != fields.value_at(new, p)
        }
        if only is not None:
            changed = {p for p in changed if p[: len(only)] == only}
        gone = old_paths - new_paths
        out = []
        mine = None
        for entry in entries:
            paths = fields.from_fields_v1(entry.get("fieldsV1") or {}) - gone
            if entry["manager"] == manager and entry["operation"] == "Update":
                mine = entry
                paths |= changed
            else:
                paths -= changed
            if paths:
                out.append({**entry, "fieldsV1": fields.to_fields_v1(paths)})
        if mine is None and changed:
            out.append(
                {
                    "manager": manager or "unknown",
                    "operation": "Update",
                    "apiVersion": new["apiVersion"],
                    "fieldsType": "FieldsV1",
                    "fieldsV1": fields.to_fields_v1(changed),
                }
            )
        return out

    def _commit(
        self,
        rtype: ResourceType,
        key: Key,
        live: dict[str, Any] | None,
        new: dict[str, Any],
        entries: list[dict[str, Any]],
        *,
        dry_run: bool,
        strict: bool,
        status: bool = False,
    ) -> Write:
        _, _, namespace, name = key
        warnings: list[str] = []
        if rtype.namespaced and (("", "namespaces", "", namespace) not in self.objects):
            raise ApiError(
                404,
                "NotFound",
                f'namespaces "{namespace}" not found',
                {"name": namespace, "kind": "namespaces"},
            )
        new = self._validated(rtype, new, strict, warnings)
        metadata = new["metadata"]
        metadata["name"] = name
        if rtype.namespaced:
            metadata["namespace"] = namespace
        if live is not None:
            old_entries = _managed(live)
            for entry in entries:
                before = next(
                    (
                        e
                        for e in old_entries
                        if (e["manager"], e["operation"]) == (entry["manager"], entry["operation"])
                    ),
                    None,
                )
                if before is not None and before.get("fieldsV1") == entry.get("fieldsV1"):
                    entry["time"] = before.get("time")
            if _content(live) == _content(new) and _ownership(old_entries) == _ownership(entries):
                return Write(copy.deepcopy(live), created=False, warnings=warnings)
        for entry in entries:
            entry.setdefault("fieldsType", "FieldsV1")
            if not entry.get("time"):
                entry["time"] = _now()
        if live is None:
            metadata["uid"] = str(uuid.uuid4())
            metadata["creationTimestamp"] = _now()
            metadata["generation"] = 1
        else:
            for kept in ("uid", "creationTimestamp", "generation"):
                metadata[kept] = live["metadata"][kept]
            if _spec(live) != _spec(new):
                metadata["generation"] = live["metadata"]["generation"] + 1
        metadata["managedFields"] = entries
        if rtype is NAMESPACES and not status:
            new.setdefault("status", {"phase": "Active"})
        if dry_run:
            metadata["resourceVersion"] = live["metadata"]["resourceVersion"] if live else ""
            return Write(new, created=live is None, warnings=warnings)
        self.revision += 1
        metadata["resourceVersion"] = str(self.revision)
        self.objects[key] = new
        self._written("create" if live is None else "update", key)
        if rtype == CRD and live is None:
            asyncio.get_running_loop().call_later(self.establish_delay, self._establish, name)
        elif rtype == CRD:
            current = self.types.get((new["spec"]["group"], new["spec"]["names"]["plural"]))
            if current is not None:
                self.types[(current.group, current.plural)] = from_crd(new)
        return Write(copy.deepcopy(new), created=live is None, warnings=warnings)

    def _validated(
        self, rtype: ResourceType, new: dict[str, Any], strict: bool, warnings: list[str]
    ) -> dict[str, Any]:
        name = new["metadata"].get("name", "")
        causes: list[schema.Cause] = []
        if rtype == CRD:
            causes = [
                schema.Cause(
                    "FieldValueInvalid" if m != "Required value" else "FieldValueRequired", f, m
                )
                for f, m in crd_problems(new)
            ]
        elif rtype is SECRETS:
            for data_key, value in (new.get("data") or {}).items():
                try:
                    base64.b64decode(str(value), validate=True)
                except binascii.Error:
                    causes.append(
                        schema.Cause(
                            "FieldValueInvalid",
                            f"data[{data_key}]",
                            "Invalid value: illegal base64 data",
                        )
                    )
        else:
            version = new["apiVersion"].rpartition("/")[2]
            openapi = rtype.schemas.get(version)
            if openapi:
                status = new.pop("status", None)
                new, unknown = schema.prune(new, openapi)
                if status is not None:
                    new["status"] = status
                unknown = [u for u in unknown if u[0] not in ("metadata", "status")]
                if unknown and strict:
                    listed = ", ".join(f'unknown field "{".".join(u)}"' for u in unknown)
                    raise ApiError(400, "BadRequest", f"strict decoding error: {listed}")
                warnings += [f'unknown field "{".".join(u)}"' for u in unknown]
                causes = schema.validate({k: v for k, v in new.items() if k != "status"}, openapi)
        if causes:
            listed = ", ".join(f"{c.field}: {c.message}" for c in causes)
            message = f'{rtype.qualified_kind} "{name}" is invalid: ' + (
                f"[{listed}]" if len(causes) > 1 else listed
            )
            raise ApiError(
                422,
                "Invalid",
                message,
                {
                    "name": name,
                    "group": rtype.group,
                    "kind": rtype.kind,
                    "causes": [
                        {"reason": c.reason, "message": c.message, "field": c.field} for c in causes
                    ],
                },
            )
        return new

    def _written(self, verb: str, key: Key) -> None:
        self.writes.append((verb, key))
        for callback in self.on_write:
            callback()


def _managed(obj: dict[str, Any] | None) -> list[dict[str, Any]]:
    return copy.deepcopy((obj or {}).get("metadata", {}).get("managedFields") or [])


def _ownership(entries: list[dict[str, Any]]) -> list[tuple[str, str, Any]]:
    return sorted((e["manager"], e["operation"], repr(e.get("fieldsV1"))) for e in entries)


def _content(obj: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(obj)
    for server_owned in (
        "managedFields",
        "resourceVersion",
        "generation",
        "uid",
        "creationTimestamp",
    ):
        out["metadata"].pop(server_owned, None)
    return out


def _spec(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion", "kind")}
