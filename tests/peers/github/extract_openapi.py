"""Extract the operations bootstrap-bot uses from GitHub's official REST OpenAPI description.

Run once against an unpacked `@octokit/openapi` npm package (not needed in CI):

    npm pack @octokit/openapi@23.0.2 && tar xzf octokit-openapi-23.0.2.tgz
    python -m tests.peers.github.extract_openapi package/generated/api.github.com.deref.json

It writes `tests/fixtures/github/openapi-subset.json`: the dereferenced operations below, with
their parameters, request bodies, responses and examples, exactly as GitHub publishes them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

#: (method, path) of every REST operation the bot or its test peer relies on.
OPERATIONS: tuple[tuple[str, str], ...] = (
    ("get", "/app"),
    ("get", "/app/installations"),
    ("post", "/app/installations/{installation_id}/access_tokens"),
    ("get", "/installation/repositories"),
    ("get", "/repos/{owner}/{repo}"),
    ("get", "/repos/{owner}/{repo}/installation"),
    ("get", "/repos/{owner}/{repo}/contents/{path}"),
    ("get", "/repos/{owner}/{repo}/git/ref/{ref}"),
    ("delete", "/repos/{owner}/{repo}/git/refs/{ref}"),
    ("get", "/repos/{owner}/{repo}/pulls"),
    ("post", "/repos/{owner}/{repo}/pulls"),
    ("get", "/repos/{owner}/{repo}/pulls/{pull_number}"),
    ("patch", "/repos/{owner}/{repo}/pulls/{pull_number}"),
    ("get", "/repos/{owner}/{repo}/issues/{issue_number}/comments"),
    ("post", "/repos/{owner}/{repo}/issues/{issue_number}/comments"),
    ("patch", "/repos/{owner}/{repo}/issues/comments/{comment_id}"),
    ("post", "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions"),
    ("post", "/repos/{owner}/{repo}/check-runs"),
    ("patch", "/repos/{owner}/{repo}/check-runs/{check_run_id}"),
    ("get", "/repos/{owner}/{repo}/commits/{ref}/check-runs"),
    ("get", "/repos/{owner}/{repo}/collaborators/{username}/permission"),
    ("get", "/repos/{owner}/{repo}/keys"),
    ("post", "/repos/{owner}/{repo}/keys"),
    ("delete", "/repos/{owner}/{repo}/keys/{key_id}"),
)

SUBSET = Path(__file__).parents[2] / "fixtures" / "github" / "openapi-subset.json"


def extract(spec: dict[str, object]) -> dict[str, object]:
    paths = spec["paths"]
    assert isinstance(paths, dict)
    subset: dict[str, dict[str, object]] = {}
    for method, path in OPERATIONS:
        subset.setdefault(path, {})[method] = paths[path][method]
    return {"openapi": spec["openapi"], "info": spec["info"], "paths": subset}


if __name__ == "__main__":
    spec = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    SUBSET.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(extract(spec), indent=1, sort_keys=True, ensure_ascii=False)
    SUBSET.write_text(text + "\n", encoding="utf-8")
    print(f"{SUBSET}: {len(OPERATIONS)} operations, {SUBSET.stat().st_size} bytes")
