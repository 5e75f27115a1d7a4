"""The `webhook` kind: a system told of the task now, that answers later.

`POST <url>` with the task notice (`callback_url` set), signed with the
instance secret; a 2xx reply means the system accepted the task, and it will
POST its answer, signed with the same secret, to the callback URL.
"""

from connectors.base import PENDING, Connector, ConnectorConfigError, ConnectorError, TaskOrder
from connectors.transport import check_url, post_json


class WebhookConnector(Connector):
    """A system that works asynchronously; the remote side decides which actions it does."""

    kind = "webhook"
    settings_defaults = {"url": None}
    #: `url_env = "VARIABLE"` may stand for `url`
    env_settings = ("url",)
    calls_back = True

    def configure(self, settings: dict) -> None:
        self.url = check_url(settings["url"])
        if not self.secret:
            raise ConnectorConfigError(
                "secret_env is required for kind webhook: the callbacks are checked with it"
            )

    def _notify(self, order: TaskOrder, sink):
        """Send the notice; the records come later, with the callback."""
        if not order.callback_url:
            raise ConnectorError(f"{self.name}: the task has no callback URL to give")
        with post_json(self.name, self.url, order.notice(), self.secret, self.timeout):
            pass  # a 2xx is the whole answer; a body, if any, means nothing in the protocol
        return PENDING

    access = erase = rectify = restrict = lift_restriction = _notify
    object = withdraw_consent = _notify
