"""Futures CFDs through the simulated terminal: ``symbol_info`` fields, the trade mode
switching at the exact minute with MT5's retcodes (order_check = order_send), settlement
at expiry, and the synthetic market's futures (determinism; a market without futures is
unchanged bit for bit)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import numpy as np
import pytest

from engine.errors import ConfigError
from mt5bridge import constants as c
from mt5bridge.sim import ArrayFeed, SimConfig, SimTerminal
from mt5bridge.sim.feeds import ticks_from_rows
from mt5bridge.sim.futures_market import FuturesFeed
from mt5bridge.sim.futures_price import Mispricing
from mt5bridge.sim.market import MarketConfig, SyntheticMarket
from mt5bridge.sim.symbols import FUTURES_SPECS

MINUTE = 60_000


def utc_ms(*parts: int) -> int:
    return int(datetime(*parts, tzinfo=UTC).timestamp() * 1000)  # type: ignore[misc]


#: SPXUSD_Z19: close-only from Wed 2019-12-18 21:00 UTC, expires Fri 2019-12-20 21:00 UTC.
CLOSE_ONLY = utc_ms(2019, 12, 18, 21)
EXPIRY = utc_ms(2019, 12, 20, 21)
START = utc_ms(2019, 12, 18, 18)


def spx_terminal(*, with_cash: bool = True, **config: object) -> SimTerminal:
    """SPXUSD quoted every minute from Wednesday 18:00 to Friday 21:59 UTC (3150.00/3150.50),
    the Z19 and H20 contracts derived from it; without the cash, the contracts alone."""
    times = range(START, utc_ms(2019, 12, 20, 22), MINUTE)
    cash = ArrayFeed(("SPXUSD",), ticks_from_rows(("SPXUSD",), [
        (t, "SPXUSD", 3150.0, 3150.5) for t in times]), start_msc=START)
    feed = FuturesFeed(cash, ["SPXUSD_Z19", "SPXUSD_H20"],
                       Mispricing(jump_rate_per_day=0.0), seed=4)
    if not with_cash:
        feed = _ContractsOnly(feed)
    config.setdefault("selected", tuple(feed.symbols))
    term = SimTerminal(feed, SimConfig(**config))  # type: ignore[arg-type]
    assert term.initialize()
    term.sim_advance_to(START)
    return term


class _ContractsOnly:
    """A recording of the contracts alone (no cash symbol quoted)."""

    def __init__(self, inner: FuturesFeed) -> None:
        self._inner = inner
        self.symbols = tuple(inner.symbols)[1:]
        self.start_msc, self.end_msc = inner.start_msc, inner.end_msc

    def next_time(self) -> int | None:
        return self._inner.next_time()

    def ticks_until(self, t: int) -> np.ndarray:
        ticks = self._inner.ticks_until(t)
        ticks = ticks[ticks["symbol"] > 0].copy()
        ticks["symbol"] -= 1
        return ticks

    def warmup_bars(self) -> dict:
        return {}


def deal_request(term: SimTerminal, symbol: str, kind: int, volume: float,
                 position: int = 0) -> dict:
    tick = term.symbol_info_tick(symbol)
    return {"action": c.TRADE_ACTION_DEAL, "symbol": symbol, "volume": volume, "type": kind,
            "price": tick.ask if kind == c.ORDER_TYPE_BUY else tick.bid, "deviation": 20,
            "type_filling": c.ORDER_FILLING_FOK, "position": position}


def check_and_send(term: SimTerminal, request: dict) -> tuple[int, int]:
    checked = term.order_check(request)
    sent = term.order_send(request)
    return checked.retcode, sent.retcode


def test_symbol_info_states_the_contract() -> None:
    # Arrange
    term = spx_terminal(symbol_suffix=".a")

    # Act
    info = term.symbol_info("SPXUSD_Z19.a")
    cash = term.symbol_info("SPXUSD.a")

    # Assert: dates in server time (GMT+2 in December), the cash symbol as the broker names it
    spec = FUTURES_SPECS["SPXUSD_Z19"]
    assert info.expiration_time == spec.expiration_time + 2 * 3600 == EXPIRY // 1000 + 7200
    assert info.start_time == spec.start_time + 3 * 3600  # listed in June: GMT+3
    assert info.basis == "SPXUSD.a"
    assert info.trade_mode == c.SYMBOL_TRADE_MODE_FULL
    assert info.path == "Futures\\SPXUSD_Z19.a"
    assert info.spread == 60 and info.digits == 2 and info.trade_contract_size == 1.0
    assert (cash.expiration_time, cash.start_time, cash.basis) == (0, 0, "")


def test_trade_mode_turns_close_only_at_the_exact_minute_with_mt5_retcodes() -> None:
    # Arrange: long 2 lots before the switch
    term = spx_terminal()
    term.sim_advance_to(CLOSE_ONLY - MINUTE)
    assert check_and_send(term, deal_request(term, "SPXUSD_Z19", c.ORDER_TYPE_BUY, 2.0)) == (
        0, c.TRADE_RETCODE_DONE)
    assert term.symbol_info("SPXUSD_Z19").trade_mode == c.SYMBOL_TRADE_MODE_FULL

    # Act
    term.sim_advance_to(CLOSE_ONLY)
    position = term.positions_get(symbol="SPXUSD_Z19")[0].ticket
    opening_buy = check_and_send(term, deal_request(term, "SPXUSD_Z19", c.ORDER_TYPE_BUY, 1.0))
    opening_sell = check_and_send(term, deal_request(term, "SPXUSD_Z19", c.ORDER_TYPE_SELL, 1.0))
    closing = check_and_send(term, deal_request(term, "SPXUSD_Z19", c.ORDER_TYPE_SELL, 1.0,
                                                position=position))
    next_contract = check_and_send(term, deal_request(term, "SPXUSD_H20", c.ORDER_TYPE_BUY, 1.0))

    # Assert
    assert term.symbol_info("SPXUSD_Z19").trade_mode == c.SYMBOL_TRADE_MODE_CLOSEONLY
    assert opening_buy == (c.TRADE_RETCODE_CLOSE_ONLY, c.TRADE_RETCODE_CLOSE_ONLY)
    assert opening_sell == (c.TRADE_RETCODE_CLOSE_ONLY, c.TRADE_RETCODE_CLOSE_ONLY)
    assert closing == (0, c.TRADE_RETCODE_DONE)
    assert next_contract == (0, c.TRADE_RETCODE_DONE)


def test_netting_close_only_accepts_a_reducing_deal_and_refuses_a_reversal() -> None:
    # Arrange
    term = spx_terminal(margin_mode=c.ACCOUNT_MARGIN_MODE_RETAIL_NETTING)
    term.sim_advance_to(CLOSE_ONLY - MINUTE)
    term.order_send(deal_request(term, "SPXUSD_Z19", c.ORDER_TYPE_BUY, 2.0))
    term.sim_advance_to(CLOSE_ONLY)

    # Act
    reverse = check_and_send(term, deal_request(term, "SPXUSD_Z19", c.ORDER_TYPE_SELL, 3.0))
    reduce = check_and_send(term, deal_request(term, "SPXUSD_Z19", c.ORDER_TYPE_SELL, 1.0))

    # Assert
    assert reverse == (c.TRADE_RETCODE_CLOSE_ONLY, c.TRADE_RETCODE_CLOSE_ONLY)
    assert reduce == (0, c.TRADE_RETCODE_DONE)


def test_open_positions_are_settled_at_the_cash_price_at_expiry() -> None:
    # Arrange: long 1 and short 2 lots, a pending order left on the contract
    term = spx_terminal()
    term.sim_advance_to(utc_ms(2019, 12, 18, 19))
    buy = term.order_send(deal_request(term, "SPXUSD_Z19", c.ORDER_TYPE_BUY, 1.0))
    sell = term.order_send(deal_request(term, "SPXUSD_Z19", c.ORDER_TYPE_SELL, 2.0))
    pending = term.order_send({"action": c.TRADE_ACTION_PENDING, "symbol": "SPXUSD_Z19",
                               "volume": 1.0, "type": c.ORDER_TYPE_BUY_LIMIT,
                               "price": 3000.0, "type_filling": c.ORDER_FILLING_RETURN})
    assert pending.retcode == c.TRADE_RETCODE_PLACED
    balance = term.account_info().balance

    # Act
    term.sim_advance_to(EXPIRY - 1)
    before = term.symbol_info("SPXUSD_Z19")
    term.sim_advance_to(EXPIRY + 5 * MINUTE)

    # Assert: the final price is the cash mid 3150.25; F converged to it before expiry
    assert abs(np.log((before.bid + before.ask) / 2 / 3150.25)) < 1e-4
    assert term.positions_get(symbol="SPXUSD_Z19") == ()
    assert term.orders_get(symbol="SPXUSD_Z19") == ()
    deals = [d for d in term.history_deals_get(0, 2**31 - 1) if d.entry == c.DEAL_ENTRY_OUT]
    assert len(deals) == 2
    for deal in deals:
        assert deal.reason == c.DEAL_REASON_ROLLOVER
        assert deal.price == 3150.25 and deal.comment == "[expiration 3150.25]"
        assert deal.time_msc == EXPIRY + 2 * 3_600_000  # server time, GMT+2
    profit = (3150.25 - buy.price) * 1.0 + (sell.price - 3150.25) * 2.0
    assert term.account_info().balance == pytest.approx(balance + profit, abs=0.011)
    cancelled = term.history_orders_get(ticket=pending.order)
    assert cancelled[0].state == c.ORDER_STATE_CANCELED
    info = term.symbol_info("SPXUSD_Z19")
    assert info.trade_mode == c.SYMBOL_TRADE_MODE_DISABLED
    assert check_and_send(term, deal_request(term, "SPXUSD_Z19", c.ORDER_TYPE_BUY, 1.0)) == (
        c.TRADE_RETCODE_TRADE_DISABLED, c.TRADE_RETCODE_TRADE_DISABLED)


def test_a_contract_recorded_without_its_cash_settles_at_its_own_last_mid() -> None:
    # Arrange
    term = spx_terminal(with_cash=False)
    term.sim_advance_to(utc_ms(2019, 12, 18, 19))
    opened = term.order_send(deal_request(term, "SPXUSD_Z19", c.ORDER_TYPE_BUY, 1.0))
    assert opened.retcode == c.TRADE_RETCODE_DONE
    term.sim_advance_to(EXPIRY - 1)
    last = term.symbol_info_tick("SPXUSD_Z19")

    # Act
    term.sim_advance_to(EXPIRY)

    # Assert
    deal = term.history_deals_get(0, 2**31 - 1)[-1]
    assert deal.reason == c.DEAL_REASON_ROLLOVER
    assert deal.price == round((last.bid + last.ask) / 2, 2)


def _digest(market: SyntheticMarket, names: tuple[str, ...] | None = None) -> str:
    h = hashlib.sha256()
    bars = market.warmup_bars()
    ticks = market.ticks_until(utc_ms(2019, 12, 24))
    keep = names if names is not None else tuple(market.symbols)
    for name in keep:
        h.update(name.encode())
        h.update(bars[name].tobytes())
    index = [list(market.symbols).index(n) for n in keep]
    h.update(ticks[np.isin(ticks["symbol"], index)].tobytes())
    return h.hexdigest()


def _market(seed: int = 3, **extra: object) -> SyntheticMarket:
    return SyntheticMarket(MarketConfig(seed=seed, symbols=("EURUSD", "XAUUSD"), warmup_days=3,
                                        start=datetime(2019, 12, 19, tzinfo=UTC),
                                        end=datetime(2019, 12, 24, tzinfo=UTC),
                                        **extra))  # type: ignore[arg-type]


def test_synthetic_market_futures_are_deterministic_and_leave_the_cash_unchanged() -> None:
    # Arrange
    contracts = ("XAUUSD_Z19", "XAUUSD_H20")

    # Act
    plain = _digest(_market())
    cash_part = _digest(_market(futures=contracts), ("EURUSD", "XAUUSD"))
    whole = _digest(_market(futures=contracts))
    again = _digest(_market(futures=contracts))
    other_seed = _digest(_market(4, futures=contracts))

    # Assert
    assert tuple(_market(futures=contracts).symbols) == ("EURUSD", "XAUUSD", *contracts)
    assert cash_part == plain
    assert whole == again
    assert whole != other_seed


def test_synthetic_futures_quote_at_their_cash_timestamps() -> None:
    # Arrange
    market = _market(futures=("XAUUSD_Z19",))

    # Act
    ticks = market.ticks_until(utc_ms(2019, 12, 21))
    gold, future = ticks[ticks["symbol"] == 1], ticks[ticks["symbol"] == 2]

    # Assert
    assert len(future) == len(gold) > 1000
    assert np.array_equal(future["time_msc"], gold["time_msc"])
    assert np.all(np.diff(ticks["time_msc"]) >= 0)
    gap = np.log((future["bid"] + future["ask"]) / (gold["bid"] + gold["ask"]))
    assert np.abs(gap).max() < 0.01


def test_a_default_market_lists_no_futures() -> None:
    assert MarketConfig().futures == ()
    assert "XAUUSD_Z19" not in SyntheticMarket(MarketConfig()).symbols


@pytest.mark.parametrize(("futures", "message"), [
    (("EURUSD_Z19",), "not a futures contract"),
    (("SPXUSD_Z19",), "needs its cash symbol SPXUSD"),
    (("XAUUSD_Z19", "XAUUSD_Z19"), "listed twice"),
])
def test_bad_futures_in_market_config_are_one_clear_error(futures: tuple[str, ...],
                                                          message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        MarketConfig(symbols=("EURUSD", "XAUUSD"), futures=futures)


def test_a_pending_order_reached_after_the_close_only_switch_is_rejected() -> None:
    # Arrange: a buy stop a point above the ask, placed a millisecond before the switch
    # (this feed quotes once a minute, so nothing reaches it before)
    term = spx_terminal()
    term.sim_advance_to(CLOSE_ONLY - 1)
    ask = term.symbol_info_tick("SPXUSD_Z19").ask
    placed = term.order_send({"action": c.TRADE_ACTION_PENDING, "symbol": "SPXUSD_Z19",
                              "volume": 1.0, "type": c.ORDER_TYPE_BUY_STOP,
                              "price": round(ask + 0.01, 2),
                              "type_filling": c.ORDER_FILLING_RETURN})
    assert placed.retcode == c.TRADE_RETCODE_PLACED

    # Act: the contract's quote moves with its mispricing and noise after the switch
    term.sim_advance_to(CLOSE_ONLY + 60 * MINUTE)

    # Assert: reached in close-only, rejected rather than filled
    done = term.history_orders_get(ticket=placed.order)
    assert done and done[0].state == c.ORDER_STATE_REJECTED
    assert done[0].time_done_msc >= CLOSE_ONLY + 2 * 3_600_000  # server time, GMT+2
    assert term.positions_get(symbol="SPXUSD_Z19") == ()


def test_a_netting_position_is_settled_the_same_way() -> None:
    # Arrange
    term = spx_terminal(margin_mode=c.ACCOUNT_MARGIN_MODE_RETAIL_NETTING)
    term.sim_advance_to(utc_ms(2019, 12, 18, 19))
    opened = term.order_send(deal_request(term, "SPXUSD_Z19", c.ORDER_TYPE_SELL, 3.0))
    assert opened.retcode == c.TRADE_RETCODE_DONE

    # Act
    term.sim_advance_to(EXPIRY)

    # Assert
    assert term.positions_get(symbol="SPXUSD_Z19") == ()
    deal = term.history_deals_get(0, 2**31 - 1)[-1]
    assert (deal.type, deal.entry, deal.reason, deal.volume, deal.price) == (
        c.DEAL_TYPE_BUY, c.DEAL_ENTRY_OUT, c.DEAL_REASON_ROLLOVER, 3.0, 3150.25)
    assert deal.profit == pytest.approx((opened.price - 3150.25) * 3.0, abs=0.006)
