"""Which council is responsible for a committee, and how regions are named: plain rules."""

from __future__ import annotations

from pathlib import Path

from bot.config import load_config

FEDERATION = load_config(Path(__file__).resolve().parent.parent / "config.example.toml").federation


def test_the_nearest_linked_council_is_responsible():
    assert FEDERATION.responsible_council("mangystau", {"kz", "mangystau"}) == "mangystau"
    assert FEDERATION.responsible_council("atyrau", {"kz", "mangystau"}) == "kz"
    assert FEDERATION.responsible_council("atyrau", set()) is None


def test_areas():
    assert FEDERATION.is_within("karaganda", "kz")
    assert FEDERATION.is_within("karaganda", "karaganda")
    assert not FEDERATION.is_within("karaganda", "mangystau")


def test_regions_are_found_by_id_or_any_name():
    assert FEDERATION.find_region("MANGYSTAU").id == "mangystau"
    assert FEDERATION.find_region("Мангистауская область").id == "mangystau"
    assert FEDERATION.find_region("north kazakhstan").id == "north-kazakhstan"
    assert FEDERATION.find_region("kz") is None  # the root is not a committee region
    assert FEDERATION.find_region("narnia") is None
