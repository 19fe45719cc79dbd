"""The garbage collector set for a long-running bot that handles many small updates.

CPython's collector runs its youngest generation every 700 new container objects and walks
every object it tracks now and then. A busy bot makes hundreds of thousands of short-lived
objects a second (each update's dicts, coroutines, futures) and keeps every module, handler and
cached row for its whole life: in the ingest benchmark the collector ran 25–75 times a second,
took 2–6 % of the core, and its full collections stopped the bot for up to 36 ms each, more than
the whole latency a handled update is allowed (docs/benchmarks.md, "Ingest"). The bot makes
almost no reference cycles (none were left in a measured run): reference counting frees nearly
everything, a collection finds little to do, and rarer ones cost nothing in memory worth counting.
"""

from __future__ import annotations

import gc

# A collection of the youngest generation after this many new container objects not yet freed,
# not 700; the older generations after 20 of the one below, not 10.
THRESHOLDS = (20_000, 20, 20)


def settle() -> None:
    """Set the collector for the bot's life: call once everything is imported and built. What
    exists then (modules, classes, the Application and its handlers) is moved out of the
    collector's sight for good (`gc.freeze`), so no full collection walks it again."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
