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
