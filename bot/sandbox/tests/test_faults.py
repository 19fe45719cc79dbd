"""The fault queue: rules match by method and chat, are used in order, and run out."""

from __future__ import annotations

import pytest

from bot.sandbox.faults import FaultQueue, FaultRule


def test_rules_are_consumed_in_order() -> None:
    queue = FaultQueue()
    queue.add(FaultRule(kind="500", count=2))
    queue.add(FaultRule(kind="drop"))
    assert [getattr(queue.take("sendMessage", 1), "kind", None) for _ in range(4)] == [
        "500", "500", "drop", None,
    ]  # fmt: skip
    assert queue.injected == 3


def test_rules_match_method_case_insensitively_and_chat() -> None:
    queue = FaultQueue()
    queue.add(FaultRule.from_json({"kind": "429", "method": "sendmessage", "chat_id": -5}))
    assert queue.take("sendMessage", -6) is None
    assert queue.take("editMessageText", -5) is None
    rule = queue.take("sendMessage", "-5")
    assert rule is not None and rule.retry_after == 1
    assert queue.to_json() == []


def test_a_later_rule_can_match_before_an_earlier_one() -> None:
    queue = FaultQueue()
    queue.add(FaultRule(kind="500", method="sendPhoto"))
    queue.add(FaultRule(kind="502", method="sendMessage"))
    assert getattr(queue.take("sendMessage", 1), "kind", None) == "502"
    assert len(queue.to_json()) == 1


@pytest.mark.parametrize(
    "data",
    [{"kind": "boom"}, {"kind": "500", "count": 0}, {"kind": "429", "retry_after": 0},
     {"kind": "500", "colour": "red"}],
)  # fmt: skip
def test_invalid_rules_are_refused(data: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        FaultRule.from_json(data)


def test_timeout_gets_a_long_default_delay() -> None:
    assert FaultRule.from_json({"kind": "timeout"}).delay_s == 30.0
