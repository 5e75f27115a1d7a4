"""A released pack sent to whoever may have it: the subject by link, a handler from the case.

The ZIP is decrypted as it is sent (`dsr.export.reading.open_pack`), never
whole in memory; each download is an audit event with who and from where
(the event's own time is when).
"""

from flask import Response, request

from dsr import audit
from dsr.export.reading import open_pack
from dsr.extensions import db
from dsr.models import DataRequest


def pack_response(req: DataRequest, *, actor: str, kind: str = "export.downloaded") -> Response:
    """The pack as an attachment; PackUnavailable (before anything is sent) if there is none.
    `kind` names the audit event (a receiving controller's download is told apart)."""
    chunks = open_pack(req)
    audit.record(
        kind,
        actor=actor,
        request_id=req.id,
        data={"client": request.remote_addr},
    )
    db.session.commit()
    return Response(
        chunks,
        mimetype="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{req.ref}.zip"',
            "Cache-Control": "no-store",
        },
    )
