"""`asamblea export`: the movement's aggregates as an operator exports them, with no personal data;
an export to a place that cannot be written is refused with nothing written."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest

from bot.cli import main
from tests.movement import SECRET_KEY, Movement
from tests.test_calls import approved_region
from tests.test_cli_run import write_config

PRIVATE_DEMAND = "Canary private demand Qx7Zr"


@pytest.fixture
def exported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ASAMBLEA_SECRET_KEY", SECRET_KEY.decode())
    config = tmp_path / "config.toml"
    write_config(config, "http://127.0.0.1:9", tmp_path / "asamblea.sqlite3", None)
    return config


async def test_export_writes_aggregates_without_personal_data(
    movement: Movement, exported: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    mangystau, _, [(zhanaozen, admin), (aktau, a_admin)] = await approved_region(
        movement, "mangystau", ["Zhanaozen oil workers", "Aktau port workers"]
    )
    since = await movement.client.seq()
    await movement.call(zhanaozen, admin, "/strike now | at the gates | Gas at 50 tenge | region")
    copy = await movement.client.wait_for_text(aktau, "Strike call", since=since)
    await movement.press(aktau, a_admin, copy, "✅ We join")
    await movement.client.send(zhanaozen, admin["id"], f"/demand {PRIVATE_DEMAND}")
    await movement.drained()
    people = [admin, a_admin]

    assert (
        await _run(["export", "--config", str(exported), "--format", "json", "--output", str(tmp_path / "x.json")]) == 0
    )
    data = json.loads((tmp_path / "x.json").read_text(encoding="utf-8"))
    assert data["committees_on_strike"] == 1 and data["regions_on_strike"] == ["mangystau"]
    region = next(r for r in data["regions"] if r["id"] == "mangystau")
    assert region["committees"] == {"active": 2} and region["on_strike"] == 1 and region["first_joined"]
    [call] = data["calls"]
    assert (call["kind"], call["reached"], call["join"], call["unanswered"]) == ("strike", 2, 1, 1)
    [demand] = data["demands"]
    assert demand["status"] == "proposed" and demand["text"] is None  # not in the programme: no text

    assert await _run(["export", "--config", str(exported), "--format", "csv", "--output", str(tmp_path / "csv")]) == 0
    tables = {p.name: list(csv.DictReader(p.open(encoding="utf-8"))) for p in (tmp_path / "csv").iterdir()}
    assert set(tables) == {"regions.csv", "calls.csv", "demands.csv"}
    assert next(r for r in tables["regions.csv"] if r["id"] == "mangystau")["on_strike"] == "1"

    written = (tmp_path / "x.json").read_text(encoding="utf-8") + "".join(
        p.read_text(encoding="utf-8") for p in (tmp_path / "csv").iterdir()
    )
    for secret in (PRIVATE_DEMAND, "Zhanaozen oil workers", "Aktau port workers", "at the gates", "Gas at 50"):
        assert secret not in written, secret
    for person in people:
        assert str(person["id"]) not in written and person["first_name"] not in written
    for chat in (zhanaozen, aktau, mangystau):
        assert str(chat) not in written and str(abs(chat)) not in written


async def test_an_export_to_an_unwritable_place_writes_nothing(
    exported: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder", encoding="utf-8")
    existing = tmp_path / "exists"
    existing.mkdir()
    before = _names(tmp_path)
    for fmt, target, reason in (
        ("json", a_file / "x.json", "is not a folder"),
        ("json", tmp_path / "missing" / "x.json", "is not a folder"),
        ("json", existing, "is a folder"),
        ("csv", existing, "exists"),
    ):
        code = await _run(["export", "--config", str(exported), "--format", fmt, "--output", str(target)])
        assert code == 1
        err = capsys.readouterr().err
        assert "cannot write there" in err and reason in err and "Nothing was written" in err
    assert _names(tmp_path) == before
    assert list(existing.iterdir()) == [] and a_file.read_text(encoding="utf-8") == "not a folder"
    if os.geteuid() != 0:  # root writes anywhere: a folder's mode does not stop it
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        try:
            target = locked / "x.json"
            assert await _run(["export", "--config", str(exported), "--output", str(target)]) == 1
            assert "is not writable" in capsys.readouterr().err and list(locked.iterdir()) == []
        finally:
            locked.chmod(0o700)


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


async def _run(argv: list[str]) -> int:
    """The CLI in a worker thread: it runs its own event loop, as it does from a shell."""
    import asyncio

    return await asyncio.to_thread(main, argv)
