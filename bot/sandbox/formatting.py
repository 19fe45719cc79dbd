"""Text formatting the way Telegram does it: parse modes, entities, UTF-16 lengths.

A bot that builds HTML by hand breaks in production on an unescaped ``<`` or an
unclosed tag, and Telegram limits are counted in UTF-16 code units *after* the
markup is stripped. The sandbox therefore parses ``parse_mode`` text like the
Bot API server does (the HTML parser follows tdlib's ``parse_html``, byte offsets
and error texts included; MarkdownV2 and legacy Markdown are close
approximations) and returns the plain text plus entities with UTF-16 offsets.
"""

from __future__ import annotations

import re
from typing import Any


class EntityParseError(ValueError):
    """The text cannot be parsed in the requested parse mode."""


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, the unit of Telegram's limits and offsets."""
    return len(text.encode("utf-16-le")) // 2


def parse(text: str, parse_mode: str | None) -> tuple[str, list[dict[str, Any]]]:
    """Strip the markup of ``parse_mode`` from ``text``; return plain text and entities."""
    if not parse_mode:
        return text, []
    mode = parse_mode.lower()
    if mode == "html":
        return parse_html(text)
    if mode == "markdownv2":
        return parse_markdown_v2(text)
    if mode == "markdown":
        return parse_markdown(text)
    raise LookupError(parse_mode)


def strip_text(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Trim surrounding whitespace as Telegram does, moving the entities with the text."""
    stripped_left = text.lstrip()
    shift = utf16_len(text) - utf16_len(stripped_left)
    result = stripped_left.rstrip()
    end = utf16_len(result)
    moved: list[dict[str, Any]] = []
    for entity in entities:
        try:
            start = int(entity["offset"]) - shift
            stop = start + int(entity["length"])
        except (KeyError, TypeError, ValueError):
            moved.append(entity)
            continue
        start, stop = max(start, 0), min(stop, end)
        if stop > start:
            moved.append({**entity, "offset": start, "length": stop - start})
    return result, moved


_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{1,64})?")


def command_entities(text: str) -> list[dict[str, Any]]:
    """The ``bot_command`` entity Telegram adds to a message starting with ``/cmd[@bot]``."""
    match = _COMMAND.match(text)
    if not match:
        return []
    return [{"type": "bot_command", "offset": 0, "length": utf16_len(match.group(0))}]


# --- HTML, after tdlib's do_parse_html --------------------------------------------------

_HTML_TAGS = frozenset(
    {
        "a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins", "tg-spoiler",
        "tg-emoji", "span", "pre", "code", "blockquote",
    }
)  # fmt: skip
_SPACES = frozenset(b" \t\r\n\v\f")


def _decode_html_entity(data: bytes, pos: int) -> tuple[int, int]:
    """Decode ``&lt;``-style or numeric character references; (0, pos) if there is none."""
    n = len(data)

    def at(k: int) -> int:
        return data[k] if k < n else 0

    end = pos + 1
    code = 0
    if at(pos + 1) == ord("#"):
        end += 1
        if at(pos + 2) == ord("x"):
            end += 1
            while chr(at(end)) in "0123456789abcdefABCDEF" and at(end):
                code = code * 16 + int(chr(at(end)), 16)
                end += 1
        else:
            while chr(at(end)).isdigit() and at(end) < 128 and at(end):
                code = code * 10 + at(end) - ord("0")
                end += 1
        if code == 0 or code >= 0x10FFFF or end - pos >= 10:
            return 0, pos
    else:
        while at(end) and chr(at(end)).isalpha() and at(end) < 128:
            end += 1
        name = data[pos + 1 : end]
        code = {b"lt": 0x3C, b"gt": 0x3E, b"amp": 0x26, b"quot": 0x22}.get(name, 0)
        if not code:
            return 0, pos
    if at(end) == ord(";"):
        end += 1
    return code, end


def _append_char(out: bytearray, code: int) -> int:
    """Append a code point; return its UTF-16 length."""
    if 0xD800 <= code <= 0xDFFF:
        raise EntityParseError(
            "Text contains invalid Unicode characters after decoding HTML entities, "
            "check for unmatched surrogate code units"
        )
    out += chr(code).encode("utf-8")
    return 2 if code > 0xFFFF else 1


def _html_entity(tag: str, argument: str, offset: int, length: int, text_so_far: bytes) -> dict[str, Any] | None:
    kind = {
        "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
        "ins": "underline", "s": "strikethrough", "strike": "strikethrough",
        "del": "strikethrough", "tg-spoiler": "spoiler", "span": "spoiler", "code": "code",
        "pre": "pre", "blockquote": "blockquote",
    }.get(tag)  # fmt: skip
    entity: dict[str, Any] = {"offset": offset, "length": length}
    if tag == "a":
        url = argument or text_so_far.decode("utf-8", "replace")
        if url.startswith("tg://user?id="):
            return {**entity, "type": "text_mention", "user": {"id": int(url[13:] or 0)}}
        return {**entity, "type": "text_link", "url": url}
    if tag == "tg-emoji":
        return {**entity, "type": "custom_emoji", "custom_emoji_id": argument}
    if tag == "blockquote" and argument == "expandable":
        return {**entity, "type": "expandable_blockquote"}
    if kind is None:
        return None
    entity["type"] = kind
    if tag == "code" and argument:
        entity["language"] = argument
    return entity


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Telegram's HTML parse mode; raises :class:`EntityParseError` with tdlib's wording."""
    data = text.encode("utf-8")
    n = len(data)

    def at(k: int) -> int:
        return data[k] if k < n else 0

    out = bytearray()
    entities: list[dict[str, Any]] = []
    stack: list[tuple[str, str, int, int]] = []  # tag, argument, utf16 offset, out position
    offset = 0
    i = 0
    while i < n:
        c = data[i]
        if c == ord("&"):
            code, end = _decode_html_entity(data, i)
            if code:
                offset += _append_char(out, code)
                i = end
                continue
        if c != ord("<"):
            if c & 0xC0 != 0x80:
                offset += 2 if c >= 0xF0 else 1
            out.append(c)
            i += 1
            continue
        begin = i
        i += 1
        if at(i) != ord("/"):
            while at(i) and at(i) not in _SPACES and at(i) != ord(">"):
                i += 1
            if not at(i):
                raise EntityParseError(f"Unclosed start tag at byte offset {begin}")
            tag = data[begin + 1 : i].decode("utf-8", "replace").lower()
            if tag not in _HTML_TAGS:
                raise EntityParseError(f'Unsupported start tag "{tag}" at byte offset {begin}')
            argument = ""
            while at(i) != ord(">"):
                while at(i) and at(i) in _SPACES:
                    i += 1
                if at(i) == ord(">"):
                    break
                attribute_begin = i
                while at(i) and at(i) not in _SPACES and at(i) not in b"=>":
                    i += 1
                name = data[attribute_begin:i].decode("utf-8", "replace").lower()
                if not name:
                    raise EntityParseError(f'Empty attribute name in the tag "{tag}" at byte offset {begin}')
                if tag == "blockquote" and name == "expandable" and at(i) != ord("="):
                    argument = "expandable"
                    continue
                while at(i) and at(i) in _SPACES:
                    i += 1
                if at(i) != ord("="):
                    raise EntityParseError(
                        f'Expected equal sign in declaration of an attribute of the tag "{tag}" at byte offset {begin}'
                    )
                i += 1
                while at(i) and at(i) in _SPACES:
                    i += 1
                if not at(i):
                    raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
                value = bytearray()
                if at(i) not in b"'\"":
                    token_begin = i
                    while at(i) and ((chr(at(i)).isalnum() and at(i) < 128) or at(i) in b".-"):
                        i += 1
                    value += data[token_begin:i].lower()
                    if at(i) not in _SPACES and at(i) != ord(">"):
                        raise EntityParseError(f"Unexpected end of name token at byte offset {token_begin}")
                else:
                    quote = at(i)
                    i += 1
                    while at(i) and at(i) != quote:
                        if at(i) == ord("&"):
                            code, end = _decode_html_entity(data, i)
                            if code:
                                _append_char(value, code)
                                i = end
                                continue
                        value.append(at(i))
                        i += 1
                    if at(i) == quote:
                        i += 1
                if not at(i):
                    raise EntityParseError(f"Unclosed start tag at byte offset {begin}")
                decoded = value.decode("utf-8", "replace")
                if (
                    (tag == "a" and name == "href")
                    or (tag == "tg-emoji" and name == "emoji-id")
                    or (tag == "span" and name == "class")
                ):
                    argument = decoded
                elif tag == "code" and name == "class" and decoded.startswith("language-"):
                    argument = decoded[9:]
            if tag == "span" and argument != "tg-spoiler":
                raise EntityParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {begin}')
            i += 1  # the '>'
            stack.append((tag, argument, offset, len(out)))
            continue
        if not stack:
            raise EntityParseError(f"Unexpected end tag at byte offset {begin}")
        while at(i) and at(i) not in _SPACES and at(i) != ord(">"):
            i += 1
        end_tag = data[begin + 2 : i].decode("utf-8", "replace").lower()
        while at(i) and at(i) in _SPACES:
            i += 1
        if at(i) != ord(">"):
            raise EntityParseError(f"Unclosed end tag at byte offset {begin}")
        i += 1
        tag, argument, start, out_pos = stack.pop()
        if end_tag and end_tag != tag:
            raise EntityParseError(
                f'Unmatched end tag at byte offset {begin}, expected "</{tag}>", found "</{end_tag}>"'
            )
        if offset > start:
            entity = _html_entity(tag, argument, start, offset - start, bytes(out[out_pos:]))
            if entity is not None:
                _merge_pre_code(entities, entity)
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    for entity in entities:
        if entity["type"] == "code":
            entity.pop("language", None)  # only a pre keeps its language
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return out.decode("utf-8"), entities


def _merge_pre_code(entities: list[dict[str, Any]], entity: dict[str, Any]) -> None:
    """``<pre><code class="language-x">`` is one ``pre`` entity with a language."""
    if entities and entity["type"] == "pre":
        last = entities[-1]
        same_span = last["offset"] == entity["offset"] and last["length"] == entity["length"]
        if last["type"] == "code" and same_span:
            entities[-1] = entity
            if "language" in last:
                entity["language"] = last["language"]
            return
    entities.append(entity)


# --- MarkdownV2 --------------------------------------------------------------------------

_MDV2_RESERVED = "_*[]()~`>#+-=|{}.!"
_MDV2_NAMES = {
    "bold": "Bold", "italic": "Italic", "underline": "Underline",
    "strikethrough": "Strikethrough", "spoiler": "Spoiler", "code": "Code", "pre": "Pre",
    "text_link": "TextUrl", "custom_emoji": "CustomEmoji",
}  # fmt: skip


def parse_markdown_v2(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Telegram's MarkdownV2: every reserved character outside markup must be escaped."""
    out: list[str] = []
    offset = 0
    entities: list[dict[str, Any]] = []
    stack: list[dict[str, Any]] = []  # type, offset, byte offset, out index
    quote_start: int | None = None
    n = len(text)
    i = 0

    def byte_offset(k: int) -> int:
        return len(text[:k].encode("utf-8"))

    def emit(chunk: str) -> None:
        nonlocal offset
        out.append(chunk)
        offset += utf16_len(chunk)

    while i < n:
        c = text[i]
        line_start = i == 0 or text[i - 1] == "\n"
        if c == "\\" and i + 1 < n and 0 < ord(text[i + 1]) <= 126:
            emit(text[i + 1])
            i += 2
            continue
        inside_code = bool(stack) and stack[-1]["type"] in {"code", "pre"}
        if inside_code and c != "`":
            emit(c)
            i += 1
            continue
        if c == ">" and line_start and not stack:
            if quote_start is None:
                quote_start = offset
            i += 1
            continue
        if c == "\n" and quote_start is not None and not (i + 1 < n and text[i + 1] == ">"):
            if offset > quote_start:
                entities.append({"type": "blockquote", "offset": quote_start, "length": offset - quote_start})
            quote_start = None
        if c not in _MDV2_RESERVED:
            emit(c)
            i += 1
            continue
        top = stack[-1]["type"] if stack else None
        nxt = text[i + 1] if i + 1 < n else ""
        closes = (
            (top == "bold" and c == "*")
            or (top == "italic" and c == "_" and nxt != "_")
            or (top == "underline" and c == "_" and nxt == "_")
            or (top == "strikethrough" and c == "~")
            or (top == "spoiler" and c == "|" and nxt == "|")
            or (top == "code" and c == "`")
            or (top == "pre" and text.startswith("```", i))
            or (top in {"text_link", "custom_emoji"} and c == "]")
        )
        if not closes:
            begin = i
            if c == "_" and nxt == "_":
                kind, i = "underline", i + 2
            elif c == "_":
                kind, i = "italic", i + 1
            elif c == "*":
                kind, i = "bold", i + 1
            elif c == "~":
                kind, i = "strikethrough", i + 1
            elif c == "|" and nxt == "|":
                kind, i = "spoiler", i + 2
            elif c == "[":
                kind, i = "text_link", i + 1
            elif c == "!" and nxt == "[":
                kind, i = "custom_emoji", i + 2
            elif c == "`" and text.startswith("```", i):
                kind, i = "pre", i + 3
                newline = text.find("\n", i)
                language = text[i:newline] if newline >= 0 else ""
                if not language or " " in language:
                    language = ""  # the first line is code, not a language name
                else:
                    i = newline + 1
                opened = {"type": kind, "offset": offset, "byte": byte_offset(begin)}
                stack.append({**opened, "language": language})
                continue
            elif c == "`":
                kind, i = "code", i + 1
            else:
                raise EntityParseError(f"Character '{c}' is reserved and must be escaped with the preceding '\\'")
            stack.append({"type": kind, "offset": offset, "byte": byte_offset(begin)})
            continue
        opened = stack.pop()
        kind = opened["type"]
        i += {"underline": 2, "spoiler": 2, "pre": 3}.get(kind, 1)
        entity: dict[str, Any] = {"type": kind, "offset": opened["offset"], "length": offset - opened["offset"]}
        if kind in {"text_link", "custom_emoji"}:
            url = ""
            if i < n and text[i] == "(":
                i += 1
                chars: list[str] = []
                while i < n and text[i] != ")":
                    if text[i] == "\\" and i + 1 < n:
                        i += 1
                    chars.append(text[i])
                    i += 1
                if i >= n:
                    raise EntityParseError(f"Can't find end of a url at byte offset {byte_offset(i)}")
                i += 1
                url = "".join(chars)
            if kind == "custom_emoji":
                entity["custom_emoji_id"] = url.partition("id=")[2]
            elif url.startswith("tg://user?id="):
                entity = {**entity, "type": "text_mention", "user": {"id": int(url[13:] or 0)}}
            else:
                entity["url"] = url or "".join(out)[-1:]
        if kind == "pre" and opened.get("language"):
            entity["language"] = opened["language"]
        if entity["length"] > 0:
            entities.append(entity)
    if stack:
        opened = stack[-1]
        raise EntityParseError(
            f"Can't find end of {_MDV2_NAMES[opened['type']]} entity at byte offset {opened['byte']}"
        )
    if quote_start is not None and offset > quote_start:
        entities.append({"type": "blockquote", "offset": quote_start, "length": offset - quote_start})
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


# --- legacy Markdown -----------------------------------------------------------------------


def parse_markdown(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Telegram's legacy Markdown: ``*bold*``, ``_italic_``, backticks and ``[text](url)``."""
    out: list[str] = []
    offset = 0
    entities: list[dict[str, Any]] = []
    n = len(text)
    i = 0
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and text[i + 1] in "_*`[":
            out.append(text[i + 1])
            offset += 1
            i += 2
            continue
        if c not in "_*`[":
            out.append(c)
            offset += utf16_len(c)
            i += 1
            continue
        begin_byte = len(text[:i].encode("utf-8"))
        if text.startswith("```", i):
            end = text.find("```", i + 3)
            if end < 0:
                raise EntityParseError(f"Can't find end of the entity starting at byte offset {begin_byte}")
            body = text[i + 3 : end]
            language, sep, rest = body.partition("\n")
            if sep and language and " " not in language:
                body = rest
            else:
                language = ""
            entity: dict[str, Any] = {"type": "pre", "offset": offset, "length": utf16_len(body)}
            if language:
                entity["language"] = language
            i = end + 3
        else:
            closer = "]" if c == "[" else c
            end = text.find(closer, i + 1)
            if end < 0:
                raise EntityParseError(f"Can't find end of the entity starting at byte offset {begin_byte}")
            body = text[i + 1 : end]
            kind = {"*": "bold", "_": "italic", "`": "code", "[": "text_link"}[c]
            entity = {"type": kind, "offset": offset, "length": utf16_len(body)}
            i = end + 1
            if c == "[":
                url = ""
                if i < n and text[i] == "(":
                    close = text.find(")", i)
                    if close < 0:
                        raise EntityParseError(f"Can't find end of a url at byte offset {begin_byte}")
                    url = text[i + 1 : close]
                    i = close + 1
                entity["url"] = url
        out.append(body)
        offset += utf16_len(body)
        if entity["length"] > 0 and (entity["type"] != "text_link" or entity["url"]):
            entities.append(entity)
    return "".join(out), entities
