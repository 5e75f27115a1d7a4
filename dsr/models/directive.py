"""Post-mortem directives (Loi 78-17 Art. 85): what a living person asked for their data
after their death, kept in a register until they replace or revoke them."""

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dsr.extensions import db
from dsr.models.types import UTCDateTime, utcnow


class Directive(db.Model):
    """One person's directives, registered by a verified `post_mortem` request."""

    __tablename__ = "directives"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"))
    #: the person's verified email, normalised: how a death notice finds their directives
    email: Mapped[str] = mapped_column(String(254), index=True)
    #: keep, erase or hand_over (`workflows.post_mortem.DIRECTIVES`)
    directive: Mapped[str] = mapped_column(String(16))
    trusted_person_name: Mapped[str | None] = mapped_column(String(200))
    trusted_person_email: Mapped[str | None] = mapped_column(String(254))
    instructions: Mapped[str | None] = mapped_column(Text)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: when they stopped being in force: revoked by the person, or replaced by newer ones
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_because: Mapped[str | None] = mapped_column(String(16))

    request = relationship("DataRequest")
