"""The download link of a released answer: signed for DOWNLOAD, expiring after
DOWNLOAD_LINK_MAX_AGE (30 days by default). The status page signs a fresh one
whenever it is shown, so the person who keeps the status link can always get one
while the pack exists."""

from dsr import signing
from dsr.export.reading import has_pack
from dsr.models import DataRequest
from dsr.signing import Purpose
from dsr.urls import external_url


def downloadable(request: DataRequest) -> bool:
    """Released, and its pack still there (not purged with the results)."""
    return request.released_at is not None and has_pack(request)


def download_token(request: DataRequest) -> str:
    return signing.sign(Purpose.DOWNLOAD, request.id)


def download_url(request: DataRequest) -> str:
    return external_url("subject.download", token=download_token(request))
