"""Failure injection: make chosen Bot API requests fail the way Telegram sometimes does.

A bot must survive a 429 in the middle of a broadcast, a 502 from Telegram's
front end, a connection dropped without an answer, or a request that never
returns. Tests and benchmarks queue :class:`FaultRule` objects; each request is
checked against the queue in order and the first rule that matches it is used
(and its ``count`` decremented), so a scenario reads as a script.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

KINDS = frozenset({"429", "500", "502", "drop", "delay", "timeout"})


@dataclass
class FaultRule:
    """One scripted failure: which requests it hits, how, and how many times."""

    kind: str
    method: str | None = None  # None: any method
    chat_id: int | str | None = None  # None: any chat (or none)
    count: int = 1
    retry_after: int = 1  # for "429"
    delay_s: float = 0.0  # for "delay" and "timeout"

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FaultRule:
        """Validate a rule as posted to the control API."""
        kind = str(data.get("kind", ""))
        if kind not in KINDS:
            raise ValueError(f"fault kind must be one of {sorted(KINDS)}, not {kind!r}")
        unknown = set(data) - {"kind", "method", "chat_id", "count", "retry_after", "delay_s"}
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        rule = cls(
            kind=kind,
            method=data.get("method") or None,
            chat_id=data.get("chat_id"),
            count=int(data.get("count", 1)),
            retry_after=int(data.get("retry_after", 1)),
            delay_s=float(data.get("delay_s", 0.0)),
        )
        if rule.count < 1:
            raise ValueError("count must be at least 1")
        if rule.retry_after < 1:
            raise ValueError("retry_after must be at least 1")
        if kind == "timeout" and rule.delay_s <= 0:
            rule.delay_s = 30.0
        return rule

    def matches(self, method: str, chat_id: object) -> bool:
        """Whether a request to ``method`` about ``chat_id`` is hit by this rule."""
        if self.method is not None and self.method.lower() != method.lower():
            return False
        return self.chat_id is None or str(self.chat_id) == str(chat_id)

    def to_json(self) -> dict[str, Any]:
        """As listed by the control API."""
        return asdict(self)


class FaultQueue:
    """Rules in the order they were added; each used up after ``count`` hits."""

    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self.injected = 0

    def add(self, rule: FaultRule) -> None:
        """Queue ``rule`` after the existing ones."""
        self._rules.append(rule)

    def clear(self) -> None:
        """Drop all queued rules."""
        self._rules.clear()

    def take(self, method: str, chat_id: object) -> FaultRule | None:
        """The first rule matching this request, consuming one of its uses."""
        for index, rule in enumerate(self._rules):
            if rule.matches(method, chat_id):
                rule.count -= 1
                if rule.count <= 0:
                    del self._rules[index]
                self.injected += 1
                return replace(rule, count=1)
        return None

    def to_json(self) -> list[dict[str, Any]]:
        """The rules still queued."""
        return [rule.to_json() for rule in self._rules]
