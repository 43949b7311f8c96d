"""Engine cost per M1 step with the 8 default clusters, and signal-to-order latency.

Run by hand:  .venv/bin/python bench/bench_engine.py [--days 10]
The demo market (16 symbols, synthetic ticks) drives the engine through the live adapter
over the simulated terminal, exactly as a replay does.  Reported:
- wall time per M1 step, in total and without the simulated terminal's own work
  (the driver's ``step_to``: tick generation and matching), i.e. the engine's share;
- latency from the start of the step that closes the bar to the first ``order_send`` of a
  basket (bar building, TDI, checks, sizing and journaling of the request).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from app.sessions import demo_session
from engine.config import load_engine_config

DAY_MS = 86_400_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=float, default=10.0)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    session = demo_session(load_engine_config(), seed=0, journal_path=tmp / "journal.sqlite")
    engine = session.engine
    engine.start()

    driver_s = 0.0
    real_step_to = engine.driver.step_to

    def timed_step_to(t_msc: int):
        nonlocal driver_s
        t0 = time.perf_counter()
        out = real_step_to(t_msc)
        driver_s += time.perf_counter() - t0
        return out

    engine.driver.step_to = timed_step_to  # type: ignore[method-assign]
    latencies: list[float] = []
    step_started = 0.0
    sent_this_step = False
    real_send = engine.terminal.order_send

    def timed_send(request: dict):  # type: ignore[no-untyped-def]
        nonlocal sent_this_step
        if not sent_this_step and request.get("position", 0) == 0:
            latencies.append(time.perf_counter() - step_started)
            sent_this_step = True
        return real_send(request)

    engine.terminal.order_send = timed_send  # type: ignore[method-assign]
    end = engine.now_msc + int(args.days * DAY_MS)
    t = (engine.now_msc // 60_000 + 1) * 60_000
    steps = 0
    wall0 = time.perf_counter()
    while t <= end:
        step_started = time.perf_counter()
        sent_this_step = False
        engine.step(t)
        steps += 1
        t += 60_000
    wall = time.perf_counter() - wall0
    print(f"{len(engine.signals)} clusters, {len(engine.market.symbols)} symbols, "
          f"{args.days:g} days: {steps:,} M1 steps in {wall:.2f} s; "
          f"{engine.stats.baskets_opened} baskets")
    print(f"per M1 step: {wall / steps * 1e6:.1f} us in total, "
          f"{(wall - driver_s) / steps * 1e6:.1f} us engine (simulated terminal excluded)")
    if latencies:
        ms = sorted(x * 1e3 for x in latencies)
        p95 = ms[min(len(ms) - 1, int(0.95 * len(ms)))]
        print(f"bar close -> first order_send of a basket: median "
              f"{statistics.median(ms):.2f} ms, p95 {p95:.2f} ms, max {ms[-1]:.2f} ms "
              f"({len(ms)} baskets)")
    session.close()


if __name__ == "__main__":
    main()
