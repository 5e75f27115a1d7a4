"""Authenticated encryption at rest: wrapped data keys and sealed streams (AES-256-GCM).

Knows nothing of Flask or of the engine: keys and bytes in, keys and bytes out.

Data keys. Each request has its own random 256-bit key, stored only wrapped
(encrypted) under the master key with the request's reference as associated
data, so a wrapped key copied onto another request does not open.

Sealed streams, after Tink's AES-GCM-HKDF streaming AEAD and age's STREAM:

    header   = MAGIC (4) | version (1) | salt (16) | nonce prefix (7)
    segment  = word (4, big-endian: top bit = last segment, the rest = length) | ciphertext
    file key = HKDF-SHA256(data key, salt, info = INFO | context)
    nonce    = nonce prefix (7) | segment counter (4, big-endian) | last flag (1)

every segment sealed with the header as associated data and at most `CHUNK`
bytes of plaintext. The counter in the nonce catches reordered or dropped
segments, the flag a file cut at a segment boundary, the context a file moved
to another place; a fresh salt per file gives each file its own key, so nonces
never repeat. Memory stays at one segment whatever the size.
"""

import base64
import binascii
import io
import os
import struct
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_SIZE = 32
#: plaintext bytes per segment
CHUNK = 64 * 1024
TAG = 16
MAGIC, VERSION = b"DSRS", 1
SALT_SIZE, PREFIX_SIZE = 16, 7
HEADER_SIZE = len(MAGIC) + 1 + SALT_SIZE + PREFIX_SIZE
INFO = b"dsr sealed stream v1\0"
WRAP_INFO = b"dsr data key v1\0"
LAST = 0x8000_0000
MAX_SEGMENTS = 2**32


class SealedError(Exception):
    """Sealed data that cannot be opened: wrong key, or altered, truncated or not sealed."""


def new_key() -> bytes:
    """A random 256-bit key."""
    return AESGCM.generate_key(bit_length=256)


def parse_key(text: str) -> bytes:
    """A 32-byte key written as 64 hex digits or as base64; ValueError otherwise."""
    text = text.strip()
    try:
        key = bytes.fromhex(text) if len(text) == 2 * KEY_SIZE else _base64(text)
    except (ValueError, binascii.Error) as exc:
        raise ValueError("must be 32 bytes written as 64 hex digits or base64") from exc
    if len(key) != KEY_SIZE:
        raise ValueError(f"must be 32 bytes (256 bits); this is {len(key)} bytes")
    return key


def _base64(text: str) -> bytes:
    standard = text.replace("-", "+").replace("_", "/")
    return base64.b64decode(standard + "=" * (-len(standard) % 4), validate=True)


def wrap(master: bytes, key: bytes, context: str) -> bytes:
    """`key` encrypted under `master`, bound to `context` (the request's reference)."""
    nonce = os.urandom(12)
    sealed = AESGCM(master).encrypt(nonce, key, WRAP_INFO + context.encode())
    return bytes([VERSION]) + nonce + sealed


def unwrap(master: bytes, wrapped: bytes, context: str) -> bytes:
    """The key `wrap` sealed; SealedError if the master key or the context differ."""
    if len(wrapped) != 1 + 12 + KEY_SIZE + TAG or wrapped[0] != VERSION:
        raise SealedError("the data key is not a wrapped key of this version")
    try:
        return AESGCM(master).decrypt(wrapped[1:13], wrapped[13:], WRAP_INFO + context.encode())
    except InvalidTag as exc:
        raise SealedError("the data key does not open with this master key (DSR_DATA_KEY)") from exc


def _file_cipher(key: bytes, salt: bytes, context: str) -> AESGCM:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=KEY_SIZE, salt=salt, info=INFO + context.encode())
    return AESGCM(hkdf.derive(key))


def _nonce(prefix: bytes, counter: int, last: bool) -> bytes:
    if counter >= MAX_SEGMENTS:
        raise SealedError("too many segments for one sealed stream")
    return prefix + struct.pack(">IB", counter, last)


class SealedWriter:
    """Write bytes to `raw` sealed under `key`; `close()` seals the last segment.

    A segment is sealed once more than `CHUNK` bytes wait, so there is always
    a last one left for `close()` to seal with the flag set (an empty stream is
    one empty last segment).
    """

    def __init__(self, raw: BinaryIO, key: bytes, context: str):
        salt, self._prefix = os.urandom(SALT_SIZE), os.urandom(PREFIX_SIZE)
        self._header = MAGIC + bytes([VERSION]) + salt + self._prefix
        self._cipher = _file_cipher(key, salt, context)
        self._raw, self._pending, self._counter = raw, bytearray(), 0
        raw.write(self._header)

    def write(self, data: bytes) -> None:
        self._pending += data
        while len(self._pending) > CHUNK:
            self._seal(bytes(self._pending[:CHUNK]), last=False)
            del self._pending[:CHUNK]

    def close(self) -> None:
        if self._raw.closed:
            return
        self._seal(bytes(self._pending), last=True)
        self._pending.clear()
        self._raw.close()

    def _seal(self, plain: bytes, *, last: bool) -> None:
        nonce = _nonce(self._prefix, self._counter, last)
        sealed = self._cipher.encrypt(nonce, plain, self._header)
        self._raw.write(struct.pack(">I", len(sealed) | (LAST if last else 0)) + sealed)
        self._counter += 1


class SealedReader(io.RawIOBase):
    """The plaintext of a sealed stream, segment by segment; SealedError on any fault."""

    def __init__(self, raw: BinaryIO, key: bytes, context: str):
        super().__init__()
        header = raw.read(HEADER_SIZE)
        if len(header) != HEADER_SIZE or header[:4] != MAGIC or header[4] != VERSION:
            raise SealedError("not a sealed file of this version")
        self._header, self._prefix = header, header[-PREFIX_SIZE:]
        self._cipher = _file_cipher(key, header[5 : 5 + SALT_SIZE], context)
        self._raw, self._plain, self._counter, self._done = raw, memoryview(b""), 0, False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._plain and not self._done:
            self._plain = memoryview(self._open_segment())
        size = min(len(buffer), len(self._plain))
        buffer[:size] = self._plain[:size]
        self._plain = self._plain[size:]
        return size

    def _open_segment(self) -> bytes:
        word = self._raw.read(4)
        if len(word) != 4:
            raise SealedError("the file is truncated: its last segment is missing")
        (value,) = struct.unpack(">I", word)
        last, length = bool(value & LAST), value & ~LAST
        if not TAG <= length <= CHUNK + TAG:
            raise SealedError("a segment has an impossible length: the file was altered")
        sealed = self._raw.read(length)
        if len(sealed) != length:
            raise SealedError("the file is truncated in the middle of a segment")
        nonce = _nonce(self._prefix, self._counter, last)
        try:
            plain = self._cipher.decrypt(nonce, sealed, self._header)
        except InvalidTag as exc:
            raise SealedError(
                f"segment {self._counter} does not open: wrong key, or the file was altered"
            ) from exc
        self._counter += 1
        if last:
            self._done = True
            if self._raw.read(1):
                raise SealedError("data follows the last segment: the file was altered")
        return plain

    def close(self) -> None:
        self._raw.close()
        super().close()
