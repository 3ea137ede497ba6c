"""The token bucket behind the per-key rate limit."""

from __future__ import annotations

from service.ratelimit import RateLimiter


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_allows_the_limit_then_asks_to_wait() -> None:
    clock = Clock()
    limiter = RateLimiter(60, clock=clock)
    decisions = [limiter.hit("key:1") for _ in range(61)]
    assert all(d.allowed for d in decisions[:60])
    assert [d.remaining for d in decisions[:3]] == [59, 58, 57]
    last = decisions[60]
    assert not last.allowed
    assert last.retry_after == 1


def test_refills_evenly_over_the_minute() -> None:
    clock = Clock()
    limiter = RateLimiter(6, clock=clock)  # one token every 10 s
    for _ in range(6):
        assert limiter.hit("k").allowed
    refused = limiter.hit("k")
    assert not refused.allowed and refused.retry_after == 10
    clock.now += 9.9
    assert not limiter.hit("k").allowed
    clock.now += 0.2
    assert limiter.hit("k").allowed
    assert not limiter.hit("k").allowed


def test_buckets_are_per_identity_and_capped_at_the_limit() -> None:
    clock = Clock()
    limiter = RateLimiter(2, clock=clock)
    assert limiter.hit("a").allowed and limiter.hit("a").allowed
    assert not limiter.hit("a").allowed
    assert limiter.hit("b").allowed
    clock.now += 3600  # an idle hour does not bank more than one minute's worth
    assert [limiter.hit("a").allowed for _ in range(3)] == [True, True, False]


def test_zero_turns_it_off() -> None:
    limiter = RateLimiter(0)
    assert not limiter.enabled
    assert all(limiter.hit("x").allowed for _ in range(1000))
