"""The config file: the example is valid, and every kind of mistake is named by its key path."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import ConfigError, load_config, parse_config
from bot.credentials import SECRET_KEY_ENV, TOKEN_ENV, CredentialError, credential_problems, load_credentials

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"


def example() -> dict:
    return tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))


def problems_of(raw: dict) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(raw)
    return [str(p) for p in caught.value.problems]


def test_example_ships_kazakhstan_in_january_2022():
    config = load_config(EXAMPLE)
    federation = config.federation
    regions = federation.committee_regions()
    assert len(regions) == 17
    assert {"nur-sultan", "almaty", "shymkent", "mangystau"} <= {r.id for r in regions}
    assert federation.root.id == "kz"
    assert set(federation.regions["mangystau"].neighbours) == {"atyrau", "aktobe"}
    assert federation.regions["almaty"].neighbours == ("almaty-region",)
    # The land borders are symmetric and nobody neighbours itself.
    for region in regions:
        for neighbour in region.neighbours:
            assert region.id in federation.regions[neighbour].neighbours
            assert neighbour != region.id


def test_unknown_neighbour_is_named_by_its_key_path():
    raw = example()
    raw["federation"]["regions"][1]["neighbours"].append("atlantis")
    found = problems_of(raw)
    assert any(p.startswith("federation.regions[1].neighbours") and "atlantis" in p for p in found)


def test_asymmetric_and_self_neighbours():
    raw = example()
    mangystau = raw["federation"]["regions"][1]
    mangystau["neighbours"] = ["atyrau", "aktobe", "shymkent", "mangystau"]
    found = problems_of(raw)
    assert any("'shymkent' does not list 'mangystau'" in p for p in found)
    assert any("cannot neighbour itself" in p for p in found)


def test_region_positions_place_the_regions_for_the_spread_chart():
    federation = load_config(EXAMPLE).federation
    # Every committee region of the example has its centre, inside Kazakhstan's bounding box.
    for region in federation.committee_regions():
        assert region.position is not None, region.id
        lon, lat = region.position
        assert 46 < lon < 88 and 40 < lat < 56, region.id
    assert federation.regions["kz"].position is None  # optional: the root has none
    raw = example()
    raw["federation"]["regions"][1]["position"] = [51, 43.5]  # integers are numbers too
    assert parse_config(raw).federation.regions["mangystau"].position == (51.0, 43.5)
    del raw["federation"]["regions"][1]["position"]
    assert parse_config(raw).federation.regions["mangystau"].position is None


@pytest.mark.parametrize(
    "position",
    [[53.7], [53.7, 44.2, 0], [44.2, 253.7], [190, 44.2], [53.7, -91], ["53.7", "44.2"], [True, 44.2], "53.7, 44.2"],
)
def test_bad_region_position_is_named_by_its_key_path(position):
    raw = example()
    raw["federation"]["regions"][1]["position"] = position
    found = problems_of(raw)
    assert len(found) == 1
    assert found[0].startswith("federation.regions[1].position: must be")


def test_wrong_types_unknown_keys_and_bad_values_are_all_reported_at_once():
    raw = example()
    raw["privacy"]["retention_days"] = "ninety"
    raw["telegram"]["mode"] = "carrier-pigeon"
    raw["storage"]["pth"] = "typo.sqlite3"
    raw["federation"]["regions"][2]["timezone"] = "Mars/Olympus"
    found = problems_of(raw)
    assert "privacy.retention_days: must be an integer, got str" in found
    assert any(p.startswith("telegram.mode: must be one of") for p in found)
    assert "storage.pth: unknown key" in found
    assert any(p.startswith("federation.regions[2].timezone") for p in found)


def test_root_must_have_the_coordinating_council():
    raw = example()
    raw["federation"]["councils"] = [c for c in raw["federation"]["councils"] if c["region"] != "kz"]
    assert any(p.startswith("federation.councils") for p in problems_of(raw))


def test_webhook_mode_needs_a_public_https_url():
    raw = example()
    raw["telegram"]["mode"] = "webhook"
    raw["telegram"]["webhook"]["public_url"] = "http://insecure"
    assert any(p.startswith("telegram.webhook.public_url") for p in problems_of(raw))


def test_check_config_command(tmp_path, capsys):
    assert main(["check-config", str(EXAMPLE)]) == 0
    broken = EXAMPLE.read_text(encoding="utf-8").replace(
        'neighbours = ["atyrau", "aktobe"]', 'neighbours = ["atyrau", "aktobe", "narnia"]'
    )
    path = tmp_path / "broken.toml"
    path.write_text(broken, encoding="utf-8")
    assert main(["check-config", str(path)]) == 1
    assert "federation.regions[1].neighbours: unknown region 'narnia'" in capsys.readouterr().err


def test_secrets_come_from_the_environment_or_named_files(tmp_path):
    config = load_config(EXAMPLE)
    env = {TOKEN_ENV: "123:abc", SECRET_KEY_ENV: "k" * 40}
    credentials = load_credentials(config, env)
    assert credentials.bot_token == "123:abc"
    assert "abc" not in repr(credentials)
    missing = credential_problems(config, {})
    assert {p.path for p in missing} == {TOKEN_ENV, SECRET_KEY_ENV}
    assert [p.path for p in credential_problems(config, {TOKEN_ENV: "123:abc", SECRET_KEY_ENV: "short"})] == [
        SECRET_KEY_ENV
    ]
    raw = example()
    raw["secrets"]["secret_key_file"] = str(tmp_path / "absent")
    with pytest.raises(CredentialError) as caught:
        load_credentials(parse_config(raw), env)
    assert caught.value.problems[0].path == "secrets.secret_key_file"
    (tmp_path / "absent").write_text("s" * 40 + "\n")
    assert load_credentials(parse_config(raw), {TOKEN_ENV: "1:x"}).secret_key == b"s" * 40
