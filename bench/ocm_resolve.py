"""Resolving a root component with 25 references from a real registry: cold, then warm.

Cold: an empty disk cache. Warm: a new reader over the same cache, as a re-render or the next
poll would be. The counts are requests the registry store makes (the one-off probe of the
registry's auth scheme excluded); the targets are none for a warm re-resolve and the single
tag-list request for a poll that finds no new version.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import yaml

from bench.measure import best_time, report
from bot.ocm import open_reader, open_store
from bot.ocm.builder import build
from bot.ocm.location import parse_repository
from tests.peers.registry import run_registry

REFERENCES = 25
TARGETS = {"time": 0.5}  # warm at most half the cold time
REQUEST_TARGETS = {"warm re-resolve": 0, "no-new-version poll": 1}


def constructor(folder: Path) -> Path:
    (folder / "files").mkdir()
    (folder / "files" / "a.yaml").write_text("a: 1\n" * 200)
    children = [
        {"name": f"acme.io/child-{i}", "version": "1.0.0", "provider": {"name": "acme"},
         "resources": [{"name": "files", "type": "fileSystem",
                        "input": {"type": "dir", "path": "files"}}]}
        for i in range(REFERENCES)
    ]  # fmt: skip
    root = {
        "name": "acme.io/root", "version": "1.0.0", "provider": {"name": "acme"},
        "componentReferences": [
            {"name": f"child-{i}", "componentName": f"acme.io/child-{i}", "version": "1.0.0"}
            for i in range(REFERENCES)
        ],
    }  # fmt: skip
    path = folder / "constructor.yaml"
    path.write_text(yaml.safe_dump({"components": [root, *children]}))
    return path


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp, run_registry(Path(tmp) / "registry") as registry:
        folder = Path(tmp)
        repository = parse_repository(f"http://{registry.host}/bench")
        build(constructor(folder), open_store(repository), prefix="bench")

        def cold() -> None:
            with tempfile.TemporaryDirectory() as cache:
                open_reader(repository, cache_dir=Path(cache)).resolve("acme.io/root", "1.0.0")

        warm_cache = folder / "warm-cache"
        open_reader(repository, cache_dir=warm_cache).resolve("acme.io/root", "1.0.0")
        warm_reader = open_reader(repository, cache_dir=warm_cache)
        inner = warm_reader.store.inner  # type: ignore[attr-defined]

        def warm() -> None:
            open_reader(repository, cache_dir=warm_cache).resolve("acme.io/root", "1.0.0")

        results = {"time": (best_time(warm, 5), best_time(cold, 5))}
        inner._backend = "token"  # the auth probe happens once per process, not per resolve
        warm_reader.resolve("acme.io/root", "1.0.0")
        counts = {"warm re-resolve": inner.requests}
        warm_reader.list_versions("acme.io/root")
        counts["no-new-version poll"] = inner.requests - counts["warm re-resolve"]

    failed = report(
        f"resolving a root with {REFERENCES} references, warm cache vs cold:", results, TARGETS
    )
    for name, count in counts.items():
        verdict = "ok" if count <= REQUEST_TARGETS[name] else "OVER TARGET"
        failed |= count > REQUEST_TARGETS[name]
        print(
            f"  {name}: {count} registry request(s) (target <= {REQUEST_TARGETS[name]})  {verdict}"
        )
    return failed


if __name__ == "__main__":
    raise SystemExit(main())
