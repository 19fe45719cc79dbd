"""`asamblea export`: the movement in aggregate, for the coordinators' own analysis or a report.

Only counts and the movement's public words leave: regions with their committees by status and
their place in the spread, calls with their tallies, demands with their support. No committee
name, chat, person or pseudonym is written, and a demand's text only once the coordinating
council adopted it into the programme, which the movement publishes anyway. An export to a
place that cannot be written is refused before anything is written; a file or folder appears
whole (written beside its final name, then renamed) or not at all.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.config import Config
from domain.spread import first_joins, snapshot, time_to_join
from storage import Store

FORMATS = ("json", "csv")
CALLS_MAX = 1_000_000


class ExportRefused(Exception):
    """The export cannot be written where it was asked to be; nothing was written."""


def _iso(moment: int | None) -> str | None:
    return datetime.fromtimestamp(moment, UTC).isoformat() if moment is not None else None


async def collect(store: Store, config: Config, *, now: int) -> dict[str, Any]:
    """The aggregates, as plain JSON-ready data."""
    federation = config.federation
    async with store.db.read() as conn:
        by_status = await store.digests.committees_by_status(conn, None)
        reports = await store.spread.reports(conn)
        first_call = await store.spread.first_call_at(conn)
        _count, calls = await store.digests.calls_since(conn, None, 0, limit=CALLS_MAX)
        demands = await store.digests.all_demands(conn)
    state = snapshot(reports, now)
    joins = first_joins(reports)
    delays = time_to_join(first_call, joins) if first_call is not None else {}
    regions = [
        {
            "id": region.id,
            "name": region.name,
            "committees": {
                status: counts[region.id] for status, counts in sorted(by_status.items()) if region.id in counts
            },
            "on_strike": state.on_strike.get(region.id, 0),
            "suppressed": state.suppressed.get(region.id, 0),
            "first_joined": _iso(joins.get(region.id)),
            "joined_after_first_call_s": delays.get(region.id),
        }
        for region in federation.committee_regions()
    ]
    return {
        "federation": federation.name,
        "generated_at": _iso(now),
        "first_strike_call": _iso(first_call),
        "committees_by_status": {status: sum(counts.values()) for status, counts in sorted(by_status.items())},
        "committees_on_strike": state.committees_on_strike,
        "regions_on_strike": list(state.regions_on_strike),
        "regions": regions,
        "calls": [
            {
                "id": call.id,
                "kind": call.kind,
                "issuer_region": call.issuer_region,
                "starts_at": _iso(call.starts_at),
                "status": call.status,
                "reached": call.reached,
                "join": call.joining,
                "decline": call.declining,
                "undecided": call.undecided,
                "unanswered": call.reached - call.joining - call.declining - call.undecided,
                "headcount": call.headcount,
            }
            for call in sorted(calls, key=lambda c: c.id)
        ],
        "demands": [
            {
                "id": demand.id,
                "status": demand.status,
                "in_programme": in_programme,
                "committees": demand.committees,
                "regions": demand.regions,
                "text": demand.text if in_programme else None,
            }
            for demand, in_programme in demands
        ],
    }


def csv_tables(data: dict[str, Any]) -> dict[str, str]:
    """The aggregates as one CSV text per table (regions, calls, demands)."""
    statuses = sorted({status for region in data["regions"] for status in region["committees"]})
    regions = [
        {
            "id": r["id"],
            "name": r["name"],
            **{f"committees_{status}": r["committees"].get(status, 0) for status in statuses},
            "on_strike": r["on_strike"],
            "suppressed": r["suppressed"],
            "first_joined": r["first_joined"] or "",
            "joined_after_first_call_s": ""
            if r["joined_after_first_call_s"] is None
            else r["joined_after_first_call_s"],
        }
        for r in data["regions"]
    ]
    demands = [{**d, "text": d["text"] or ""} for d in data["demands"]]
    return {"regions.csv": _csv(regions), "calls.csv": _csv(data["calls"]), "demands.csv": _csv(demands)}


def _csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return out.getvalue()


def check_target(output: Path, fmt: str) -> None:
    """Refuse, before any work, a place the export cannot be written to."""
    parent = output.parent if output.parent != Path("") else Path(".")
    if not parent.is_dir():
        raise ExportRefused(f"{parent} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ExportRefused(f"{parent} is not writable")
    if fmt == "csv" and output.exists():
        raise ExportRefused(f"{output} exists; CSV goes into a new folder")
    if fmt == "json" and output.is_dir():
        raise ExportRefused(f"{output} is a folder; JSON goes into a file")


def write(data: dict[str, Any], fmt: str, output: Path) -> list[Path]:
    """Write whole or not at all; the paths written."""
    check_target(output, fmt)
    parent = output.parent if output.parent != Path("") else Path(".")
    try:
        if fmt == "json":
            with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=parent, delete=False, suffix=".tmp") as tmp:
                json.dump(data, tmp, ensure_ascii=False, indent=2)
            os.replace(tmp.name, output)
            return [output]
        staging = Path(tempfile.mkdtemp(dir=parent, prefix=f".{output.name}."))
        for name, text in csv_tables(data).items():
            (staging / name).write_text(text, encoding="utf-8")
        staging.rename(output)
        return sorted(output.iterdir())
    except OSError as exc:
        raise ExportRefused(str(exc)) from exc
