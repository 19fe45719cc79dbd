"""The rate limiter on a fake clock: global, per-chat burst, per-group-per-minute."""

from __future__ import annotations

import pytest

from bot.sandbox.limits import Limits, RateLimiter, is_counted


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def test_global_limit_is_per_second_across_chats(clock: FakeClock) -> None:
    limiter = RateLimiter(Limits(global_per_second=30), clock)
    for chat_id in range(30):
        assert limiter.acquire(chat_id, is_group=False) is None
    assert limiter.acquire(99, is_group=False) == 1
    clock.advance(0.5)
    assert limiter.acquire(99, is_group=False) == 1  # ceil(0.5) is still one second
    clock.advance(0.5)
    assert limiter.acquire(99, is_group=False) is None
    assert limiter.rejected == 2


def test_private_chat_allows_a_burst_then_one_per_second(clock: FakeClock) -> None:
    limiter = RateLimiter(Limits(per_chat_per_second=1, per_chat_burst=3), clock)
    assert [limiter.acquire(7, is_group=False) for _ in range(3)] == [None, None, None]
    assert limiter.acquire(7, is_group=False) == 1
    assert limiter.acquire(8, is_group=False) is None  # other chats are not affected
    clock.advance(1.0)
    assert limiter.acquire(7, is_group=False) is None
    assert limiter.acquire(7, is_group=False) == 1
    clock.advance(10.0)  # the bucket refills to the burst size, no further
    assert [limiter.acquire(7, is_group=False) for _ in range(4)] == [None, None, None, 1]


def test_retry_after_counts_from_when_the_window_frees_up(clock: FakeClock) -> None:
    limiter = RateLimiter(Limits(per_chat_per_second=0.25, per_chat_burst=1), clock)
    assert limiter.acquire(7, is_group=False) is None
    assert limiter.acquire(7, is_group=False) == 4
    clock.advance(2.5)
    assert limiter.acquire(7, is_group=False) == 2


def test_group_is_limited_to_twenty_per_minute(clock: FakeClock) -> None:
    limiter = RateLimiter(Limits(per_chat_per_second=1, per_chat_burst=3), clock)
    for _ in range(20):
        assert limiter.acquire(-100, is_group=True) is None
        clock.advance(1.0)
    # 20 sends at t=0..19; the first leaves the window at t=60, and it is now t=20.
    assert limiter.acquire(-100, is_group=True) == 40
    clock.advance(39.5)
    assert limiter.acquire(-100, is_group=True) == 1
    clock.advance(0.5)
    assert limiter.acquire(-100, is_group=True) is None


def test_private_chats_have_no_minute_limit(clock: FakeClock) -> None:
    limiter = RateLimiter(Limits(), clock)
    for _ in range(30):
        assert limiter.acquire(5, is_group=False) is None
        clock.advance(1.0)


def test_refused_sends_are_not_counted(clock: FakeClock) -> None:
    limiter = RateLimiter(Limits(per_chat_burst=1), clock)
    assert limiter.acquire(1, is_group=False) is None
    for _ in range(5):
        assert limiter.acquire(1, is_group=False) == 1
    clock.advance(1.0)
    assert limiter.acquire(1, is_group=False) is None


def test_disabled_limits_let_everything_through(clock: FakeClock) -> None:
    limiter = RateLimiter(Limits(enabled=False), clock)
    assert all(limiter.acquire(-1, is_group=True) is None for _ in range(1000))


def test_configure_resets_the_windows(clock: FakeClock) -> None:
    limiter = RateLimiter(Limits(per_chat_burst=1), clock)
    limiter.acquire(1, is_group=False)
    assert limiter.acquire(1, is_group=False) == 1
    limiter.configure(limiter.limits.updated({"per_chat_burst": 5}))
    assert limiter.acquire(1, is_group=False) is None


def test_updated_rejects_unknown_settings() -> None:
    with pytest.raises(ValueError, match=r"unknown"):
        Limits().updated({"per_hour": 1})


@pytest.mark.parametrize(
    ("method", "counted"),
    [
        ("sendMessage", True),
        ("sendPhoto", True),
        ("editMessageText", True),
        ("copyMessage", True),
        ("forwardMessage", True),
        ("sendChatAction", False),
        ("getMe", False),
        ("answerCallbackQuery", False),
    ],
)
def test_which_methods_count(method: str, counted: bool) -> None:
    assert is_counted(method) is counted
