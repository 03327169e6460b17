"""The one retry policy: the waits it computes and the reasons it stops, as values."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from dagkit.http.retry import Backoff, Stop, StopReason
from dagkit.http.transport import RetryPolicy


def test_delays_double_up_to_the_cap() -> None:
    waits = Backoff(0.25, 30.0)
    assert [waits.delay(n) for n in range(1, 10)] == [0.25, 0.5, 1, 2, 4, 8, 16, 30, 30]
    assert waits.delay(10_000) == 30.0  # no float overflow


@given(st.integers(min_value=1, max_value=5000))
def test_jittered_delays_stay_within_the_cap(failures: int) -> None:
    waits = Backoff(0.5, 30.0, jitter=True)
    assert 0.0 <= waits.delay(failures) <= Backoff(0.5, 30.0).delay(failures)


def test_poll_pauses_grow_by_half_within_their_bounds() -> None:
    polls = Backoff(1.0, 15.0, factor=1.5)
    pauses = [1.0]
    for _ in range(8):
        pauses.append(polls.grow(pauses[-1]))
    assert pauses == [1.0, 1.5, 2.25, 3.375, 5.0625, 7.59375, 11.390625, 15.0, 15.0]
    assert polls.grow(0.0) == 1.0


def test_the_policy_decides_with_reasons_not_prose() -> None:
    policy = RetryPolicy(max_attempts=3, total_budget=10.0, jitter=False)
    assert policy.decide(1, retryable=True, retry_after=None, remaining=10.0) == 0.5
    assert policy.decide(1, retryable=True, retry_after=4.0, remaining=10.0) == 4.0
    refused = policy.decide(1, retryable=False, retry_after=None, remaining=10.0)
    assert isinstance(refused, Stop) and refused.reason is StopReason.NOT_RETRYABLE
    assert str(refused) == ""
    spent = policy.decide(3, retryable=True, retry_after=None, remaining=10.0)
    assert isinstance(spent, Stop) and spent.reason is StopReason.OUT_OF_ATTEMPTS
    assert str(spent) == "Gave up after 3 attempts."
    late = policy.decide(1, retryable=True, retry_after=20.0, remaining=5.0)
    assert isinstance(late, Stop) and late.reason is StopReason.OUT_OF_BUDGET and late.asked
    assert str(late) == (
        "Gave up after 1 attempt: the server asked to wait 20.0 s, more than the 5.0 s left "
        "of the 10 s retry budget."
    )


def test_full_jitter_spreads_the_waits_below_the_cap() -> None:
    # Many clients retrying at once must not come back in step: each draw is its own.
    draws = [Backoff(0.5, 30.0, jitter=True).delay(5) for _ in range(50)]
    assert len(set(draws)) > 1 and min(draws) < 8.0
    jittered = [RetryPolicy(backoff_initial=8.0, backoff_max=8.0).backoff(1) for _ in range(50)]
    assert len(set(jittered)) > 1 and all(0.0 <= wait <= 8.0 for wait in jittered)


def test_a_wait_that_ends_with_the_budget_still_fits() -> None:
    policy = RetryPolicy(max_attempts=5, total_budget=10.0, jitter=False)
    assert policy.decide(2, retryable=True, retry_after=4.0, remaining=4.0) == 4.0
    assert policy.decide(2, retryable=True, retry_after=4.5, remaining=4.0) == Stop(
        StopReason.OUT_OF_BUDGET, 2, wait=4.5, remaining=4.0, budget=10.0, asked=True
    )


def test_each_stop_records_the_attempts_made() -> None:
    policy = RetryPolicy(max_attempts=4, jitter=False)
    assert policy.decide(2, retryable=False, retry_after=None, remaining=60.0) == Stop(
        StopReason.NOT_RETRYABLE, 2
    )
    assert policy.decide(4, retryable=True, retry_after=None, remaining=60.0) == Stop(
        StopReason.OUT_OF_ATTEMPTS, 4
    )


def test_a_computed_wait_beyond_the_budget_is_told_as_such() -> None:
    policy = RetryPolicy(total_budget=10.0, backoff_initial=8.0, jitter=False)
    late = policy.decide(1, retryable=True, retry_after=None, remaining=5.0)
    assert late == Stop(StopReason.OUT_OF_BUDGET, 1, wait=8.0, remaining=5.0, budget=10.0)
    assert str(late) == (
        "Gave up after 1 attempt: the next wait is 8.0 s, more than the 5.0 s left "
        "of the 10 s retry budget."
    )
