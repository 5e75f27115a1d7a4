"""Reading a pack back: the ZIP's bytes decrypted, chunk by chunk, for a download."""

import os
from collections.abc import Iterator
from pathlib import Path

from dsr import keys, sealed
from dsr.export.errors import PackUnavailable
from dsr.export.pack import pack_context, pack_path
from dsr.models import DataRequest

CHUNK = 64 * 1024


def has_pack(request: DataRequest) -> bool:
    return pack_path(request).exists()


def open_pack(request: DataRequest) -> Iterator[bytes]:
    """The pack's ZIP, decrypted as it is read; PackUnavailable if there is none to read.

    Opened (and its key checked) before the first chunk is asked for, so a
    caller learns that it is missing before it starts an answer; a file
    altered later raises PackUnavailable in the middle, and the download is cut.
    """
    try:
        key = keys.data_key(request)
        handle = open(pack_path(request), "rb")
    except (keys.KeyUnavailable, FileNotFoundError) as exc:
        raise PackUnavailable(f"{request.ref}: no pack to read ({exc})") from exc
    try:
        reader = sealed.SealedReader(handle, key, pack_context())
    except sealed.SealedError as exc:
        handle.close()
        raise PackUnavailable(f"{request.ref}: {exc}") from exc
    return chunks(reader)


def chunks(reader: sealed.SealedReader) -> Iterator[bytes]:
    with reader:
        try:
            while chunk := reader.read(CHUNK):
                yield chunk
        except sealed.SealedError as exc:
            raise PackUnavailable(str(exc)) from exc


def decrypt_to(request: DataRequest, path: Path) -> Path:
    """The pack's ZIP written in clear to `path` (for tests and a handler's own copy)."""
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as out:
        for chunk in open_pack(request):
            out.write(chunk)
    return path
