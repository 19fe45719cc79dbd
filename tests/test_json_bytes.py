"""JSON for what is sealed and sent (storage/json_bytes.py): orjson, and the standard library for
what orjson refuses, so that no update that could be kept before fails to be kept now."""

from __future__ import annotations

import json

from storage import json_bytes


def test_the_same_json_as_the_standard_library_for_what_telegram_sends():
    update = {"update_id": 7, "message": {"text": "Жалақыны 45% көтеру 🚩", "chat": {"id": -1001234567890}}}
    assert json.loads(json_bytes.dumps(update)) == update
    assert json_bytes.loads_own(json_bytes.dumps(update)) == update
    assert "Жалақыны".encode() in json_bytes.dumps(update)  # as itself, not \u-escaped


def test_what_orjson_refuses_is_written_by_the_standard_library():
    hostile = {"update_id": 8, "message": {"message_id": 2**70, "date": -(2**65)}}
    assert json.loads(json_bytes.dumps(hostile)) == hostile  # exactly: no float, no error
    assert json.loads(json_bytes.dumps({1: "a key that is not a string"})) == {"1": "a key that is not a string"}
