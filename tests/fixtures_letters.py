"""Reading letters back: a DOCX opened with python-docx as text, and dates as letters write
them. Shared by the access letter's and the other rights' letters' tests."""

import io
from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date
from docx import Document

from dsr.config import DEMO_CONFIG, load_instance

DEMO = load_instance(str(DEMO_CONFIG))


class Read:
    """A DOCX letter as text: its page header, paragraphs and tables."""

    def __init__(self, data: bytes):
        document = Document(io.BytesIO(data))
        self.document = document
        self.header = "\n".join(p.text for p in document.sections[0].header.paragraphs)
        self.paragraphs = [p.text for p in document.paragraphs]
        self.tables = [
            [[cell.text for cell in row.cells] for row in table.rows] for table in document.tables
        ]
        self.text = "\n".join(self.paragraphs + [" | ".join(r) for t in self.tables for r in t])

    def table_with(self, heading: str) -> list[list[str]]:
        """The table whose first row begins with `heading`."""
        return next(table for table in self.tables if table[0][0] == heading)


def date_in(language: str, instant: datetime) -> str:
    """A date as the letter writes it: in the controller's time zone and the language."""
    local = instant.astimezone(ZoneInfo(DEMO["controller"]["timezone"]))
    return format_date(local.date(), "long", locale=language)
