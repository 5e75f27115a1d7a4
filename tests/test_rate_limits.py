"""Rate limits: a refusal says when to come back; the limits are per IP and per address."""

import pytest

URL = "/api/v1/requests"


def submit(client, email: str = "alice@example.org"):
    body = {"type": "access", "email": email, "name": "Alice", "language": "en"}
    return client.post(URL, json=body)


@pytest.mark.parametrize(
    "limits",
    [{"RATELIMIT_SUBMIT_EMAIL": "1 per hour"}, {"RATELIMIT_SUBMIT_IP": "1 per hour"}],
    ids=["per-email", "per-ip"],
)
def test_refusal_has_retry_after_within_the_window(make_app, limits):
    client = make_app(**limits).test_client()
    assert submit(client).status_code == 201
    refused = submit(client)
    assert refused.status_code == 429
    assert refused.get_json()["error"]["code"] == "too_many_requests"
    assert 0 < int(refused.headers["Retry-After"]) <= 3600


def test_accepted_submission_reads_no_rate_limit_headers(make_app):
    """X-RateLimit-* headers are off by default: they cost two Redis reads per request."""
    response = submit(make_app(RATELIMIT_SUBMIT_EMAIL="5 per hour").test_client())
    assert response.status_code == 201
    assert not [name for name in response.headers.keys() if name.lower().startswith("x-ratelimit")]
    assert "Retry-After" not in response.headers
