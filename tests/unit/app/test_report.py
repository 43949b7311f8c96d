"""The backtest report page: structure, honesty rules, hand-checked figures and size."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import numpy as np
import pandas as pd
import pytest

from app.report import (
    METRIC_SECTIONS,
    TRADE_COLUMNS,
    ReportInputError,
    ReportWriteError,
    checked_trades_frame,
    monthly_returns,
    render_report,
    write_report,
)
from app.report.svg import min_max_downsample, nice_ticks, time_ticks
from engine.metrics import ClosedBasket, compute_metrics

START_CAPITAL = 100_000.0
GENERATED = datetime(2024, 7, 1, 12, 0, tzinfo=UTC)
SECTION_IDS = ("summary", "metrics", "equity", "monthly", "exits", "tdi", "trades", "params")
VOID_TAGS = {"meta", "br", "hr", "img", "input", "link", "col", "wbr", "area", "base", "source"}


# --------------------------------------------------------------------------- builders


def m30_times(first_day: str, days: int) -> pd.DatetimeIndex:
    """M30 bar times of the weekdays among ``days`` calendar days from ``first_day`` (UTC)."""
    stamps = pd.date_range(first_day, periods=days * 48, freq="30min", tz="UTC")
    return stamps[stamps.day_of_week < 5]


def synthetic_tdi(count: int, seed: int) -> np.ndarray:
    """A mean-reverting series on the TDI's scale: mostly within +-1.2, spikes past 2.5."""
    rng = np.random.default_rng(seed)
    shocks = rng.standard_t(df=4, size=count) * 0.1
    values = np.empty(count)
    level = 0.0
    for position, shock in enumerate(shocks):
        level = 0.98 * level + shock
        values[position] = level
    values[:40] = np.nan  # the warm-up of the percentile window
    return values


def trades_from_tdi(
    cluster: str, series: pd.Series, seed: int, entry: float = 1.2, exit_band: float = 0.25
) -> list[dict[str, Any]]:
    """Baskets that follow the trading rules on the series, with plausible P&L per exit.

    After an exit the cluster re-arms only when the TDI is back inside the entry band, as
    the engine's cooldown does, so a TDI stuck beyond the stop gives one stop, not dozens.
    """
    rng = np.random.default_rng(seed)
    values, times = series.to_numpy(), series.index
    baskets: list[dict[str, Any]] = []
    position = 0
    while position < len(values) - 1:
        value = values[position]
        if not math.isfinite(value) or abs(value) <= entry:
            position += 1
            continue
        long = value < -entry
        close_at, code = len(values) - 1, "TO"
        for later in range(position + 1, min(position + 97, len(values))):
            now = values[later]
            if abs(now) < exit_band:
                close_at, code = later, "MR"
                break
            if (long and now >= exit_band) or (not long and now <= -exit_band):
                close_at, code = later, "OS"
                break
            if (long and now < -2.5) or (not long and now > 2.5):
                close_at, code = later, "TS"
                break
        else:
            close_at = min(position + 96, len(values) - 1)
        base = {"MR": 70.0, "OS": 150.0, "TS": -330.0, "TO": -120.0}[code]
        costs = -round(float(rng.uniform(8.0, 20.0)), 2)
        baskets.append(
            {
                "basket_id": f"{cluster}-{len(baskets) + 1:03d}",
                "cluster": cluster,
                "direction": "LONG" if long else "SHORT",
                "entry_time": times[position],
                "exit_time": times[close_at],
                "entry_tdi": float(value),
                "exit_tdi": float(values[close_at]),
                "exit_code": code,
                "pnl": round(base + float(rng.normal(0.0, 90.0)) + costs, 2),
                "costs": costs,
            }
        )
        position = close_at + 1
        while position < len(values) and not abs(values[position]) <= entry:
            position += 1  # re-armed only once the TDI is back inside the entry band
    return baskets


def equity_from_trades(trades: pd.DataFrame, days: pd.DatetimeIndex, seed: int) -> pd.DataFrame:
    """Daily balance (realised P&L by exit day) and equity (balance plus open-P&L noise)."""
    rng = np.random.default_rng(seed)
    realised = trades.groupby(trades["exit_time"].dt.normalize())["pnl"].sum()
    balance = START_CAPITAL + realised.reindex(days, fill_value=0.0).cumsum().to_numpy()
    equity = balance + rng.normal(0.0, 120.0, size=len(days))
    return pd.DataFrame({"balance": balance, "equity": equity}, index=days)


def closed_baskets(trades: pd.DataFrame) -> list[ClosedBasket]:
    return [
        ClosedBasket(
            row.cluster, row.direction, row.entry_time.to_pydatetime(),
            row.exit_time.to_pydatetime(), row.exit_code, row.pnl, row.costs,
        )
        for row in trades.itertuples(index=False)
        if pd.notna(row.exit_time)
    ]


def run_inputs(clusters: list[str], first_day: str, days: int, seed: int = 7) -> dict[str, Any]:
    """Every argument of write_report for a synthetic run (metrics from the real metrics)."""
    times = m30_times(first_day, days)
    tdi: dict[str, pd.DataFrame] = {}
    rows: list[dict[str, Any]] = []
    for number, name in enumerate(clusters):
        series = pd.Series(synthetic_tdi(len(times), seed + number), index=times)
        tdi[name] = pd.DataFrame({"tdi": series})
        rows += trades_from_tdi(name, series, seed + 100 + number)
    trades = pd.DataFrame(rows, columns=list(TRADE_COLUMNS))
    day_index = pd.date_range(first_day, periods=days, freq="D", tz="UTC")
    equity = equity_from_trades(trades, day_index, seed)
    metrics = compute_metrics(equity["equity"], START_CAPITAL, closed_baskets(trades)).to_dict()
    params = {
        "period": {"start": day_index[0].date().isoformat(),
                   "end": day_index[-1].date().isoformat()},
        "data_source": "parquet store (MT5 export ticks)",
        "tick_mode": "recorded",
        "seed": seed,
        "clusters": {
            name: {
                "symbols": ["EURUSD", "GBPUSD", "AUDUSD", "USDCHF"],
                "tdi": {"tau_f": 8, "tau_s": 96, "tau_q": 480},
                "entry": 1.2,
                "exit_band": 0.25,
                "stops": {"tdi_stop": 2.5, "time_stop_bars": 96, "hard_stop_atr": 5.0},
            }
            for name in clusters
        },
        "risk": {"risk_per_trade": 0.003, "max_open_risk": 0.02, "daily_loss_limit": 0.02},
        "news": {"enabled": True, "min_impact": "HIGH", "pre_minutes": 30, "post_minutes": 15},
        "execution": {"deviation_points": 20, "max_retries": 3},
    }
    data_ranges = {
        symbol: {"first": times[0], "last": times[-1], "rows": 1_250_000, "source": "mt5 ticks"}
        for symbol in ("EURUSD", "GBPUSD", "AUDUSD", "USDCHF")
    }
    return {
        "title": "Backtest " + ", ".join(clusters),
        "metrics": metrics,
        "trades": trades,
        "equity": equity,
        "tdi": tdi,
        "params": params,
        "data_ranges": data_ranges,
    }


@pytest.fixture(scope="module")
def small_run() -> dict[str, Any]:
    """A quarter, two clusters, a few dozen baskets."""
    return run_inputs(["ALPHA", "BETA"], "2024-01-01", 91)


def render(inputs: dict[str, Any], **overrides: Any) -> str:
    return render_report(**{**inputs, **overrides}, generated_at=GENERATED)


class _Structure(HTMLParser):
    """Collects tags, attributes and structural errors of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.starts: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.starts.append((tag, dict(attrs)))
        if tag not in VOID_TAGS:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.starts.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(page: str) -> _Structure:
    parser = _Structure()
    parser.feed(page)
    parser.close()
    return parser


def cell_text(page: str, attribute: str, value: str) -> str:
    """The text of the element carrying ``attribute="value"`` (tags stripped)."""
    match = re.search(rf'<(\w+)[^>]*\b{attribute}="{re.escape(value)}"[^>]*>(.*?)</\1>', page, re.S)
    assert match, f"no element with {attribute}={value!r}"
    return re.sub(r"<[^>]+>", "", match.group(2))


# --------------------------------------------------------------------------- the file


def test_write_report_writes_the_page_and_returns_its_path(small_run, tmp_path):
    # Arrange
    target = tmp_path / "runs" / "2024q1" / "report.html"

    # Act
    written = write_report(target, **small_run)

    # Assert: the folder was created, the page is there, no temporary file is left
    assert written == target
    page = target.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in target.parent.iterdir()) == ["report.html"]


def test_page_is_balanced_html(small_run):
    # Act
    structure = parse(render(small_run))

    # Assert
    assert structure.errors == []
    assert structure.stack == []
    assert [tag for tag, _ in structure.starts[:2]] == ["html", "head"]


def test_page_has_no_external_reference(small_run):
    # Act
    page = render(small_run)
    structure = parse(page)

    # Assert: no URL, no loaded resource, links only to anchors inside the page
    assert "http" not in page.lower()
    assert "src=" not in page.lower()
    assert "url(" not in page.lower() and "@import" not in page.lower()
    hrefs = [attrs["href"] for tag, attrs in structure.starts if "href" in attrs
             and tag != "link"]
    assert hrefs and all(href.startswith("#") for href in hrefs)
    # the one link element is the empty icon, so the browser asks for no /favicon.ico
    links = [attrs for tag, attrs in structure.starts if tag == "link"]
    assert links == [{"rel": "icon", "href": "data:,"}]
    ids = {attrs["id"] for _, attrs in structure.starts if "id" in attrs}
    assert {href[1:] for href in hrefs} <= ids


def test_page_has_every_section_and_every_metric(small_run):
    # Arrange
    metrics = small_run["metrics"]

    # Act
    structure = parse(render(small_run))

    # Assert
    ids = {attrs.get("id") for _, attrs in structure.starts}
    assert set(SECTION_IDS) <= ids
    shown = {attrs["data-metric"] for _, attrs in structure.starts if "data-metric" in attrs}
    for section in ("returns", "significance", "baskets", "diversification"):
        keys = {k for k in metrics[section] if k != "notes" and not k.endswith("_basis")}
        assert keys <= shown, f"{section}: {sorted(keys - shown)} not shown"
    assert set(metrics["clusters"]["basis"]) <= shown
    assert {f"config.{key}" for key in metrics["config"]} <= shown


def test_every_metric_row_shows_its_definition(small_run):
    # Arrange
    returns = small_run["metrics"]["returns"]

    # Act
    page = render(small_run)

    # Assert: the basis text is in the row of its metric
    row = re.search(r'<tr data-metric="sortino">(.*?)</tr>', page, re.S).group(1)
    assert "DD = sqrt(mean(min(r - tau, 0)^2)) over all observations" in row
    assert returns["sortino_basis"].replace("&", "&amp;") in page


def test_header_names_period_clusters_source_status_and_time(small_run):
    # Act
    page = render(small_run)

    # Assert
    header = re.search(r"<header.*?</header>", page, re.S).group(0)
    assert "2024-01-01 to 2024-03-31" in header
    assert "ALPHA, BETA" in header
    assert "parquet store (MT5 export ticks)" in header
    assert ">Complete<" in header
    assert "2024-07-01 12:00:00 UTC" in header


def test_rendering_is_repeatable(small_run):
    # Act
    first, second = render(small_run), render(small_run)

    # Assert
    assert first == second


# --------------------------------------------------------------------------- monthly returns


def hand_equity() -> pd.DataFrame:
    """Jan 2024 .. Feb 2025 with known month ends; a gap in March 2024 (no mark at all)."""
    month_ends = {
        "2024-01-31": 102_000.0,
        "2024-02-29": 100_980.0,
        "2024-04-30": 103_000.0,
        "2024-12-31": 110_000.0,
        "2025-01-31": 99_000.0,
        "2025-02-14": 100_980.0,
    }
    days = [pd.Timestamp("2024-01-15", tz="UTC"), pd.Timestamp("2024-02-10", tz="UTC")]
    days += [pd.Timestamp(day, tz="UTC") for day in month_ends]
    values = [101_000.0, 103_500.0, *month_ends.values()]
    frame = pd.DataFrame({"equity": values}, index=pd.DatetimeIndex(days)).sort_index()
    frame["balance"] = frame["equity"]
    return frame


def test_monthly_returns_equal_the_hand_computation():
    # Arrange
    equity = hand_equity()

    # Act
    table = monthly_returns(equity["equity"], START_CAPITAL)

    # Assert: Jan 102000/100000-1 = +2%; Feb 100980/102000-1 = -1%; Mar no mark;
    # Apr 103000/100980-1 = +2.0004%; Dec 110000/103000-1 = +6.7961%;
    # 2024: 110000/100000-1 = +10%; Jan 2025 99000/110000-1 = -10%;
    # Feb 2025 100980/99000-1 = +2%; 2025: 100980/110000-1 = -8.2%
    assert table.loc[2024, 1] == pytest.approx(0.02, abs=1e-12)
    assert table.loc[2024, 2] == pytest.approx(-0.01, abs=1e-12)
    assert math.isnan(table.loc[2024, 3])
    assert table.loc[2024, 4] == pytest.approx(103_000 / 100_980 - 1, abs=1e-12)
    assert table.loc[2024, 12] == pytest.approx(110_000 / 103_000 - 1, abs=1e-12)
    assert table.loc[2024, "year"] == pytest.approx(0.10, abs=1e-12)
    assert table.loc[2025, 1] == pytest.approx(-0.10, abs=1e-12)
    assert table.loc[2025, 2] == pytest.approx(0.02, abs=1e-12)
    assert table.loc[2025, "year"] == pytest.approx(100_980 / 110_000 - 1, abs=1e-12)
    assert table.loc[2025, [3, 12]].isna().all()


def test_monthly_table_on_the_page_shows_the_hand_computed_values(small_run):
    # Arrange: the metrics' start capital is 100,000
    equity = hand_equity()

    # Act
    page = render(small_run, equity=equity)

    # Assert
    assert cell_text(page, "data-month", "2024-01").startswith("+2.00%")
    assert cell_text(page, "data-month", "2024-02") == "-1.00%"
    assert cell_text(page, "data-month", "2024-03") == ""
    assert cell_text(page, "data-month", "2024-04") == "+2.00%"
    assert cell_text(page, "data-month", "2024-12") == "+6.80%"
    assert cell_text(page, "data-month", "2024") == "+10.00%"
    assert cell_text(page, "data-month", "2025-01") == "-10.00%"
    assert cell_text(page, "data-month", "2025") == "-8.20%"


def test_first_month_is_measured_from_the_first_mark_without_a_start_capital(small_run):
    # Arrange: no start capital in the metrics (an incomplete run's partial metrics)
    metrics = {k: v for k, v in small_run["metrics"].items() if k != "returns"}

    # Act
    page = render(small_run, metrics=metrics, equity=hand_equity(), complete=False)

    # Assert: Jan = 102000 / 101000 (the first mark, 2024-01-15) - 1 = +0.99%
    assert cell_text(page, "data-month", "2024-01").startswith("+0.99%")


def test_partial_months_are_marked():
    # Arrange: marks from 2024-01-15 to 2025-02-14
    equity = hand_equity()

    # Act
    page = render(run_inputs(["ALPHA"], "2024-01-01", 40), equity=equity)

    # Assert
    assert "partial month: from 2024-01-15" in page
    assert "partial month: to 2025-02-14" in page


# --------------------------------------------------------------------------- honesty


def test_incomplete_banner_appears_only_when_the_run_is_incomplete(small_run):
    # Act
    finished = render(small_run)
    stopped = render(small_run, complete=False, notes=["stopped by the trader at 2024-03-12"])

    # Assert
    assert "INCOMPLETE" not in finished
    assert 'role="alert"' not in finished
    assert re.search(r"<title>INCOMPLETE: Backtest ALPHA, BETA</title>", stopped)
    assert re.search(r"<h1>INCOMPLETE: Backtest ALPHA, BETA</h1>", stopped)
    banner = re.search(r'<div class="banner" role="alert">(.*?)</div>', stopped, re.S).group(1)
    assert "INCOMPLETE:" in banner
    assert "stopped by the trader at 2024-03-12" in banner
    assert stopped.index('role="alert"') < stopped.index('id="summary"')


def test_incomplete_run_with_missing_metric_sections_is_shown_as_missing(small_run):
    # Arrange
    metrics = {"returns": small_run["metrics"]["returns"]}

    # Act
    page = render(small_run, metrics=metrics, complete=False, notes=["engine error on day 40"])

    # Assert
    assert parse(page).errors == []
    assert 'Not available: the metrics have no "significance" section.' in page
    assert 'Not available: the metrics have no "clusters" section.' in page
    assert "agree between the metrics and the trades" not in page  # no basket figures to check


def test_complete_report_with_a_missing_metric_section_is_refused(small_run):
    # Arrange
    metrics = {k: v for k, v in small_run["metrics"].items() if k != "significance"}

    # Act / Assert
    with pytest.raises(ReportInputError, match=r"significance.*complete=False"):
        render(small_run, metrics=metrics)


def test_null_metric_shows_na_with_its_note(small_run):
    # Arrange
    metrics = {**small_run["metrics"]}
    metrics["returns"] = {
        **metrics["returns"],
        "calmar": None,
        "notes": {"calmar": "no drawdown (equity never fell below a peak): Calmar undefined"},
    }

    # Act
    page = render(small_run, metrics=metrics)

    # Assert: in the full table and on the headline card
    row = re.search(r'<tr data-metric="calmar">(.*?)</tr>', page, re.S).group(1)
    assert ">n/a<" in row
    assert "no drawdown (equity never fell below a peak): Calmar undefined" in row
    card = re.search(r'<div class="card" data-metric="calmar".*?</div></div>', page, re.S)
    assert ">n/a<" in card.group(0)
    assert "Calmar undefined" in card.group(0)


def test_infinite_profit_factor_of_a_cluster_shows_na_with_the_reason(small_run):
    # Arrange: a cluster with winners only has a null profit factor and a "+inf" note
    trades = small_run["trades"]
    winners = trades[(trades["cluster"] == "ALPHA") & (trades["pnl"] > 0)]
    metrics = compute_metrics(
        small_run["equity"]["equity"], START_CAPITAL, closed_baskets(winners)
    ).to_dict()

    # Act
    page = render(small_run, metrics=metrics, trades=winners)

    # Assert
    assert metrics["clusters"]["by_cluster"]["ALPHA"]["profit_factor"] is None
    row = re.search(r'<tr data-metric="profit_factor">(.*?)</tr>', page, re.S).group(1)
    assert ">n/a<" in row
    assert "ALPHA, profit factor: +inf: no losing basket" in page


def test_cross_check_failures_are_listed(small_run):
    # Arrange: the metrics count one basket more than the trades table holds
    metrics = {**small_run["metrics"]}
    metrics["baskets"] = {**metrics["baskets"], "baskets": metrics["baskets"]["baskets"] + 1}
    ranges = {**small_run["data_ranges"], "NZDUSD": {"first": None, "last": None, "rows": 0}}

    # Act
    page = render(small_run, metrics=metrics, data_ranges=ranges)

    # Assert
    closed = len(small_run["trades"])
    assert "Cross-checks failed" in page
    assert f"the metrics count {closed + 1:,} closed baskets but the trades table has" in page
    assert "symbol NZDUSD has no data in the period (0 rows)" in page
    assert "Cross-checks failed" not in render(small_run)


def test_text_from_the_inputs_is_escaped(small_run):
    # Arrange: a hostile cluster name, basket id, setting and note
    evil = "<script>alert(1)</script>"
    trades = small_run["trades"].copy()
    trades.loc[trades["cluster"] == "ALPHA", "cluster"] = evil
    trades.loc[0, "basket_id"] = '"><img onerror=x>'
    tdi = {evil if k == "ALPHA" else k: v for k, v in small_run["tdi"].items()}
    params = {**small_run["params"], "comment": "<b>bold</b> & co"}

    # Act
    page = render(small_run, title=f"Run {evil}", trades=trades, tdi=tdi, params=params,
                  complete=False, notes=[evil])
    structure = parse(page)

    # Assert: the only script is the page's own sorter; the text shows up escaped
    assert [tag for tag, _ in structure.starts].count("script") == 1
    assert "<img" not in page
    assert "<b>bold</b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert structure.errors == []


def test_json_ready_settings_and_unknown_ranges_are_read(small_run):
    # Arrange: ISO strings for times, flat cluster settings with "exit" and "tdi_stop",
    # a data range whose extent is unknown, and an open basket written with None/""
    params = {
        "source": "histdata M1 files",
        "period": {"from": "2024-01-01T00:00:00+00:00", "to": "2024-04-01T00:00:00+00:00"},
        "clusters": {
            "ALPHA": {"symbols": ["EURUSD", "GBPUSD", "USDCHF"], "entry": 1.5, "exit": 0.3,
                      "tdi_stop": 2.8},
        },
    }
    ranges = {
        "EURUSD M1": {"first": "2023-12-01T00:00:00+00:00", "last": "2024-03-29T21:59:00+00:00",
                      "rows": 120_000, "source": "DAT_ASCII_EURUSD_M1_2024.csv"},
        "GBPUSD": {"first": None, "last": None, "rows": None, "source": "files"},
    }
    trades = small_run["trades"].astype(object)
    last = len(trades) - 1
    trades.loc[last, ["exit_time", "exit_code", "exit_tdi", "pnl", "costs"]] = [
        None, "", None, None, None,
    ]

    # Act
    page = render(small_run, params=params, data_ranges=ranges, trades=trades, complete=False)

    # Assert
    header = re.search(r"<header.*?</header>", page, re.S).group(0)
    assert "2024-01-01 to 2024-04-01; equity marks 2024-01-01 to 2024-03-31" in header
    assert "histdata M1 files" in header
    alpha = re.search(r'<div class="tdi-panel" id="tdi-1">(.*?)</svg>', page, re.S).group(1)
    assert "E 1.5, X 0.3, stop 2.8" in alpha
    assert "+E 1.5" in alpha and "+TS 2.8" in alpha
    assert "<td>2023-12-01</td><td>2024-03-29 21:59</td>" in page
    assert "<td>unknown</td><td>unknown</td>" in page
    assert "no data in the period" not in page  # an unknown extent is not an empty one


# --------------------------------------------------------------------------- charts


def test_tdi_chart_marks_every_entry_and_exit(small_run):
    # Arrange
    trades = small_run["trades"]
    alpha = trades[trades["cluster"] == "ALPHA"]

    # Act
    page = render(small_run)

    # Assert: the first TDI panel is ALPHA's; one marker per entry and per exit
    panel = re.search(r'<div class="tdi-panel" id="tdi-1">(.*?)</svg>', page, re.S).group(1)
    assert "<h3>ALPHA</h3>" in panel
    assert panel.count('class="entry long"') == int((alpha["direction"] == "LONG").sum())
    assert panel.count('class="entry short"') == int((alpha["direction"] == "SHORT").sum())
    assert panel.count('class="exit win"') == int((alpha["pnl"] > 0).sum())
    assert panel.count('class="exit loss"') == int((alpha["pnl"] < 0).sum())
    assert panel.count('class="band-entry"') == 2
    assert panel.count('class="band-exit"') == 2
    assert panel.count('class="band-stop"') == 2


def test_exit_breakdown_counts_closed_baskets_per_code(small_run):
    # Arrange
    trades = small_run["trades"]

    # Act
    page = render(small_run)

    # Assert
    for code, count in trades["exit_code"].value_counts().items():
        row = re.search(rf'<tr class="" data-code="{code}">(.*?)</tr>', page, re.S).group(1)
        assert f'<td class="num">{count:,}</td>' in row
    assert '<tr class="zero" data-code="NEWS">' in page


def test_open_basket_is_listed_as_open_and_kept_out_of_the_exit_shares(small_run):
    # Arrange: the last basket is still open when the run stops
    trades = small_run["trades"].copy()
    trades.loc[len(trades) - 1, ["exit_time", "exit_code", "exit_tdi", "pnl"]] = [
        pd.NaT, None, np.nan, np.nan,
    ]

    # Act
    page = render(small_run, trades=trades, complete=False)

    # Assert
    assert '<td data-v="">open</td>' in page
    assert "still open at the end (not in the shares)" in page
    assert parse(page).errors == []


def test_year_of_m30_tdi_for_eight_clusters_stays_small():
    # Arrange: 8 clusters x ~12,500 M30 bars, a year of daily equity, every basket
    names = ["USD_MAJORS", "USD_CAD_JPY", "GOLD_HAVENS", "MAJORS_SIX", "EUR_CROSSES",
             "JPY_CROSSES", "GBP_BLOC", "COMMODITIES"]
    inputs = run_inputs(names, "2024-01-01", 366)
    bars = len(next(iter(inputs["tdi"].values())))

    # Act
    page = render(inputs)

    # Assert
    assert bars > 12_000
    assert len(inputs["trades"]) > 200
    assert len(page.encode("utf-8")) < 2_000_000
    assert page.count('class="tdi-panel"') == 8


def test_min_max_downsample_keeps_the_extremes_and_the_gaps():
    # Arrange: 10,000 points with one spike up, one down and a run of NaN
    rng = np.random.default_rng(3)
    values = rng.normal(0.0, 1.0, 10_000)
    values[1234], values[8765] = 25.0, -30.0
    values[5000:5400] = np.nan
    x = np.arange(values.size, dtype=np.float64)

    # Act
    xs, ys = min_max_downsample(x, values, 500)

    # Assert
    assert xs.size <= 1000
    assert np.nanmax(ys) == 25.0 and np.nanmin(ys) == -30.0
    assert xs[np.nanargmax(ys)] == 1234 and xs[np.nanargmin(ys)] == 8765
    assert np.isnan(ys).any()
    assert np.all(np.diff(xs) >= 0)


def test_short_series_are_drawn_whole():
    # Arrange
    x, y = np.arange(10.0), np.linspace(0.0, 1.0, 10)

    # Act
    xs, ys = min_max_downsample(x, y, 100)

    # Assert
    assert np.array_equal(xs, x) and np.array_equal(ys, y)


def test_axis_ticks_are_round_and_calendar_aligned():
    # Act
    ticks = nice_ticks(97_345.0, 112_870.0, 6)
    months = time_ticks(pd.Timestamp("2024-01-01", tz="UTC"), pd.Timestamp("2024-12-31", tz="UTC"))

    # Assert
    assert ticks == [97_500.0, 100_000.0, 102_500.0, 105_000.0, 107_500.0, 110_000.0, 112_500.0]
    assert [label for _, label in months][:3] == ["Jan 2024", "Feb", "Mar"]
    assert all(stamp.day == 1 for stamp, _ in months)


# --------------------------------------------------------------------------- bad input


def test_missing_trade_column_is_named(small_run):
    # Arrange
    trades = small_run["trades"].drop(columns=["exit_code"])

    # Act / Assert
    with pytest.raises(ReportInputError, match=r"trades lack column.*exit_code"):
        render(small_run, trades=trades)


def test_naive_trade_times_are_refused(small_run):
    # Arrange
    trades = small_run["trades"].copy()
    trades["entry_time"] = trades["entry_time"].dt.tz_localize(None)

    # Act / Assert
    with pytest.raises(ReportInputError, match=r"trades\.entry_time has times without a time zone"):
        checked_trades_frame(trades)


def test_unknown_exit_code_names_the_basket(small_run):
    # Arrange
    trades = small_run["trades"].copy()
    trades.loc[2, "exit_code"] = "XX"

    # Act / Assert
    with pytest.raises(ReportInputError, match=f"basket {trades.loc[2, 'basket_id']}.*'XX'"):
        render(small_run, trades=trades)


def test_exit_before_entry_is_refused(small_run):
    # Arrange
    trades = small_run["trades"].copy()
    trades.loc[0, "exit_time"] = trades.loc[0, "entry_time"] - timedelta(hours=1)

    # Act / Assert
    with pytest.raises(ReportInputError, match="before its entry"):
        render(small_run, trades=trades)


def test_empty_equity_is_refused(small_run):
    # Arrange
    equity = small_run["equity"].iloc[:0]

    # Act / Assert
    with pytest.raises(ReportInputError, match="equity is empty"):
        render(small_run, equity=equity)


def test_non_positive_equity_names_the_day(small_run):
    # Arrange
    equity = small_run["equity"].copy()
    equity.iloc[5, equity.columns.get_loc("equity")] = 0.0

    # Act / Assert
    with pytest.raises(ReportInputError, match=r"equity\.equity on 2024-01-06 is 0\.0"):
        render(small_run, equity=equity)


def test_tdi_frame_without_a_tdi_column_is_refused(small_run):
    # Arrange
    tdi = {**small_run["tdi"], "BETA": pd.DataFrame({"value": [0.1]})}

    # Act / Assert
    with pytest.raises(ReportInputError, match="tdi\\['BETA'\\] must be a DataFrame with a 'tdi'"):
        render(small_run, tdi=tdi)


@pytest.mark.parametrize("name", ["params", "data_ranges"])
def test_settings_that_are_not_a_mapping_are_refused(small_run, name):
    # Act / Assert
    with pytest.raises(ReportInputError, match=f"{name} must be a mapping, got list"):
        render(small_run, **{name: [("seed", 7)]})


def test_unwritable_target_raises_and_leaves_nothing(small_run, tmp_path):
    # Arrange: the parent "folder" is a file
    blocker = tmp_path / "taken"
    blocker.write_text("not a folder", encoding="utf-8")

    # Act
    with pytest.raises(ReportWriteError, match="cannot write the report to"):
        write_report(blocker / "report.html", **small_run)

    # Assert
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]


def test_naive_equity_dates_are_taken_as_utc(small_run):
    # Arrange
    equity = small_run["equity"].copy()
    equity.index = equity.index.tz_localize(None)

    # Act / Assert
    assert render(small_run, equity=equity) == render(small_run)


def test_cluster_without_a_tdi_series_says_so(small_run):
    # Arrange
    tdi = {"ALPHA": small_run["tdi"]["ALPHA"]}

    # Act
    page = render(small_run, tdi=tdi)

    # Assert: BETA still has its panel, with the reason instead of a chart
    panel = re.search(r'<div class="tdi-panel" id="tdi-2">(.*?)</div>', page, re.S).group(1)
    assert "<h3>BETA</h3>" in panel
    assert "No TDI series was given for this cluster." in panel


def test_rewriting_a_report_replaces_it_whole(small_run, tmp_path):
    # Arrange
    target = tmp_path / "report.html"
    write_report(target, **small_run, complete=False, notes=["first attempt failed"])

    # Act
    write_report(target, **small_run)

    # Assert
    page = target.read_text(encoding="utf-8")
    assert "INCOMPLETE" not in page
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]


def test_single_day_run_renders(small_run):
    # Arrange
    equity = small_run["equity"].iloc[:1]
    metrics = compute_metrics(equity["equity"], START_CAPITAL, []).to_dict()

    # Act
    page = render(small_run, equity=equity, metrics=metrics, trades=small_run["trades"].iloc[:0])

    # Assert: one partial month, measured from the start capital
    assert parse(page).errors == []
    assert "2024-01-01 to 2024-01-01 (1 daily mark)" in page
    expected = equity["equity"].iloc[0] / START_CAPITAL - 1.0
    assert cell_text(page, "data-month", "2024-01") == f"{expected * 100:+.2f}%*"


def test_empty_run_renders_with_no_baskets(small_run):
    # Arrange: a run that never traded
    trades = small_run["trades"].iloc[:0]
    equity = small_run["equity"].assign(balance=START_CAPITAL, equity=START_CAPITAL)
    metrics = compute_metrics(equity["equity"], START_CAPITAL, []).to_dict()

    # Act
    page = render(small_run, trades=trades, equity=equity, metrics=metrics)

    # Assert
    assert parse(page).errors == []
    assert "No basket was opened in this run." in page
    assert set(METRIC_SECTIONS) <= set(metrics)
