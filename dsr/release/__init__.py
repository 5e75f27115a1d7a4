"""Review and release of a request's answer (for types whose `answer` is "pack").

    review      what a handler leaves out (Art. 15(4)), stored on the request
    answer      the release asked for (page or API), the RQ job that builds the
                letter and the pack, mails the link and completes the request,
                and the reconciliation of releases whose job was lost
    links       the signed download link, and the window in which it works

The release's state lives on the request (`release_requested_at`,
`released_at`, `release_error`); the job re-reads it under the request's lock,
so two presses of "Release" build and send one pack.
"""
