"""A release whose references go on without end is refused while it is resolved: too deep or
too many component versions, each said with where it stopped."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.ocm.builder import build
from bot.ocm.ctf import CTFStore
from bot.ocm.location import Repository
from bot.ocm.model import ComponentVersion
from bot.ocm.reader import MAX_REFERENCE_DEPTH, ComponentError, ComponentReader


def chain_reader(tmp_path: Path, components: list[dict[str, object]]) -> ComponentReader:
    constructor = tmp_path / "component-constructor.yaml"
    constructor.write_text(yaml.safe_dump({"components": components}))
    store = CTFStore(tmp_path / "ctf", create=True)
    build(constructor, store)
    return ComponentReader(store, Repository("ctf", path=str(tmp_path / "ctf")))


def component(i: int, references: list[int]) -> dict[str, object]:
    return {
        "name": f"acme.io/c{i}",
        "version": "v1.0.0",
        "provider": {"name": "acme"},
        "componentReferences": [
            {"name": f"r{j}", "componentName": f"acme.io/c{j}", "version": "v1.0.0"}
            for j in references
        ],
    }


def test_a_chain_as_deep_as_the_limit_resolves(tmp_path):
    depth = MAX_REFERENCE_DEPTH
    reader = chain_reader(
        tmp_path, [component(i, [i + 1]) for i in range(depth)] + [component(depth, [])]
    )
    assert len(reader.resolve("acme.io/c0", "v1.0.0").versions) == depth + 1


def test_a_chain_deeper_than_the_limit_is_refused_where_it_goes_too_deep(tmp_path):
    depth = MAX_REFERENCE_DEPTH + 1
    reader = chain_reader(
        tmp_path, [component(i, [i + 1]) for i in range(depth)] + [component(depth, [])]
    )
    with pytest.raises(ComponentError) as caught:
        reader.resolve("acme.io/c0", "v1.0.0")
    assert str(caught.value).endswith(
        f"//acme.io/c0:v1.0.0: references go deeper than {MAX_REFERENCE_DEPTH} levels "
        f"(acme.io/c{depth - 1}:v1.0.0 references acme.io/c{depth}:v1.0.0)"
    )


def test_more_component_versions_than_the_limit_are_refused_before_they_are_read(
    tmp_path, monkeypatch
):
    monkeypatch.setattr("bot.ocm.reader.MAX_COMPONENT_VERSIONS", 5)
    reader = chain_reader(
        tmp_path, [component(0, list(range(1, 8)))] + [component(i, []) for i in range(1, 8)]
    )
    read: list[str] = []
    get = reader.get

    def counted(name: str, version: str) -> ComponentVersion:
        read.append(name)
        return get(name, version)

    monkeypatch.setattr(reader, "get", counted)
    with pytest.raises(ComponentError, match="references more than 5 component versions"):
        reader.resolve("acme.io/c0", "v1.0.0")
    assert len(read) == 5  # the root and four references; the sixth was never fetched
