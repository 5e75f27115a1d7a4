"""A system is told only what is proven: the notice's subject carries no claimed identifier.

The system is a `webhook` connector on loopback (the recorder of
`test_withdrawal`) that matches on email and phone; what it receives is read
back from the wire, not from the engine's own objects.
"""

import pytest
from test_processing import (  # noqa: F401 - hook_secret: the autouse fixture
    ANSWER,
    hook,
    hook_secret,
    instance,
    new_request,
    post_callback,
)
from test_withdrawal import system  # noqa: F401 - the recording system, a fixture

from dsr.extensions import db
from dsr.identity import claims, rerun
from dsr.models import DataRequest


@pytest.fixture
def app(make_app, system):  # noqa: F811 - the fixture imported above
    return make_app(INSTANCE=instance(hook=hook(url=system.url, match_on=["email", "phone"])))


def test_a_claimed_phone_never_reaches_the_system(app, run_jobs, system):  # noqa: F811
    new_request(app, phone="06 39 98 00 01")
    run_jobs()
    [notice] = system.notices
    assert notice["subject"] == {
        "email": "alice@example.org",
        "name": "Alice Martin",
        "identifiers": {},
    }


def test_a_proven_phone_reaches_the_system_when_the_task_runs_again(app, run_jobs, system):  # noqa: F811
    request_id = new_request(app, phone="06 39 98 00 01")
    run_jobs()
    [notice] = system.notices  # the system answers for the email alone: the request is in review
    assert post_callback(app.test_client(), notice["task_id"], ANSWER).status_code == 200
    with app.app_context():
        request = db.session.get(DataRequest, request_id)
        assert request.status == "review"
        claims.prove_by_handler(request, "phone", "06 39 98 00 01", note="bill", actor="staff:t")
        db.session.commit()
        rerun.rerun(request, actor="staff:t")
    run_jobs()
    assert system.notices[-1]["subject"]["identifiers"] == {"phone": ["+33639980001"]}
