"""dsr.sealed: wrapped data keys and sealed streams, on real files."""

import base64
import io
import json
import struct

import pytest

from dsr import sealed

KEY = bytes(range(32))
CONTEXT = "task-1/contacts.jsonl"


def seal(path, data: bytes, *, key=KEY, context=CONTEXT, pieces=1) -> None:
    writer = sealed.SealedWriter(open(path, "wb"), key, context)
    step = max(1, len(data) // pieces)
    for start in range(0, len(data), step):
        writer.write(data[start : start + step])
    writer.close()


def unseal(path, *, key=KEY, context=CONTEXT) -> bytes:
    with open(path, "rb") as handle:
        return sealed.SealedReader(handle, key, context).readall()


@pytest.mark.parametrize(
    "size", [0, 1, sealed.CHUNK - 1, sealed.CHUNK, sealed.CHUNK + 1, 3 * sealed.CHUNK + 17]
)
def test_round_trip_at_every_segment_boundary(tmp_path, size):
    data = bytes(index % 251 for index in range(size))
    seal(tmp_path / "f", data, pieces=7)
    assert unseal(tmp_path / "f") == data


def test_an_empty_stream_is_one_sealed_segment(tmp_path):
    seal(tmp_path / "f", b"")
    raw = (tmp_path / "f").read_bytes()
    assert len(raw) == sealed.HEADER_SIZE + 4 + sealed.TAG
    assert unseal(tmp_path / "f") == b""


def test_the_file_holds_no_clear_text_and_two_files_differ(tmp_path):
    data = b'{"email": "camille.durand@example.org"}\n' * 100
    seal(tmp_path / "a", data)
    seal(tmp_path / "b", data)
    assert b"camille" not in (tmp_path / "a").read_bytes()
    assert (tmp_path / "a").read_bytes() != (tmp_path / "b").read_bytes()


def test_records_spanning_segments_read_back_line_by_line(tmp_path):
    records = [{"n": n, "text": "é" * 5000} for n in range(60)]  # ~600 KB, lines cut by chunks
    seal(tmp_path / "f", "".join(json.dumps(r) + "\n" for r in records).encode(), pieces=60)
    with open(tmp_path / "f", "rb") as handle:
        raw = sealed.SealedReader(handle, KEY, CONTEXT)
        lines = io.TextIOWrapper(io.BufferedReader(raw), encoding="utf-8")
        assert [json.loads(line) for line in lines] == records


def segments(path) -> list[tuple[int, int]]:
    """(offset, length) of each segment's ciphertext."""
    raw, found, offset = path.read_bytes(), [], sealed.HEADER_SIZE
    while offset < len(raw):
        (word,) = struct.unpack(">I", raw[offset : offset + 4])
        length = word & ~sealed.LAST
        found.append((offset + 4, length))
        offset += 4 + length
    return found


@pytest.fixture
def three_segments(tmp_path):
    path = tmp_path / "f"
    seal(path, b"x" * (2 * sealed.CHUNK + 10))
    assert len(segments(path)) == 3
    return path


def test_a_flipped_bit_in_a_segment_is_refused(three_segments):
    raw = bytearray(three_segments.read_bytes())
    start, _ = segments(three_segments)[1]
    raw[start + 5] ^= 1
    three_segments.write_bytes(raw)
    with pytest.raises(sealed.SealedError, match="segment 1 does not open"):
        unseal(three_segments)


def test_a_file_cut_at_a_segment_boundary_is_refused(three_segments):
    start, length = segments(three_segments)[1]
    three_segments.write_bytes(three_segments.read_bytes()[: start + length])
    with pytest.raises(sealed.SealedError, match="truncated"):
        unseal(three_segments)


def test_a_file_cut_inside_a_segment_is_refused(three_segments):
    three_segments.write_bytes(three_segments.read_bytes()[:-3])
    with pytest.raises(sealed.SealedError, match="truncated"):
        unseal(three_segments)


def test_swapped_segments_are_refused(three_segments):
    raw = three_segments.read_bytes()
    (first, length), (second, _), _ = segments(three_segments)
    swapped = raw[: first - 4] + raw[second - 4 : second + length] + raw[first - 4 : first + length]
    three_segments.write_bytes(swapped + raw[second + length :])
    with pytest.raises(sealed.SealedError, match="segment 0 does not open"):
        unseal(three_segments)


def test_a_non_final_segment_passed_off_as_the_last_is_refused(three_segments):
    raw = bytearray(three_segments.read_bytes())
    start, length = segments(three_segments)[0]
    raw[start - 4 : start] = struct.pack(">I", length | sealed.LAST)
    three_segments.write_bytes(raw[: start + length])
    with pytest.raises(sealed.SealedError, match="segment 0 does not open"):
        unseal(three_segments)


def test_data_after_the_last_segment_is_refused(three_segments):
    three_segments.write_bytes(three_segments.read_bytes() + b"more")
    with pytest.raises(sealed.SealedError, match="follows the last segment"):
        unseal(three_segments)


def test_a_wrong_key_or_another_place_is_refused(three_segments):
    with pytest.raises(sealed.SealedError, match="wrong key"):
        unseal(three_segments, key=bytes(32))
    with pytest.raises(sealed.SealedError, match="wrong key"):
        unseal(three_segments, context="task-2/contacts.jsonl")


def test_a_file_that_is_not_sealed_is_refused(tmp_path):
    (tmp_path / "f").write_bytes(b'{"email": "camille.durand@example.org"}\n')
    with pytest.raises(sealed.SealedError, match="not a sealed file"):
        unseal(tmp_path / "f")


def test_a_wrapped_key_opens_only_with_its_master_key_and_its_request():
    data_key = sealed.new_key()
    wrapped = sealed.wrap(KEY, data_key, "DSR-2026-000001")
    assert data_key not in wrapped
    assert sealed.unwrap(KEY, wrapped, "DSR-2026-000001") == data_key
    with pytest.raises(sealed.SealedError, match="DSR_DATA_KEY"):
        sealed.unwrap(bytes(32), wrapped, "DSR-2026-000001")
    with pytest.raises(sealed.SealedError, match="DSR_DATA_KEY"):
        sealed.unwrap(KEY, wrapped, "DSR-2026-000002")
    with pytest.raises(sealed.SealedError, match="not a wrapped key"):
        sealed.unwrap(KEY, wrapped[:-1], "DSR-2026-000001")


@pytest.mark.parametrize(
    ("text", "message"),
    [("abc", "32 bytes"), ("00" * 31, "32 bytes"), ("zz" * 32, "hex digits or base64")],
)
def test_a_bad_master_key_text_is_refused(text, message):
    with pytest.raises(ValueError, match=message):
        sealed.parse_key(text)


def test_a_master_key_reads_as_hex_or_base64():
    assert sealed.parse_key(KEY.hex()) == KEY
    assert sealed.parse_key(base64.b64encode(KEY).decode()) == KEY
    assert sealed.parse_key(base64.urlsafe_b64encode(KEY).decode().rstrip("=")) == KEY
