"""The answer body parser: good answers, streamed record by record, and every malformed shape."""

import io
import json
import re

import pytest

from connectors.answer import Answer, MalformedAnswer, read_answer
from connectors.base import ConnectorError


class ListSink:
    def __init__(self):
        self.records = []

    def write(self, table, record):
        self.records.append((table, record))


def read(body) -> tuple[Answer, list]:
    sink = ListSink()
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return read_answer(io.BytesIO(raw), sink), sink.records


def test_minimal_answer():
    assert read({"status": "succeeded"}) == (Answer("succeeded"), [])


def test_full_answer_with_records_before_status_and_unknown_keys():
    body = {
        "version": {"ignored": [1, {"deep": True}]},
        "records": {
            "contacts": [
                {"id": 1, "name": "Élodie", "tags": ["a", "b"], "address": {"city": "Lyon"}}
            ],
            "tickets": [{"id": 7, "score": 4.5, "closed": None}, {"id": 8, "score": 3}],
            "empty": [],
        },
        "outcome": "found 1 contact, 2 tickets",
        "status": "succeeded",
        "extra": "ignored too",
    }
    answer, records = read(body)
    assert answer == Answer("succeeded", outcome="found 1 contact, 2 tickets")
    assert records == [
        ("contacts", body["records"]["contacts"][0]),
        ("tickets", {"id": 7, "score": 4.5, "closed": None}),
        ("tickets", {"id": 8, "score": 3}),
    ]
    assert type(records[1][1]["score"]) is float  # not Decimal: the sink may json.dumps it


def test_failed_answer_keeps_its_error_and_null_means_absent():
    answer, records = read(
        {"status": "failed", "error": "CRM is down", "outcome": None, "records": None}
    )
    assert answer == Answer("failed", error="CRM is down")
    assert records == []


class GeneratedBody(io.RawIOBase):
    """A body produced as it is read, so the test sees how much was read at each record."""

    def __init__(self, count: int):
        self.chunks = self._chunks(count)
        self.pending = b""
        self.produced = 0

    @staticmethod
    def _chunks(count):
        yield b'{"status": "succeeded", "records": {"trips": ['
        for i in range(count):
            yield (b"," if i else b"") + json.dumps({"id": i, "place": "x" * 50}).encode()
        yield b"]}}"

    def readable(self):
        return True

    def readinto(self, buffer):
        while not self.pending:
            self.pending = next(self.chunks, b"")
            if not self.pending:
                return 0
        size = min(len(buffer), len(self.pending))
        buffer[:size], self.pending = self.pending[:size], self.pending[size:]
        self.produced += size
        return size


def test_ten_thousand_records_reach_the_sink_one_by_one_while_reading():
    body = GeneratedBody(10_000)

    class CountingSink:
        count = 0
        read_at_first = None

        def write(self, table, record):
            assert table == "trips" and record["id"] == self.count
            if self.count == 0:
                self.read_at_first = body.produced
            self.count += 1

    sink = CountingSink()
    answer = read_answer(io.BufferedReader(body), sink)
    assert answer.status == "succeeded"
    assert sink.count == 10_000
    # the first record was handed over long before the ~700 kB body was read
    assert sink.read_at_first < body.produced / 5


@pytest.mark.parametrize(
    "body, message",
    [
        (b"", "not valid JSON"),
        (b"<html>Bad gateway</html>", "not valid JSON"),
        (b'{"status": "succeeded", "records": {"t": [{"a": 1}', "not valid JSON"),
        (b'{"status": "succeeded"} trailing', "not valid JSON"),
        (b'["status", "succeeded"]', "must be a JSON object"),
        (b'"succeeded"', "must be a JSON object"),
        (b"{}", '"status" must be "succeeded" or "failed", not missing'),
        (b'{"status": "done"}', "not 'done'"),
        (b'{"status": 1}', '"status" must be a string'),
        (b'{"status": "succeeded", "records": [{"a": 1}]}', '"records" must be an object'),
        (b'{"status": "succeeded", "records": {"t": {"a": 1}}}', '"records.t" must be an array'),
        (b'{"status": "succeeded", "records": {"t": [{"a": 1}, 2]}}', '"records.t[1]" must be'),
        (b'{"status": "failed", "error": {"code": 5}}', '"error" must be a string'),
        (b'{"status": "succeeded", "outcome": 3}', '"outcome" must be a string'),
    ],
)
def test_malformed_answers_are_refused_with_a_readable_message(body, message):
    with pytest.raises(MalformedAnswer, match=re.escape(message)) as caught:
        read(body)
    assert isinstance(caught.value, ConnectorError)  # a failed attempt, retried
    assert "\n" not in str(caught.value)
