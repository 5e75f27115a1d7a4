"""The `http` kind: a REST endpoint that does the action and answers at once.

`POST <url>` with the task notice as JSON (`callback_url` empty), signed with
the instance secret; a 2xx reply carries the answer body (`connectors.answer`),
whose records are streamed to the sink as they arrive.
"""

from connectors.answer import MalformedAnswer, read_answer
from connectors.base import Connector, ConnectorError, RecordSink, Result, TaskOrder
from connectors.outcome import Tally
from connectors.transport import check_url, post_json


class HttpConnector(Connector):
    """A system called synchronously; the remote side decides which actions it does.

    `secret_env` is optional so that a system on a trusted network can be tried
    quickly, but production should always sign: the signature is how the
    system knows the order comes from us.
    """

    kind = "http"
    settings_defaults = {"url": None}
    #: `url_env = "VARIABLE"` may stand for `url`
    env_settings = ("url",)

    def configure(self, settings: dict) -> None:
        self.url = check_url(settings["url"])

    def _call(self, order: TaskOrder, sink: RecordSink) -> Result:
        """Send the order and read the answer; every action goes the same way."""
        notice = {**order.notice(), "callback_url": ""}
        tally = Tally(sink)
        with post_json(self.name, self.url, notice, self.secret, self.timeout) as response:
            try:
                answer = read_answer(response, tally, task_id=order.task_id)
            except MalformedAnswer as exc:
                raise ConnectorError(f"{self.name} sent a malformed answer: {exc}") from None
        if answer.status == "failed":
            raise ConnectorError(f"{self.name} failed: {answer.error or 'no reason given'}")
        return Result(outcome=answer.outcome or tally.summary())

    access = erase = rectify = restrict = lift_restriction = _call
    object = withdraw_consent = _call
