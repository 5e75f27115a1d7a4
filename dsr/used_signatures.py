"""Callback signatures already used, remembered in Redis: one signed answer, one task.

A callback's signature covers its time and body, not the task it is posted
to, and every task of a system shares the system's secret. Without a memory,
an answer seen on its way to one task could be posted again, while its
signature is fresh, to another task of the same system, which would then
hold the first person's records. So the first use of a signature claims it
for its task (`SET NX`, value: the task id) for longer than any signature
stays fresh; the same signature later is the same system retrying on the same
task, or a replay on another one.
"""

from enum import Enum

from connectors.signature import TOLERANCE
from dsr.queue import redis_connection

KEY = "dsr:callback-signature:"
#: seconds a claim lasts: a signature is fresh from TOLERANCE before its `t` to TOLERANCE after
KEEP = 2 * TOLERANCE + 60

# Delete the claim only if this task holds it (one round trip, no race with another claim).
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


class Use(Enum):
    """What a signature's use is, against the memory."""

    FIRST = "first"
    SAME_TASK = "same_task"
    OTHER_TASK = "other_task"


def claim(digest: str, task_id: str) -> Use:
    """Claim the signature `digest` (the v1 value that matched) for `task_id`."""
    redis = redis_connection()
    key = KEY + digest
    while not redis.set(key, task_id, nx=True, ex=KEEP):
        holder = redis.get(key)
        if holder is not None:  # else it was released meanwhile: claim it again
            return Use.SAME_TASK if holder.decode() == task_id else Use.OTHER_TASK
    return Use.FIRST


def release(digest: str, task_id: str) -> None:
    """Forget the claim of `task_id`: its answer was refused before anything was kept."""
    redis_connection().eval(_RELEASE, 1, KEY + digest, task_id)
