"""The fake GitHub holds requests to GitHub's published contract: the validator bites."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.peers.github import FakeGitHub
from tests.peers.github.contract import ContractViolation, load_contract

pytestmark = pytest.mark.peers


def test_githubs_own_example_requests_pass_the_validator():
    """The positive control: every request example GitHub publishes is accepted."""
    contract = load_contract()
    checked = 0
    for operation in contract.operations:
        body = operation.spec.get("requestBody")
        if body is None:
            continue
        for example in body["content"]["application/json"].get("examples", {}).values():
            contract.check_request(operation, {}, json.dumps(example["value"]).encode())
            checked += 1
    assert checked >= 8


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        ({"head": "x", "base": "main", "title": 5}, "title: 5 is not of type 'string'"),
        ({"base": "main", "title": "t"}, "'head' is a required property"),
    ],
)
def test_a_pull_request_body_outside_the_schema_is_refused(body, complaint):
    contract = load_contract()
    operation, _ = contract.match("POST", "/repos/o/r/pulls")
    with pytest.raises(ContractViolation) as refused:
        contract.check_request(operation, {}, json.dumps(body).encode())
    assert refused.value.status == 422
    assert complaint in refused.value.message


@pytest.fixture
async def repo_client(fake_github: FakeGitHub):
    installation = fake_github.add_installation("example-org")
    fake_github.add_repository(installation, "landscape")
    token = fake_github.state.mint_token(installation.id, expires_at=2**40)
    headers = {"Authorization": f"token {token.value}", "Accept": "application/vnd.github+json"}
    async with httpx.AsyncClient(base_url=fake_github.url, headers=headers) as client:
        yield client


async def test_requests_outside_the_contract_get_githubs_answers(repo_client, fake_github):
    base = "/repos/example-org/landscape"
    unknown_query = await repo_client.get(f"{base}/pulls", params={"status": "open"})
    assert unknown_query.status_code == 422
    assert "unknown query parameter 'status'" in unknown_query.json()["message"]

    bad_enum = await repo_client.get(f"{base}/pulls", params={"state": "merged"})
    assert bad_enum.status_code == 422 and "'merged' is not one of" in bad_enum.json()["message"]

    annotation = {
        "path": "a",
        "start_line": 1,
        "end_line": 1,
        "annotation_level": "error",
        "message": "m",
    }
    check = await repo_client.post(
        f"{base}/check-runs",
        json={
            "name": "n",
            "head_sha": "0" * 40,
            "output": {"title": "t", "summary": "s", "annotations": [annotation]},
        },
    )
    assert check.status_code == 422 and "annotation_level" in check.json()["message"]

    assert (await repo_client.get(f"{base}/no-such-thing")).status_code == 404
    assert (await repo_client.put(f"{base}/pulls", json={})).status_code == 405
    assert (await repo_client.post(f"{base}/pulls", content=b"{nope")).status_code == 400
    stray_body = await repo_client.request("GET", f"{base}/git/ref/heads/main", content=b"{}")
    assert stray_body.status_code == 400
    # Nothing was created by any of them.
    assert fake_github.state.pulls == {} and fake_github.state.check_runs == {}


async def test_authentication_is_githubs(repo_client, fake_github):
    anonymous = await repo_client.get("/repos/example-org/landscape", headers={"Authorization": ""})
    assert anonymous.status_code == 401
    wrong = await repo_client.get(
        "/repos/example-org/landscape", headers={"Authorization": "token ghs_forged"}
    )
    assert wrong.status_code == 401 and wrong.json()["message"] == "Bad credentials"
    # An installation token is not an App JWT.
    assert (await repo_client.post("/app/installations/1/access_tokens")).status_code == 401
    # Another installation's repository is invisible, as on GitHub.
    other = fake_github.add_installation("other-org")
    fake_github.add_repository(other, "private")
    assert (await repo_client.get("/repos/other-org/private")).status_code == 404
