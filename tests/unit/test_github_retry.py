"""The retry policy, as a pure function of the failed answer."""

from __future__ import annotations

import pytest

from bot.adapters.github.retry import RetryPolicy, retry_delay

POLICY = RetryPolicy(attempts=4, backoff=0.5, secondary_wait=60.0)


def delay(
    method: str = "GET",
    url: str = "https://api.github.com/repos/o/r",
    status: int = 502,
    headers: dict[str, str] | None = None,
    message: str = "",
    attempt: int = 1,
    now: float = 1000.0,
) -> float | None:
    return retry_delay(
        POLICY,
        method=method,
        url=url,
        status=status,
        headers=headers or {},
        message=message,
        attempt=attempt,
        now=now,
    )


def test_server_errors_back_off_exponentially_until_the_last_attempt():
    assert [delay(attempt=n) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, None]


@pytest.mark.parametrize(
    ("method", "url", "expected"),
    [
        ("PATCH", "https://api.github.com/repos/o/r/pulls/1", 0.5),
        ("POST", "https://api.github.com/repos/o/r/pulls", None),
        ("POST", "https://api.github.com/repos/o/r/check-runs", None),
        ("POST", "https://api.github.com/app/installations/1/access_tokens", 0.5),
        ("POST", "https://api.github.com/repos/o/r/issues/comments/1/reactions", 0.5),
    ],
)
def test_only_requests_safe_to_repeat_are_repeated_after_a_server_error(method, url, expected):
    assert delay(method=method, url=url) == expected


def test_rate_limits_wait_as_github_says():
    assert delay(status=429, headers={"retry-after": "12"}) == 12.0
    reset = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1030"}
    assert delay(status=403, headers=reset, now=1000.0) == 31.0
    assert delay(status=403, headers=reset, now=2000.0) == 1.0  # reset already passed
    secondary = "You have exceeded a secondary rate limit"
    assert delay(status=403, message=secondary, attempt=2) == 120.0
    # Rate limits are waited out for any method: GitHub did not do the request.
    assert delay(method="POST", url="https://api.github.com/repos/o/r/pulls", status=429) == 60.0


def test_other_client_errors_are_not_repeated():
    assert delay(status=403, message="Resource not accessible by integration") is None
    assert delay(status=404) is None
    assert delay(status=422) is None
