"""Futures CFDs of the simulated broker: names, expiry rules, the catalogue, the trade mode
by date and the fair basis (mt5bridge/sim/futures.py, futures_catalogue.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from engine.errors import ConfigError
from mt5bridge import constants as c
from mt5bridge.sim.futures import (
    FuturesTerms,
    contract_name,
    expiry_date,
    fair_log_basis,
    parse_contract,
    trade_mode_at,
)
from mt5bridge.sim.futures_catalogue import (
    contracts_of,
    front_contract,
    futures_spec,
    next_contract,
)
from mt5bridge.sim.symbols import BROKER_SPECS, FUTURES_SPECS


def utc_ms(*parts: int) -> int:
    return int(datetime(*parts, tzinfo=UTC).timestamp() * 1000)  # type: ignore[misc]


def test_contract_names_follow_cash_underscore_month_code_and_year() -> None:
    # Arrange / Act / Assert
    assert contract_name("SPXUSD", 2019, 12) == "SPXUSD_Z19"
    assert contract_name("XAUUSD", 2020, 3) == "XAUUSD_H20"
    assert parse_contract("BCOUSD_M20") == ("BCOUSD", 2020, 6)
    assert parse_contract("EURUSD") is None
    assert parse_contract("SPXUSD_A19") is None


@pytest.mark.parametrize(("cash", "year", "month", "expected"), [
    ("SPXUSD", 2019, 12, date(2019, 12, 20)),   # third Friday
    ("NSXUSD", 2019, 3, date(2019, 3, 15)),
    ("BCOUSD", 2020, 3, date(2020, 1, 31)),     # last business day two months before
    ("BCOUSD", 2019, 12, date(2019, 10, 31)),
    ("XAUUSD", 2019, 12, date(2019, 12, 27)),   # third-last business day of the month
    ("XAUUSD", 2019, 3, date(2019, 3, 27)),
])
def test_expiry_rules_of_each_family(cash: str, year: int, month: int, expected: date) -> None:
    assert expiry_date(cash, year, month) == expected


def test_the_catalogue_lists_quarterly_contracts_of_2019_and_early_2020() -> None:
    # Arrange
    cash = ("SPXUSD", "NSXUSD", "BCOUSD", "XAUUSD")
    codes = ("H19", "M19", "U19", "Z19", "H20", "M20")

    # Act / Assert
    assert set(FUTURES_SPECS) == {f"{s}_{k}" for s in cash for k in codes}
    assert all(name in BROKER_SPECS for name in FUTURES_SPECS)
    spec = FUTURES_SPECS["SPXUSD_Z19"]
    cash_spec = BROKER_SPECS["SPXUSD"]
    assert spec.basis == "SPXUSD" and spec.futures is not None
    assert spec.futures.month == "2019-12" and spec.futures.code == "Z19"
    assert spec.expiration_time == utc_ms(2019, 12, 20, 21) // 1000
    assert (spec.contract_size, spec.digits, spec.calc_mode, spec.session) == (
        cash_spec.contract_size, cash_spec.digits, cash_spec.calc_mode, cash_spec.session)
    assert spec.swap_mode == c.SYMBOL_SWAP_MODE_DISABLED and spec.group == "Futures"
    assert BROKER_SPECS["SPXUSD"].expiration_time == 0


def test_every_day_of_2019_has_a_live_front_contract_and_a_next_one() -> None:
    # Arrange
    day = datetime(2019, 1, 1, 12, tzinfo=UTC)

    # Act / Assert
    while day.year == 2019:
        t = int(day.timestamp() * 1000)
        for cash in ("SPXUSD", "NSXUSD", "BCOUSD", "XAUUSD"):
            front, after = front_contract(cash, t), next_contract(cash, t)
            assert front is not None and after is not None, (cash, day)
            assert front.name in FUTURES_SPECS and after.name in FUTURES_SPECS, (cash, day)
            assert front.expiration_time < after.expiration_time
        day += timedelta(days=1)


def test_front_contract_rolls_at_the_expiry_instant() -> None:
    # Arrange
    expiry = utc_ms(2019, 12, 20, 21)

    # Act / Assert
    assert front_contract("SPXUSD", expiry - 1).name == "SPXUSD_Z19"
    assert front_contract("SPXUSD", expiry).name == "SPXUSD_H20"
    assert next_contract("SPXUSD", expiry).name == "SPXUSD_M20"
    assert front_contract("EURUSD", expiry) is None


def test_a_contract_of_another_year_is_found_by_its_name() -> None:
    # Act
    spec = futures_spec("XAUUSD_H24")
    live = contracts_of("XAUUSD", utc_ms(2024, 1, 8), utc_ms(2024, 2, 8))

    # Assert
    assert spec is not None and spec.basis == "XAUUSD"
    assert spec.expiration_time == utc_ms(2024, 3, 27, 21) // 1000  # 3rd-last business day
    assert [s.name for s in live] == ["XAUUSD_H24", "XAUUSD_M24", "XAUUSD_U24"]
    assert futures_spec("EURUSD_H24") is None


def test_trade_mode_switches_at_the_exact_minute() -> None:
    # Arrange: SPXUSD_Z19 expires 2019-12-20 21:00 UTC, close-only 2 days before
    spec = FUTURES_SPECS["SPXUSD_Z19"]
    assert spec.futures is not None and spec.futures.close_only_days == 2
    close_only = utc_ms(2019, 12, 18, 21)
    expiry = utc_ms(2019, 12, 20, 21)

    # Act / Assert
    assert trade_mode_at(spec, spec.start_time * 1000 - 1) == c.SYMBOL_TRADE_MODE_DISABLED
    assert trade_mode_at(spec, spec.start_time * 1000) == c.SYMBOL_TRADE_MODE_FULL
    assert trade_mode_at(spec, close_only - 60_000) == c.SYMBOL_TRADE_MODE_FULL
    assert trade_mode_at(spec, close_only - 1) == c.SYMBOL_TRADE_MODE_FULL
    assert trade_mode_at(spec, close_only) == c.SYMBOL_TRADE_MODE_CLOSEONLY
    assert trade_mode_at(spec, expiry - 1) == c.SYMBOL_TRADE_MODE_CLOSEONLY
    assert trade_mode_at(spec, expiry) == c.SYMBOL_TRADE_MODE_DISABLED
    assert trade_mode_at(BROKER_SPECS["RRC"], expiry) == c.SYMBOL_TRADE_MODE_LONGONLY


def test_fair_basis_is_carry_times_years_to_expiry_act_365() -> None:
    # Arrange: BCOUSD_Z19 (carry 2 % - 6 % = -4 % a year), 73 days before expiry
    spec = FUTURES_SPECS["BCOUSD_Z19"]
    t = utc_ms(2019, 10, 31, 21) - 73 * 86_400_000

    # Act / Assert
    assert fair_log_basis(spec, t) == pytest.approx(-0.04 * 73 / 365, rel=1e-12)
    assert fair_log_basis(spec, utc_ms(2019, 10, 31, 21)) == 0.0
    assert fair_log_basis(spec, utc_ms(2019, 11, 30)) == 0.0


@pytest.mark.parametrize(("key", "value"), [
    ("month", "2019-13"), ("rate", float("nan")), ("carry_yield", 3.0), ("close_only_days", -1),
])
def test_bad_futures_terms_name_their_field(key: str, value: object) -> None:
    # Arrange
    fields = {"cash": "SPXUSD", "month": "2019-12", "code": "Z19", "rate": 0.02,
              "carry_yield": 0.019, "close_only_days": 2, key: value}

    # Act / Assert
    with pytest.raises(ConfigError, match=key):
        FuturesTerms(**fields)  # type: ignore[arg-type]


def test_the_console_shows_a_contract_of_any_year_at_its_digits() -> None:
    from app.console import symbol_digits

    assert symbol_digits("XAUUSD_H24") == 2 == symbol_digits("SPXUSD_Z19")
    assert symbol_digits("NOTASYMBOL") == 5
