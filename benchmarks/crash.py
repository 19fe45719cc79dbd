"""`asamblea bench crash`: kill -9 the bot at random points of a broadcast, restart it, again and again.

SPEC §3 promises that after a crash or kill at any point a restart delivers every pending
message and that at most the messages in flight at the crash are sent twice; SPEC §5 turns that
into: 20 kills during a 500-chat broadcast, 0 lost, duplicates <= kills. The same setup as the
broadcast benchmark (harness.py); once the call is issued, each round waits until at least one
more committee message was delivered since the bot (re)started (a long poll on the sandbox, so
it ends at that delivery), so every kill lands while the broadcast is under way, waits a random
0-0.8 s more (seeded, so a run can be repeated: the kill then falls within a burst of sends or
in a pause of the sender's pacing, wherever that is at the moment), sends
SIGKILL (no shutdown code runs: the outbox, the database and the sandbox see exactly what a
power cut or an OOM kill leaves) and starts the bot again the same way. If the broadcast
completes before all kills are done, the killing stops and the kills made are reported. After
the last restart it waits until every chat has the call or nothing arrives for the stall time,
then for the bot to go quiet, and counts.

Result (last line of stdout): chats, kills, lost, duplicates, wall_s, retry_after_429, seed,
machine.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import time
from typing import Any

from benchmarks.harness import STALL_S, Harness, machine, progress, run

DEFAULT_CHATS = 500
DEFAULT_KILLS = 20
MAX_EXTRA_DELAY_S = 0.8  # after a delivery is seen, the kill comes a random 0..0.8 s later


async def measure(
    chats: int = DEFAULT_CHATS,
    kills: int = DEFAULT_KILLS,
    seed: int | None = None,
    *,
    keep: bool = False,
    stall_s: float = STALL_S,
) -> dict[str, Any]:
    seed = secrets.randbelow(2**31) if seed is None else seed
    rng = random.Random(seed)
    made = 0
    ended = "done"
    async with Harness(chats, keep=keep, stall_s=stall_s) as harness:
        await harness.prepare()
        await harness.start_bot()
        progress(f"bot polling; {kills} kills planned (seed {seed})")
        call = await harness.issue_call()
        deliveries = harness.deliveries()
        while made < kills:
            mark = deliveries.total  # committee messages so far; the bot (re)started after them
            ended = await harness.follow(
                deliveries, call.pressed_at, until=lambda d, mark=mark: d.total > mark or d.complete, long_poll=True
            )
            if ended != "done" or deliveries.complete:
                break
            await asyncio.sleep(rng.uniform(0.0, MAX_EXTRA_DELAY_S))
            await deliveries.poll(harness.client)
            if deliveries.complete:
                break
            await harness.kill_bot()
            made += 1
            # What the killed bot managed to send, including a request the sandbox was still reading.
            await asyncio.sleep(0.1)
            await deliveries.poll(harness.client)
            progress(f"kill -9 #{made}: {deliveries.summary()}, {time.time() - call.pressed_at:.1f} s since Send")
            await harness.start_bot(wait_polling=False)
            deliveries.progressed_at = time.monotonic()  # the stall clock restarts with the bot
        if made < kills and deliveries.complete:
            progress(f"the broadcast completed after {made} of {kills} kills; no more kills")
        if ended == "done":
            ended = await harness.follow(deliveries, call.pressed_at)
        await harness.settle(deliveries)
        retries = await harness.too_many_requests_since(call)

    last = deliveries.last_first_at
    result: dict[str, Any] = {
        "chats": chats,
        "kills": made,
        "lost": deliveries.lost,
        "duplicates": deliveries.duplicates,
        "wall_s": round(last - call.pressed_at, 3) if last is not None else None,
        "retry_after_429": retries,
        "seed": seed,
        "machine": {**machine(), "pinned": harness.pinning()},
    }
    if ended != "done":
        result["error"] = ended
    progress(f"done: {made} kills, {deliveries.summary()}")
    return result


def main(
    chats: int = DEFAULT_CHATS,
    kills: int = DEFAULT_KILLS,
    seed: int | None = None,
    *,
    keep: bool = False,
    stall_s: float = STALL_S,
) -> int:
    started = time.monotonic()
    status = run("crash", lambda: measure(chats, kills, seed, keep=keep, stall_s=stall_s))
    progress(f"took {time.monotonic() - started:.0f} s in all")
    return status
