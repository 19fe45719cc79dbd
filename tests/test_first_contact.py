"""First contact: `/start` in a private chat tells a person, in their language, how to stay safe
and where the full guide is (docs/staying-safe.md, or the operator's copy at `[i18n] safety_url`).

The expected texts are the handler's own messages through `gettext_for(language)`, so these
tests hold before and after the translators' work; they fail if the advice is not shown, or
shown in another language than the reader's.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.config import ConfigError
from bot.i18n import gettext_for
from handlers.start import SAFETY_ADVICE, SAFETY_GUIDE
from tests.conftest import make_config
from tests.movement import Movement
from tests.test_calls import approved_region

ROOT = Path(__file__).resolve().parent.parent
GREETING = "Hello! I am Asamblea."  # translated in every catalogue: it shows which language is spoken
URL = "https://guide.example.org/staying-safe-{language}.html"


def advice_lines(language: str) -> list[str]:
    _ = gettext_for(language)
    return [_(line) for line in SAFETY_ADVICE]


def test_the_short_advice_covers_what_the_issue_asks():
    english = "\n".join(SAFETY_ADVICE)
    for topic in (
        "two-step verification",
        "Phone Number → Nobody",
        "sees who writes there",
        "no name, username or phone number",
        "never people's names",
        "/verify",
    ):
        assert topic in english, topic


@pytest.mark.parametrize("language", ["ru", "kk", "es", "de", "en"])
async def test_start_advises_a_person_in_their_telegram_language(movement: Movement, language: str):
    person = await movement.person(f"Reader {language}", language=language)
    start = (await movement.say(person["id"], person, "/start"))["text"]
    _ = gettext_for(language)
    assert start.startswith(_(GREETING))
    if language != "en":
        assert _(GREETING) != GREETING  # the catalogue is there, so the greeting tells the language apart
    for line in advice_lines(language):
        assert line in start
    guide = _("The full guide is the file {path} that comes with Asamblea; ask your delegates for a copy.")
    assert guide.format(path=SAFETY_GUIDE) in start
    # The advice comes first; what the bot can do follows it.
    assert start.index(advice_lines(language)[0]) < start.index(_("In a private chat with me:"))


async def test_a_language_chosen_for_the_private_chat_wins_over_telegrams(movement: Movement):
    person = await movement.person("Reader", language="ru")
    choice = await movement.say(person["id"], person, "/settings")
    since = await movement.client.seq()
    await movement.press(person["id"], person, choice, "Deutsch")
    await movement.client.wait_for_text(person["id"], "Deutsch", since=since, timeout=20)
    start = (await movement.say(person["id"], person, "/start"))["text"]
    assert start.startswith(gettext_for("de")(GREETING))
    for line in advice_lines("de"):
        assert line in start


async def test_a_demand_link_still_opens_the_demand_prompt_and_other_payloads_get_the_advice(movement: Movement):
    _council, _, [(chat, admin)] = await approved_region(movement, "mangystau", ["Zhanaozen oil workers"])
    answer = await movement.say(chat, admin, "/demand link")
    token = re.search(r"\?start=(d_[\w-]+)", answer["text"]).group(1)
    member = await movement.person("Member", language="es")
    prompt = (await movement.say(member["id"], member, f"/start {token}"))["text"]
    assert "Zhanaozen oil workers" in prompt
    assert advice_lines("es")[0] not in prompt
    other = (await movement.say(member["id"], member, "/start from-a-leaflet"))["text"]
    for line in advice_lines("es"):
        assert line in other


class TestAGuideTheOperatorHosts:
    @pytest.fixture
    def config_changes(self) -> dict[str, dict]:
        return {"i18n": {"safety_url": URL}}

    async def test_start_links_the_copy_in_the_readers_language(self, movement: Movement):
        person = await movement.person("Reader", language="kk")
        start = (await movement.say(person["id"], person, "/start"))["text"]
        address = URL.replace("{language}", "kk")
        assert gettext_for("kk")("The full guide: {url}").format(url=address) in start
        assert SAFETY_GUIDE not in start


def test_the_guide_address_must_be_https(tmp_path):
    with pytest.raises(ConfigError) as refused:
        make_config("http://127.0.0.1:1", tmp_path / "db", i18n={"safety_url": "http://guide.example.org"})
    assert [p.path for p in refused.value.problems] == ["i18n.safety_url"]
    assert make_config("http://127.0.0.1:1", tmp_path / "db").safety_url == ""


def test_the_guide_is_in_the_repository_and_linked_from_the_readme():
    guide = (ROOT / SAFETY_GUIDE).read_text(encoding="utf-8")
    for heading in ("two-step verification", "phone number", "What the bot stores", "never stores", "/verify"):
        assert heading.lower() in guide.lower(), heading
    assert f"]({SAFETY_GUIDE})" in (ROOT / "README.md").read_text(encoding="utf-8")
