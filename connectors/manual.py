"""The `manual` kind: a person does the action in a system the engine cannot reach."""

from connectors.base import PENDING, Connector, TaskOrder


class ManualConnector(Connector):
    """Every action is left to a handler, who does it and records the outcome on the
    case page; until then the task stays pending."""

    kind = "manual"
    calls_back = True

    def _leave_to_handler(self, order: TaskOrder, sink):
        return PENDING

    access = erase = rectify = restrict = lift_restriction = _leave_to_handler
    object = withdraw_consent = _leave_to_handler
