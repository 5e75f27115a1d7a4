"""Small writers the pack is made of: hashing and counting, text batching, a zipfile target.

`zipfile` writes to a stream it cannot seek (it then uses data descriptors)
as long as the stream can `write`, `tell` and `flush`; `SealedTarget` gives a
`sealed.SealedWriter` those three, so the ZIP is sealed as it is written.
"""

import hashlib
from typing import BinaryIO

from dsr import sealed

#: characters gathered before they are encoded and passed on (fewer, larger writes)
TEXT_BATCH = 256 * 1024


class SealedTarget:
    """What `zipfile.ZipFile` writes to: a `SealedWriter`, with the offset zipfile asks for.

    It hashes the ZIP on its way (its size is `tell()`), for the audit event.
    """

    def __init__(self, writer: sealed.SealedWriter):
        self._writer, self._hash, self._offset = writer, hashlib.sha256(), 0

    def write(self, data: bytes) -> int:
        self._hash.update(data)
        self._writer.write(data)
        self._offset += len(data)
        return len(data)

    def tell(self) -> int:
        return self._offset

    def flush(self) -> None:
        """Nothing to do: the sealed writer seals a segment whenever one is full."""

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()


class HashingWriter:
    """Pass bytes on to `out` while counting them and computing their SHA-256."""

    def __init__(self, out: BinaryIO):
        self._out, self._hash, self.size = out, hashlib.sha256(), 0

    def write(self, data: bytes) -> int:
        self._hash.update(data)
        self.size += len(data)
        self._out.write(data)
        return len(data)

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()


class TextWriter:
    """A text stream over a byte stream: gathers strings, writes them as UTF-8 in batches.

    What `csv.writer` and the hand-written JSON need, without a `TextIOWrapper`
    per entry; `flush()` before the byte stream is closed.
    """

    def __init__(self, out: HashingWriter):
        self._out, self._parts, self._pending = out, [], 0

    def write(self, text: str) -> int:
        self._parts.append(text)
        self._pending += len(text)
        if self._pending >= TEXT_BATCH:
            self.flush()
        return len(text)

    def flush(self) -> None:
        if self._parts:
            self._out.write("".join(self._parts).encode("utf-8"))
            self._parts, self._pending = [], 0
