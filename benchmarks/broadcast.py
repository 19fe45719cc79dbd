"""`asamblea bench broadcast`: one call to N committee chats (1,000 by default) under Telegram's limits.

SPEC §5 asks that such a broadcast take at most 1.10 × the time the limits allow at best, lose
nothing and duplicate nothing. Telegram's binding limit here is the overall one, about 30
messages per second per bot (each committee chat gets one message, so the per-chat and per-group
limits never bind), which the sandbox enforces as 30 sends per sliding second; the floor is
therefore chats / 30 seconds. The real bot runs as its own process against the sandbox in
another (see harness.py); the clock runs from the coordinator's press of Send to the sandbox's
timestamp of the message that reached the last committee chat. Late duplicates are still
counted: the result is read only once the bot has gone quiet.

Result (last line of stdout): chats, wall_s, floor_s, ratio, lost, duplicates, retry_after_429,
machine.
"""

from __future__ import annotations

import time
from typing import Any

from benchmarks.harness import GLOBAL_MESSAGES_PER_SECOND, STALL_S, Harness, machine, progress, run

DEFAULT_CHATS = 1000


def floor_seconds(chats: int) -> float:
    """The least time Telegram's limits allow for one message to each of `chats` chats.

    Telegram lets a bot send about 30 messages per second overall; with one message per chat
    that limit is the only one that binds, so no bot can do better than chats / 30 seconds (a
    sliding window lets the first second's 30 go at once, which is within rounding for 1,000
    chats; edits of the issuer's status message share the same 30 per second and are not
    subtracted)."""
    return chats / GLOBAL_MESSAGES_PER_SECOND


async def measure(chats: int = DEFAULT_CHATS, *, keep: bool = False, stall_s: float = STALL_S) -> dict[str, Any]:
    async with Harness(chats, keep=keep, stall_s=stall_s) as harness:
        await harness.prepare()
        await harness.start_bot()
        progress("bot polling")
        call = await harness.issue_call()
        deliveries = harness.deliveries()
        ended = await harness.follow(deliveries, call.pressed_at)
        await harness.settle(deliveries)
        retries = await harness.too_many_requests_since(call)

    last = deliveries.last_first_at
    wall = last - call.pressed_at if last is not None else None
    floor = floor_seconds(chats)
    wall_s = round(wall, 3) if wall is not None else None
    floor_s = round(floor, 3)
    result: dict[str, Any] = {
        "chats": chats,
        "wall_s": wall_s,
        "floor_s": floor_s,
        "ratio": round(wall / floor, 3) if wall is not None and not deliveries.lost else None,
        "lost": deliveries.lost,
        "duplicates": deliveries.duplicates,
        "retry_after_429": retries,
        "machine": {**machine(), "pinned": harness.pinning()},
    }
    if ended != "done":
        result["error"] = ended
    progress(f"done: {deliveries.summary()}, wall {wall_s} s, floor {floor_s} s, 429s {retries}")
    return result


def main(chats: int = DEFAULT_CHATS, *, keep: bool = False, stall_s: float = STALL_S) -> int:
    started = time.monotonic()
    status = run("broadcast", lambda: measure(chats, keep=keep, stall_s=stall_s))
    progress(f"took {time.monotonic() - started:.0f} s in all")
    return status
