"""``main.py audit`` on three real weeks (tests/data/histdata): the three checks, their
pinned figures, the report files, the exit codes and the one-line errors."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pandas as pd
import pytest
from helpers.configs import short_window_config
from helpers.paths import TEST_DATA

import app.audit.checks as checks
from main import main

#: Short windows so that three weeks of real M1 data warm up in a few days.
SMALL = short_window_config("USD_MAJORS", "GOLD_HAVENS")
DATA = str(TEST_DATA / "histdata")


@pytest.fixture(scope="module")
def small_config(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("audit-config") / "small.toml"
    path.write_text(SMALL)
    return path


@pytest.fixture(scope="module")
def audited(small_config, tmp_path_factory) -> tuple[int, str, dict, Path]:
    """One audit with eight surrogate seeds and a report: exit code, screen, audit.json."""
    report = tmp_path_factory.mktemp("audit") / "report"
    screen = io.StringIO()
    with contextlib.redirect_stdout(screen):
        code = main(["audit", "--data", DATA, "--config", str(small_config), "--seeds", "8",
                     "--report", str(report)])
    return code, screen.getvalue(), json.loads((report / "audit.json").read_text()), report


def test_the_audit_runs_and_exits_0(audited):
    code, screen, doc, _ = audited

    assert code == 0
    assert doc["backtests"] == 1 + 2 + 8 + 5
    for heading in ("(a) Truncation invariance", "(b) No-edge surrogates",
                    "(c) Cost sensitivity", "Sharpe basis:", "P&L basis:"):
        assert heading in screen


def test_truncation_finds_no_difference_on_real_data(audited):
    _, screen, doc, _ = audited
    t = doc["truncation"]

    assert t["passed"] is True and t["first_difference"] is None
    assert t["cut"] == "2019-10-28T00:00:00+00:00"  # 60% into 2019-10-23 .. 2019-11-01 21:00
    assert t["signals_compared"] == 286 and t["baskets_compared"] == 9
    assert "PASS: the runs to D and to D+k agree on all 286 signal scores (TDI, z, ...)" in screen


def test_no_edge_surrogates_show_no_edge(audited):
    _, _, doc, _ = audited
    s = doc["surrogates"]
    pnl = [r["pnl"] for r in s["surrogates"]]
    sharpe = [round(r["sharpe"], 2) for r in s["surrogates"]]

    # pinned on seeds 0..7 of these three weeks (daily returns on FX trading days)
    assert sharpe == [5.59, -2.13, -2.95, 4.29, 6.76, -2.10, -4.24, -5.16]
    assert pnl == pytest.approx([419.58, -226.38, -334.27, 412.97, 492.64, -231.92, -426.48,
                                 -408.28], abs=0.005)
    # no edge: three weeks are noisy (single seeds reach +6.76), but on average the
    # surrogates make nothing before costs and lose after them
    assert sum(pnl) / len(pnl) < 0 and abs(s["mean"]) < 0.05
    assert s["min"] == min(r["sharpe"] for r in s["surrogates"])
    # and the real run is no better than they are
    assert s["rank"] == 4 and s["of"] == 9 and s["p_value"] == pytest.approx(4 / 9)
    assert round(s["real"]["sharpe"], 2) == 1.26


def test_cost_table_is_monotone_and_pinned(audited):
    _, _, doc, _ = audited
    table = {(r["spread_scale"], r["commission_scale"]): r["pnl"] for r in doc["costs"]["rows"]}

    assert doc["costs"]["monotone"] is True
    assert table == pytest.approx({(0.0, 1.0): 583.88, (1.0, 1.0): 122.44, (2.0, 1.0): -106.67,
                                   (0.0, 0.0): 810.21, (1.0, 0.0): 387.58,
                                   (2.0, 0.0): 51.17}, abs=0.005)
    assert table[(1.0, 1.0)] == doc["real"]["pnl"]


def test_report_files_hold_every_figure_of_the_screen(audited):
    _, screen, doc, report = audited
    page = (report / "audit.html").read_text()

    assert sorted(p.name for p in report.iterdir()) == ["audit.html", "audit.json"]
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    for check in ("truncation", "surrogates", "costs"):
        assert doc[check]["verdict"] in screen
    assert "-426.48" in page and "-426.48" in screen
    assert doc["sharpe_basis"] in page.replace("&#x27;", "'")


def leaky(result):
    """The engine's TDI with a look-ahead injected: each bar shows the next bar's value."""
    return {name: frame["tdi"].shift(-1) for name, frame in result.tdi.items()}


def test_an_injected_look_ahead_fails_the_audit_with_exit_1(small_config, monkeypatch, capsys):
    monkeypatch.setattr(checks, "tdi_series", leaky)

    code = main(["audit", "--data", DATA, "--config", str(small_config), "--seeds", "1"])

    out = capsys.readouterr().out
    assert code == 1
    assert "FAIL (look-ahead): first difference before D: signal" in out
    assert "nan in the run cut at D" in out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--seeds", "0"], "--seeds: 0 is not a number of surrogates in 1..100"),
        (["--weeks", "53"], "--weeks: 53 is not a number of weeks in 1..52"),
        (["--cut", "2019-13-01"], "--cut: not a date"),
        (["--cut", "2019-11-20"], "--cut 2019-11-20 00:00 is outside the traded period"),
        (["--from", "2019-11-20"], "empty period"),
        (["--clusters", "NOPE"], "--clusters: unknown cluster(s): NOPE"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(small_config, capsys, extra, message):
    code = main(["audit", "--data", DATA, "--config", str(small_config), *extra])

    err = capsys.readouterr().err
    assert code == 2
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_missing_data_and_a_report_path_that_is_a_file_are_refused(tmp_path, capsys):
    occupied = tmp_path / "file"
    occupied.write_text("x")

    assert main(["audit", "--data", str(tmp_path / "none")]) == 2
    assert "no such file or directory" in capsys.readouterr().err
    assert main(["audit", "--data", DATA, "--report", str(occupied)]) == 2
    assert "is a file" in capsys.readouterr().err
    assert not any(p.name.startswith("audit") for p in tmp_path.iterdir())


def test_audit_cut_points_default_to_60_percent_at_midnight():
    from app.audit import cut_points

    start, end = pd.Timestamp("2019-02-05", tz="UTC"), pd.Timestamp("2019-12-31", tz="UTC")

    cut, later = cut_points(start, end, None, 4)

    assert cut == pd.Timestamp("2019-08-21", tz="UTC")  # 197.4 of 329 days, floored
    assert later == cut + pd.Timedelta(weeks=4)
