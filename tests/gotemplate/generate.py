"""Regenerate golden.json: render every case of cases.py with Go's own text/template.

Needs Debian's Go and the Go sources of sprig and sigs.k8s.io/yaml, which the oracle imports in
GOPATH mode (`apt-get install golang-go golang-github-masterminds-sprig-dev
golang-k8s-sigs-yaml-dev`). CI does not run this; it only reads the committed golden.json.
Run from the repository root:

    python -m tests.gotemplate.generate
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.gotemplate.cases import all_cases

HERE = Path(__file__).parent
GOLDEN = HERE / "golden.json"
GOPATH = "/usr/share/gocode"  # Debian's GOPATH-mode sources (sprig without /v3)


def build_oracle(workdir: Path) -> Path:
    binary = workdir / "oracle"
    env = {**os.environ, "GO111MODULE": "off", "GOPATH": GOPATH, "GOCACHE": str(workdir / "cache")}
    subprocess.run(
        ["go", "build", "-o", str(binary), str(HERE / "oracle" / "main.go")], check=True, env=env
    )
    return binary


def main() -> int:
    cases = all_cases()
    with tempfile.TemporaryDirectory() as tmp:
        oracle = build_oracle(Path(tmp))
        version = subprocess.run(["go", "version"], capture_output=True, text=True, check=True)
        result = subprocess.run(
            [str(oracle)], input=json.dumps(cases), capture_output=True, text=True, check=True
        )
    results = {r["name"]: r for r in json.loads(result.stdout)}
    golden = {
        "generator": f"{version.stdout.strip()}, text/template, sprig 3.2.3 (Debian)",
        "cases": [
            {**c, "output": results[c["name"]]["output"], "error": results[c["name"]]["error"]}
            for c in cases
        ],
    }
    GOLDEN.write_text(json.dumps(golden, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {len(cases)} cases to {GOLDEN}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
