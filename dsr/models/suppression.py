"""Suppression records (Art. 17, 19): who was erased, recognisable without keeping the data.

One row per identifier of an erased person: a keyed hash (HMAC-SHA256 under a key
derived from DSR_DATA_KEY, `dsr.suppression`) of the normalised verified email or
proven identifier, never the clear value, so that a re-import of the same person
can be recognised and stopped, while the table itself names nobody.
"""

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from dsr.extensions import db
from dsr.models.types import UTCDateTime, utcnow


class Suppression(db.Model):
    __tablename__ = "suppressions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: "email", "phone" or "customer_number": what was hashed
    kind: Mapped[str] = mapped_column(String(32))
    #: hex HMAC-SHA256 of "<kind>:<normalised value>"
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    #: the erasure request that made it (its reference: no personal data)
    request_ref: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
