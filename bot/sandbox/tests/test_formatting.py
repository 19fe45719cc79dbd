"""Parse modes and lengths, with Telegram's error texts."""

from __future__ import annotations

import pytest

from bot.sandbox.formatting import (
    EntityParseError,
    command_entities,
    parse_html,
    parse_markdown,
    parse_markdown_v2,
    strip_text,
    utf16_len,
)


def test_utf16_length_counts_surrogate_pairs() -> None:
    assert utf16_len("abc") == 3
    assert utf16_len("😀") == 2
    assert utf16_len("Жаңаөзен") == 8


def test_html_entities_and_offsets() -> None:
    text, entities = parse_html('😀 <b>Strike</b> &amp; <a href="https://example.org/?a=1&amp;b=2">link</a>')
    assert text == "😀 Strike & link"
    assert entities == [
        {"type": "bold", "offset": 3, "length": 6},
        {"type": "text_link", "offset": 12, "length": 4, "url": "https://example.org/?a=1&b=2"},
    ]


def test_html_pre_with_language() -> None:
    text, entities = parse_html('<pre><code class="language-python">x = 1</code></pre>')
    assert text == "x = 1"
    assert entities == [{"type": "pre", "offset": 0, "length": 5, "language": "python"}]


@pytest.mark.parametrize(
    ("html", "error"),
    [
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<blink>x</blink>", 'Unsupported start tag "blink" at byte offset 0'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("<b", "Unclosed start tag at byte offset 0"),
        ("ж<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 2'),
    ],
)
def test_html_errors(html: str, error: str) -> None:
    with pytest.raises(EntityParseError) as raised:
        parse_html(html)
    assert str(raised.value) == error


def test_markdown_v2() -> None:
    text, entities = parse_markdown_v2(r"*bold* _it_ __u__ ||s|| `c` [l](https://x\.org) 1\.5")
    assert text == "bold it u s c l 1.5"
    assert [e["type"] for e in entities] == [
        "bold", "italic", "underline", "spoiler", "code", "text_link",
    ]  # fmt: skip
    assert entities[-1]["url"] == "https://x.org"


@pytest.mark.parametrize(
    ("markdown", "error"),
    [
        ("1.5", "Character '.' is reserved and must be escaped with the preceding '\\'"),
        ("*bold", "Can't find end of Bold entity at byte offset 0"),
        ("ж _it", "Can't find end of Italic entity at byte offset 3"),
    ],
)
def test_markdown_v2_errors(markdown: str, error: str) -> None:
    with pytest.raises(EntityParseError) as raised:
        parse_markdown_v2(markdown)
    assert str(raised.value) == error


def test_legacy_markdown() -> None:
    assert parse_markdown("*b* and [t](https://u)") == (
        "b and t",
        [
            {"type": "bold", "offset": 0, "length": 1},
            {"type": "text_link", "offset": 6, "length": 1, "url": "https://u"},
        ],
    )
    with pytest.raises(EntityParseError, match=r"byte offset 0"):
        parse_markdown("*unclosed")


def test_command_entity_spans_the_bot_username() -> None:
    assert command_entities("/start@asamblea_bot hello") == [{"type": "bot_command", "offset": 0, "length": 19}]
    assert command_entities("hello /start") == []


def test_strip_moves_entities() -> None:
    text, entities = strip_text("  hi there \n", [{"type": "bold", "offset": 2, "length": 2}])
    assert text == "hi there"
    assert entities == [{"type": "bold", "offset": 0, "length": 2}]
