"""Documents a person uploads for their request (a death certificate, proof of being an
heir), stored sealed beside the request's results (`dsr.documents`)."""

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from dsr.extensions import db
from dsr.models.types import UTCDateTime, utcnow


class Document(db.Model):
    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("requests.id", ondelete="CASCADE"), index=True
    )
    #: what it is meant to prove (`dsr.documents.KINDS`)
    kind: Mapped[str] = mapped_column(String(32))
    #: the file's name as the person's computer gave it, tidied
    filename: Mapped[str] = mapped_column(String(200))
    #: found from its first bytes, never from what the browser said
    media_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: the question (`dsr.asking`) whose answer brought it, if any
    question_id: Mapped[int | None] = mapped_column(
        ForeignKey("questions.id", ondelete="CASCADE"), index=True
    )
