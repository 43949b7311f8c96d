"""An engine run with an H4 cluster and a D1 cluster on the synthetic market: warm-up from
the terminal's H1 rates, TDI points at New York labels, exits still on M1."""

from __future__ import annotations

import dataclasses

from helpers.engine_setup import DAY_MS, config, session

from engine.events import TdiUpdated
from engine.loop import run_sync
from engine.tdi import TdiParams
from engine.timeframes import ny_time


def test_h4_and_d1_clusters_warm_up_and_close_bars_at_new_york_labels(tmp_path):
    # Arrange: USD_MAJORS on H4, GOLD_HAVENS on D1, short windows that 35 days warm up.
    cfg = config()
    h4, d1 = cfg.clusters
    cfg = dataclasses.replace(cfg, clusters=(
        dataclasses.replace(h4, timeframe="H4", tdi=TdiParams(2, 12, 30), overshoot="E"),
        dataclasses.replace(d1, timeframe="D1", tdi=TdiParams(1, 3, 4),
                            stops=dataclasses.replace(d1.stops, atr_bars=3,
                                                      time_stop_bars=5))))
    s = session(tmp_path, cfg, start=False)
    events: list[TdiUpdated] = []
    s.engine.subscribe(lambda e: events.append(e) if isinstance(e, TdiUpdated) else None)

    # Act: start (warm-up) and ten days.
    s.engine.start()
    warmed = {name: sig.last_point.valid for name, sig in s.engine.signals.items()}
    run_sync(s.engine, s.engine.now_msc + 10 * DAY_MS)
    s.engine.stop("end")
    s.close()

    # Assert: both warmed up from history, and every bar is at its timeframe's label.
    assert warmed == {"USD_MAJORS": True, "GOLD_HAVENS": True}
    by = {name: [e for e in events if e.cluster == name] for name in warmed}
    assert {e.timeframe for e in by["USD_MAJORS"]} == {"H4"}
    assert {e.timeframe for e in by["GOLD_HAVENS"]} == {"D1"}
    assert {ny_time(int(e.time.timestamp())).hour for e in by["USD_MAJORS"]} == \
        {17, 21, 1, 5, 9, 13}
    assert {ny_time(int(e.time.timestamp())).strftime("%H:%M")
            for e in by["GOLD_HAVENS"]} == {"17:00"}
    # Monday 8 to Thursday 18 January 2024 00:00 UTC: 8 trading days close in it
    assert (len(by["USD_MAJORS"]), len(by["GOLD_HAVENS"])) == (48, 8)
    assert s.engine.signals["USD_MAJORS"].overshoot_level == h4.entry
    assert s.engine.signals["GOLD_HAVENS"].overshoot_level == d1.exit_band
