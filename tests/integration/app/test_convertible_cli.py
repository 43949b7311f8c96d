"""``main.py convertible price`` and ``convertible hedge``: what they print, the files the
hedge writes, and bad input as one line naming the option (exit 2)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pandas as pd
import pytest
from helpers.cli import run_cli
from helpers.paths import REPO_ROOT, TEST_DATA

from engine.convertible import ConvertibleTerms, MarketInputs, implied_volatility, price_convertible

AMD_2020 = TEST_DATA / "equity_daily" / "sp500_AMD_adjclose_2020.csv.gz"
BOND = ["--face", "1000", "--coupon", "0.02", "--maturity", "5", "--ratio", "10"]
MARKET = ["--spot", "100", "--vol", "0.3", "--rate", "0.03", "--credit-spread", "0.02"]


def figure(printed: str, name: str) -> str:
    """The figure printed on the line of ``name``."""
    line = next(line for line in printed.splitlines() if line.strip().startswith(name + " "))
    return line.split()[len(name.split())]


def test_price_prints_the_pricers_price_delta_gamma_and_implied_volatility(capsys):
    # Arrange
    terms = ConvertibleTerms(face=1000.0, maturity=5.0, ratio=10.0, coupon=0.02)
    market = MarketInputs(spot=100.0, volatility=0.3, rate=0.03, credit_spread=0.02)
    value = price_convertible(terms, market)
    implied = implied_volatility(terms, market, 1150.0)

    # Act
    code, printed, err = run_cli(["convertible", "price", *BOND, *MARKET,
                                  "--market-price", "1150"], capsys)

    # Assert
    assert (code, err) == (0, "")
    assert figure(printed, "price") == f"{value.price:.4f}"
    assert figure(printed, "delta") == f"{value.delta:.6f}"
    assert figure(printed, "gamma") == f"{value.gamma:.6f}"
    assert figure(printed, "bond floor") == f"{value.bond_floor:.4f}"
    assert figure(printed, "implied vol") == f"{implied:.4%}"
    assert "shares per bond" in printed and "American conversion" in printed


def test_price_reads_calls_puts_and_european_conversion(capsys):
    # Arrange
    terms = ConvertibleTerms(face=1000.0, maturity=5.0, ratio=10.0, coupon=0.02,
                             european=True)
    market = MarketInputs(spot=100.0, volatility=0.3, rate=0.03, credit_spread=0.02)
    plain = price_convertible(terms, market).price

    # Act
    code, printed, _ = run_cli(["convertible", "price", *BOND, *MARKET, "--european",
                                "--call", "3:1100", "--call", "4:1050", "--put", "2:950"],
                               capsys)

    # Assert
    assert code == 0
    assert "European (maturity only) conversion, 2 call and 1 put dates" in printed
    assert float(figure(printed, "price")) != pytest.approx(plain, rel=1e-6)


@pytest.mark.parametrize(("extra", "message"), [
    (["--vol", "30"], "error: --vol: must be a number in (0, 5], got 30.0"),
    (["--coupon", "2"], "error: --coupon: must be a number in [0, 1], got 2.0"),
    (["--call", "6:1000"], "error: --call: a date at 6 years is not before the maturity 5"),
    (["--call", "three:1000"], "error: --call: expected YEARS:PRICE with positive numbers, "
                               "got 'three:1000'"),
    (["--put", "2:-5"], "error: --put: expected YEARS:PRICE with positive numbers, got "
                        "'2:-5' (must be a number in (0, 1e+12], got -5.0)"),
    (["--market-price", "500"], "error: --market-price: 500 is below the model's price"),
    (["--steps", "801"], "error: --steps: must be even (the coarser tree has half), got 801"),
    (["--spot", "0"], "error: --spot: must be a number in (0, 1e+12], got 0.0"),
    # terms no bond has: two prices on one date, a put and a call at once
    (["--call", "3:1100", "--call", "3:1050"], "error: --call: two calls at 3 years"),
    (["--put", "3:1200", "--call", "3:1050"], "error: --put: a put and a call at 3 years"),
])
def test_bad_price_input_is_one_line_naming_the_option(extra, message, capsys):
    # Act: later options win, so each bad value replaces a good one
    code, printed, err = run_cli(["convertible", "price", *BOND, *MARKET, *extra], capsys)

    # Assert
    assert code == 2
    assert printed == ""
    assert err.startswith(message)
    assert err.count("\n") == 1


def test_a_value_that_is_not_a_number_is_argparses_one_line(capsys):
    # Act
    code, _, err = run_cli(["convertible", "price", *BOND, *MARKET, "--face", "lots"], capsys)

    # Assert
    assert code == 2
    assert err.strip().endswith("argument --face: invalid float value: 'lots'")
    assert err.count("\n") == 1


def test_quantlib_engine_without_quantlib_names_the_extra(monkeypatch, capsys):
    # Arrange: ``import QuantLib`` fails in this interpreter
    monkeypatch.setitem(sys.modules, "QuantLib", None)

    # Act
    code, _, err = run_cli(["convertible", "price", *BOND, *MARKET, "--engine", "quantlib"],
                           capsys)

    # Assert
    assert code == 2
    assert err == ("error: --engine quantlib needs QuantLib: pip install "
                   "'fxcluster[convertible]' (or use the built-in --engine tree)\n")


def test_quantlib_engine_prints_quantlibs_figures(capsys):
    # Arrange
    pytest.importorskip("QuantLib")  # the cross-check module fails it in CI
    from app.research.convertible_quantlib import quantlib_value

    terms = ConvertibleTerms(face=1000.0, maturity=5.0, ratio=10.0, coupon=0.02)
    market = MarketInputs(spot=100.0, volatility=0.3, rate=0.03, credit_spread=0.02)
    value = quantlib_value(terms, market)

    # Act
    code, printed, _ = run_cli(["convertible", "price", *BOND, *MARKET, "--engine",
                                "quantlib"], capsys)

    # Assert
    assert code == 0
    assert "QuantLib BinomialConvertibleEngine" in printed
    assert figure(printed, "price") == f"{value.price:.4f}"
    assert figure(printed, "delta") == f"{value.delta:.6f}"


HEDGE = ["convertible", "hedge", "--data", str(AMD_2020), "--ticker", "amd", "--face",
         "1000", "--coupon", "0.02", "--maturity", "5", "--vol", "0.5", "--rate", "0.01",
         "--credit-spread", "0.03", "--borrow", "0.005", "--cost", "0.0005", "--steps", "200"]


def test_hedge_prints_the_split_and_writes_files_whose_columns_recompute_it(tmp_path, capsys):
    # Act
    code, printed, err = run_cli([*HEDGE, "--to", "2020-06-30", "--out", str(tmp_path)],
                                 capsys)

    # Assert: the bond is said to be synthetic; each printed part is its column's sum
    assert (code, err) == (0, "")
    assert "AMD 2020-01-02 .. 2020-06-30 (125 closes, real). The bond is SYNTHETIC" in printed
    daily = pd.read_csv(tmp_path / "hedge_daily.csv")
    summary = pd.read_csv(tmp_path / "hedge_summary.csv").set_index("figure")["value"]
    parts = ["gamma_trading", "rest", "coupon", "bond_financing", "stock_financing",
             "hedge_cost"]
    for part in parts:
        assert round(daily[part].sum(), 2) == round(float(summary[part]), 2)
        assert f"{float(summary[part]):,.2f}" in printed
    assert (daily[parts].sum(axis=1) - daily["total"]).abs().max() < 1e-9
    assert round(daily["total"].sum(), 2) == round(float(summary["total"]), 2)
    assert daily["cumulative_total"].iloc[-1] == pytest.approx(daily["total"].sum(), abs=1e-9)
    assert summary["bond"] == "synthetic"


@pytest.mark.parametrize(("extra", "message"), [
    (["--ticker", "XYZ"], "error: --ticker: no column XYZ in"),
    (["--band", "2"], "error: --band: must be a number in [0, 1], got 2.0"),
    (["--from", "2021-01-01"], "error: --ticker AMD: 0 closes in the period"),
    (["--maturity", "0.1"], None),
    (["--ratio", "20", "--premium", "0.2"],
     "error: --ratio and --premium both fix the conversion ratio; give one of them"),
])
def test_bad_hedge_input_is_one_line_naming_the_option(extra, message, tmp_path, capsys):
    # Act
    code, printed, err = run_cli([*HEDGE, *extra, "--out", str(tmp_path)], capsys)

    # Assert (a bond that matures inside the period is no error: it stops there)
    if message is None:
        assert code == 0
        assert "The bond matured: the simulation stops at 2020-02-07." in printed
        return
    assert code == 2
    assert err.startswith(message)
    assert err.count("\n") == 1


def test_convertible_help_imports_no_heavy_module():
    # Arrange: a fresh interpreter, where sys.modules shows what building the parser loaded
    script = textwrap.dedent("""
        import contextlib, io, json, sys
        import main
        for line in (["convertible"], ["convertible", "price"], ["convertible", "hedge"]):
            with contextlib.redirect_stdout(io.StringIO()):
                try:
                    main.main([*line, "--help"])
                except SystemExit:
                    pass
        heavy = ("numba", "pandas", "QuantLib", "PySide6", "pyarrow")
        print(json.dumps(sorted(m for m in heavy if m in sys.modules)))
    """)

    # Act
    proc = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})

    # Assert
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.splitlines()[-1]) == []


def test_the_help_defaults_are_their_owners():
    # Arrange
    from app.cli import convertible as cli
    from app.research.convertible_hedge import SIM_STEPS
    from engine.convertible.tree import DEFAULT_STEPS

    # Assert
    assert (cli.DEFAULT_STEPS, cli.SIM_STEPS) == (DEFAULT_STEPS, SIM_STEPS)
