"""The virtual clock's pacing, driven by a fake monotonic clock (no sleeps)."""

from __future__ import annotations

import math

import pytest

from engine.errors import UserError
from mt5bridge.sim.pacing import MAX_SPEED, Pacer

T0 = 1_546_819_200_000  # 2019-01-07 00:00 UTC


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def test_real_time_maps_wall_seconds_to_virtual_seconds(clock):
    pacer = Pacer(T0, 1.0, clock=clock)

    clock.advance(2.5)

    assert pacer.now_msc() == T0 + 2500
    assert pacer.mode == "real time"


def test_accelerated_runs_n_virtual_seconds_per_wall_second(clock):
    pacer = Pacer(T0, 60.0, clock=clock)

    clock.advance(1.0)

    assert pacer.now_msc() == T0 + 60_000
    assert pacer.mode == "x 60"


def test_seconds_until_scales_with_speed_and_is_zero_when_due(clock):
    pacer = Pacer(T0, 10.0, clock=clock)
    clock.advance(1.0)  # virtual T0 + 10 s

    wait_future = pacer.seconds_until(T0 + 30_000)
    wait_past = pacer.seconds_until(T0 + 5_000)

    assert wait_future == pytest.approx(2.0)
    assert wait_past == 0.0


def test_max_mode_never_waits_and_follows_the_driver(clock):
    pacer = Pacer(T0, MAX_SPEED, clock=clock)

    clock.advance(100.0)
    before = pacer.now_msc()
    wait = pacer.seconds_until(T0 + 86_400_000)
    reached = pacer.advance_to(T0 + 60_000)

    assert before == T0
    assert wait == 0.0
    assert reached == T0 + 60_000 == pacer.now_msc()
    assert pacer.is_max and pacer.mode == "max"


def test_pause_freezes_virtual_time_and_resume_continues_without_a_jump(clock):
    pacer = Pacer(T0, 2.0, clock=clock)
    clock.advance(1.0)  # T0 + 2 s

    pacer.pause()
    clock.advance(50.0)
    frozen = pacer.now_msc()
    wait_while_paused = pacer.seconds_until(T0 + 3_000)
    pacer.resume()
    resumed = pacer.now_msc()
    clock.advance(1.0)

    assert frozen == T0 + 2_000
    assert math.isinf(wait_while_paused)
    assert resumed == T0 + 2_000
    assert pacer.now_msc() == T0 + 4_000


def test_changing_speed_on_the_fly_keeps_virtual_time_continuous(clock):
    pacer = Pacer(T0, 1.0, clock=clock)
    clock.advance(10.0)  # T0 + 10 s

    pacer.set_speed(100.0)
    at_switch = pacer.now_msc()
    clock.advance(1.0)

    assert at_switch == T0 + 10_000
    assert pacer.now_msc() == T0 + 110_000


def test_switching_from_max_to_timed_starts_where_the_driver_got_to(clock):
    pacer = Pacer(T0, MAX_SPEED, clock=clock)
    pacer.advance_to(T0 + 3_600_000)

    pacer.set_speed(1.0)
    clock.advance(1.0)

    assert pacer.now_msc() == T0 + 3_601_000


def test_step_pauses_and_goes_to_the_next_bar_boundary(clock):
    pacer = Pacer(T0 + 7 * 60_000, 1.0, clock=clock)  # 00:07

    first = pacer.step(1800)
    clock.advance(60.0)
    second = pacer.step(1800)

    assert first == T0 + 30 * 60_000
    assert second == T0 + 60 * 60_000
    assert pacer.paused and pacer.now_msc() == second


def test_advance_to_skips_forward_but_never_back(clock):
    pacer = Pacer(T0, 1.0, clock=clock)
    clock.advance(5.0)

    skipped = pacer.advance_to(T0 + 172_800_000)
    ignored = pacer.advance_to(T0)
    clock.advance(1.0)

    assert skipped == T0 + 172_800_000
    assert ignored == skipped
    assert pacer.now_msc() == T0 + 172_801_000


def test_virtual_time_never_decreases_even_if_the_clock_misbehaves(clock):
    pacer = Pacer(T0, 1.0, clock=clock)
    clock.advance(1.0)
    seen = pacer.now_msc()

    clock.now -= 5.0  # a clock function that goes backwards must not pull virtual time back

    assert seen == T0 + 1000
    assert pacer.now_msc() == seen


@pytest.mark.parametrize("speed", [0, -1.0, float("nan"), "fast", True])
def test_invalid_speed_is_a_user_error(clock, speed):
    with pytest.raises(UserError, match="speed"):
        Pacer(T0, speed, clock=clock)


def test_step_rejects_a_non_positive_bar(clock):
    pacer = Pacer(T0, 1.0, clock=clock)

    with pytest.raises(UserError, match="bar length"):
        pacer.step(0)
