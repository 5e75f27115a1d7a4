"""README.txt: what each file of the pack is, in the person's language.

Rendered from `templates/export/README.txt` as the emails are (`dsr.mail`),
with Windows line endings so that every text editor shows its lines.
"""

from datetime import datetime

from flask import current_app, render_template
from flask_babel import force_locale

from dsr.export.selection import Selection
from dsr.mail import tidy
from dsr.models import DataRequest

NAME = "README.txt"


def render_readme(
    request: DataRequest,
    selection: Selection,
    csv_names: list[str],
    generated_at: datetime,
    letter: str | None,
    with_data: bool = True,
) -> bytes:
    """The README's bytes; `csv_names` in the order of `selection.tables()`."""
    csv_files = [
        {"name": name, "label": system.label, "table": part.table, "records": part.count}
        for name, (system, part) in zip(csv_names, selection.tables(), strict=True)
    ]
    values = {
        "controller": current_app.config["INSTANCE"]["controller"],
        "request": request,
        "generated_at": generated_at,
        "letter": letter,
        "with_data": with_data,
        "csv_files": csv_files,
        "not_communicated": selection.not_communicated(),
    }
    with force_locale(request.language):
        text = tidy(render_template(f"export/{NAME}", **values))
    return text.replace("\n", "\r\n").encode("utf-8")
