"""Token buckets for request throttling: pure, with time passed in (seconds, any origin)."""

from __future__ import annotations

import pytest

from rolehop.core.rate_limit import Buckets, Rate


def test_a_burst_passes_then_the_rate_refills_it() -> None:
    buckets = Buckets(Rate(per_second=2, burst=3))
    assert [buckets.take("a", now=100.0) for _ in range(4)] == [True, True, True, False]
    assert not buckets.take("a", now=100.4)  # 0.8 of a token so far
    assert buckets.take("a", now=100.5)  # one token after half a second at 2 per second
    assert not buckets.take("a", now=100.5)


def test_an_idle_bucket_refills_no_higher_than_its_burst() -> None:
    buckets = Buckets(Rate(per_second=10, burst=2))
    assert buckets.take("a", now=0.0) and buckets.take("a", now=0.0)
    assert [buckets.take("a", now=3600.0) for _ in range(3)] == [True, True, False]


def test_one_key_empty_does_not_hold_back_another() -> None:
    buckets = Buckets(Rate(per_second=1, burst=1))
    assert buckets.take("flooder", now=0.0)
    assert not buckets.take("flooder", now=0.0)
    assert buckets.take("bystander", now=0.0)


def test_a_clock_going_backwards_gives_no_tokens() -> None:
    buckets = Buckets(Rate(per_second=1, burst=1))
    assert buckets.take("a", now=50.0)
    assert not buckets.take("a", now=10.0)  # not a refill of -40 s, nor of +40 s
    assert not buckets.take("a", now=50.5)
    assert buckets.take("a", now=51.0)


def test_a_flood_of_distinct_keys_costs_bounded_memory() -> None:
    buckets = Buckets(Rate(per_second=1, burst=1), max_keys=100)
    for i in range(1000):
        assert buckets.take(f"source-{i}", now=0.0)
        assert len(buckets) <= 100


def test_forgetting_keeps_the_empty_buckets_while_full_ones_are_enough() -> None:
    # a full bucket is the same as none: dropping those first never lets a flooder start over
    buckets = Buckets(Rate(per_second=1, burst=1), max_keys=3)
    assert buckets.take("flooder", now=10.0)
    assert buckets.take("x", now=0.0) and buckets.take("y", now=0.0)  # full again by t=10
    assert buckets.take("z", now=10.0)  # the map is full: x and y go, flooder stays
    assert not buckets.take("flooder", now=10.0)


@pytest.mark.parametrize(("per_second", "burst"), [(0, 1), (-1, 5), (1, 0), (float("nan"), 1), (1, 0.5)])
def test_a_rate_that_cannot_be_is_refused(per_second: float, burst: float) -> None:
    with pytest.raises(ValueError):
        Rate(per_second=per_second, burst=burst)
