"""Why a pack cannot be built or read, in words a handler can act on."""


class PackError(Exception):
    """The pack cannot be built: a result file is unreadable, or the selection is wrong.

    The message is meant for the case page; no half-built pack is left behind.
    """


class PackUnavailable(Exception):
    """There is no pack to read: never built, deleted with the results, or unreadable."""
