"""Alarms at movement-clock moments, one per name.

Deadlines, reminders and term notices are planned in the database and re-created at every
start, so planning an alarm again must replace the one already there, never add a second.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from telegram.ext import Application

from bot.clock import real_seconds_until

MOMENT = "_at"  # the clock moment an alarm rings at, kept in its data


def run_at(
    application: Application,
    callback: Callable[[Any], Coroutine[Any, Any, Any]],
    moment: float,
    *,
    name: str,
    data: dict[str, Any],
) -> None:
    """Run `callback` when the bot's clock shows `moment` (at once if it has passed), replacing any
    alarm of the same name."""
    for job in application.job_queue.get_jobs_by_name(name):
        job.schedule_removal()
    application.job_queue.run_once(
        callback,
        when=real_seconds_until(application.bot_data["clock"], moment),
        name=name,
        data={**data, MOMENT: moment},
    )


def replan(application: Application) -> None:
    """Plan every alarm again from its clock moment: the clock jumped (bot/clock.ReplayClock)."""
    for job in application.job_queue.jobs():
        if isinstance(job.data, dict) and MOMENT in job.data and not job.removed:
            run_at(application, job.callback, job.data[MOMENT], name=job.name, data=job.data)
    outbox = application.bot_data.get("outbox")
    if outbox is not None:
        outbox.wake()
