"""The manual kind: every action is left to a handler, so every task stays pending."""

import pytest

from connectors import registry
from connectors.base import ACTIONS, PENDING, ConnectorError, TaskOrder
from connectors.matching import Subject


def order(action: str) -> TaskOrder:
    return TaskOrder("t-1", "DSR-2025-000001", action, Subject.from_request("a@example.fr"))


def test_every_action_is_pending_until_a_handler_records_it():
    desk = registry.build("desk", {"kind": "manual"}, {})
    assert desk.calls_back is True
    assert desk.supported_actions() == ACTIONS
    assert [desk.run(order(action), sink=None) for action in ACTIONS] == [PENDING] * len(ACTIONS)


def test_an_action_left_out_of_the_instance_is_refused():
    desk = registry.build("desk", {"kind": "manual", "actions": ["access"]}, {})
    with pytest.raises(ConnectorError, match="desk does not do 'erase'"):
        desk.run(order("erase"), sink=None)
