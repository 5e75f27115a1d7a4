"""A handler's question to the person (Art. 12(6)) and the person's answer (`dsr.asking`)."""

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dsr.extensions import db
from dsr.models.types import UTCDateTime, utcnow


class Question(db.Model):
    """One question; while it is open the request is `awaiting_subject` and the clock stands.

    A question ends once: answered, or expired (the request closed without an
    answer), or left behind when the request was closed some other way
    (withdrawn, rejected) while it waited.
    """

    __tablename__ = "questions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("requests.id", ondelete="CASCADE"), index=True
    )
    #: what the handler asks, as the person reads it in the email and on the status page
    message: Mapped[str] = mapped_column(Text)
    asked_by: Mapped[str] = mapped_column(String(254))
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    #: the status the request left for `awaiting_subject`, and goes back to with the answer
    from_status: Mapped[str] = mapped_column(String(32))
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: the person's message (the files they sent are `Document` rows naming this question)
    answer: Mapped[str | None] = mapped_column(Text)
    expired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: the days the clock stood still for it, added to the due date once it ended
    paused_days: Mapped[int | None] = mapped_column(Integer)

    @property
    def is_open(self) -> bool:
        return self.answered_at is None and self.expired_at is None
