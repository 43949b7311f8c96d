"""Configuration of the simulated terminal, its broker and its account."""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.errors import ConfigError
from mt5bridge import constants as c
from mt5bridge.servertime import ServerTimeZone
from mt5bridge.sim.faults import FaultConfig
from mt5bridge.sim.sessions import MarketHours
from mt5bridge.sim.symbols import SymbolSpec

__all__ = ["SimConfig"]


@dataclass(frozen=True)
class SimConfig:
    """Everything about the simulated broker that is not the market itself.

    Defaults describe a typical ECN-style MT5 demo account:

    - ``market_seed`` (0): seed of the synthetic market built when no feed is given.
    - ``login`` / ``password`` / ``server``: what ``initialize``/``login`` accept;
      ``password=None`` accepts any password (never shown in ``repr``).
    - ``currency`` ("USD"), ``balance`` (100 000, booked as a ``DEAL_TYPE_BALANCE`` deal),
      ``leverage`` (100).
    - ``margin_mode``: ``ACCOUNT_MARGIN_MODE_RETAIL_HEDGING`` (default) or
      ``ACCOUNT_MARGIN_MODE_RETAIL_NETTING``.
    - ``margin_so_call`` (100 %) and ``margin_so_so`` (50 %): margin-call and stop-out
      levels; below the stop-out level the most losing position is closed, then the next,
      until the level recovers.
    - ``commission_per_lot`` (3.5): account currency per lot per side, on every deal.
    - ``symbol_suffix`` (""): broker suffix appended to every symbol name (``".a"`` lists
      ``EURUSD.a``), as many brokers do.
    - ``extra_specs``: specs for feed symbols not in ``BROKER_SPECS`` (or overriding them:
      ``symbols.long_only(BROKER_SPECS["KO"])`` makes KO long-only).
    - ``server_tz``: the server clock (default GMT+2, GMT+3 during US DST).
    - ``market_hours``: weekly close and holidays (orders outside get 10018).
    - ``faults``: fault injection (off by default).
    - ``algo_trading`` (True): the terminal's Algo Trading switch; off gives 10027.
    - ``selected`` (()): symbols already in Market Watch at start (canonical or broker
      names); all others need ``symbol_select`` before ticks and rates.
    - ``tick_history_days`` (3) / ``tick_history_max_ticks`` (3 000 000): the tick window
      ``copy_ticks_*`` can serve, whichever is smaller.
    - ``max_bars`` (100 000): M1 bars kept per symbol (the terminal's "Max bars in chart").
    - ``account_epoch`` (""): names this life of the account's positions and deal history
      (``engine.records.RunStart.epoch``).  Leave it empty: every ``SimTerminal`` draws a
      fresh one, since its account lives exactly as long as the terminal does; clients of a
      terminal server read the served terminal's through ``sim_config``.

    Which account the simulator presents (``server``, ``login``, ``currency``) is chosen per
    seed or market by ``mt5bridge.sim.identity``.
    """

    market_seed: int = 0
    login: int = 52_700_001
    password: str | None = field(default=None, repr=False)
    server: str = "FxCluster-Demo"
    account_name: str = "Simulated Trader"
    company: str = "FxCluster Simulated Broker"
    terminal_path: str = r"C:\Program Files\FxCluster Sim Terminal"
    currency: str = "USD"
    balance: float = 100_000.0
    leverage: int = 100
    margin_mode: int = c.ACCOUNT_MARGIN_MODE_RETAIL_HEDGING
    margin_so_call: float = 100.0
    margin_so_so: float = 50.0
    commission_per_lot: float = 3.5
    symbol_suffix: str = ""
    extra_specs: tuple[SymbolSpec, ...] = ()
    server_tz: ServerTimeZone = field(default_factory=ServerTimeZone)
    market_hours: MarketHours = field(default_factory=MarketHours)
    faults: FaultConfig = field(default_factory=FaultConfig)
    algo_trading: bool = True
    selected: tuple[str, ...] = ()
    tick_history_days: float = 3.0
    tick_history_max_ticks: int = 3_000_000
    max_bars: int = 100_000
    #: Not configuration but which life of the account this is: two terminals with the same
    #: settings compare equal whatever their epochs.
    account_epoch: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        def bad(key: str, reason: str) -> ConfigError:
            return ConfigError("simulated terminal", key, reason)

        if self.margin_mode not in (
            c.ACCOUNT_MARGIN_MODE_RETAIL_HEDGING, c.ACCOUNT_MARGIN_MODE_RETAIL_NETTING
        ):
            raise bad("margin_mode", f"{self.margin_mode} is not retail hedging (2) or netting (0)")
        if self.leverage <= 0:
            raise bad("leverage", "must be positive")
        if self.balance < 0:
            raise bad("balance", "must not be negative")
        if self.commission_per_lot < 0:
            raise bad("commission_per_lot", "must not be negative")
        if not 0 <= self.margin_so_so <= self.margin_so_call:
            raise bad("margin_so_so", "must be between 0 and margin_so_call")
        if self.tick_history_max_ticks < 1000:
            raise bad("tick_history_max_ticks", "must be at least 1000")
        if self.max_bars < 1:
            raise bad("max_bars", "must be positive")

    @property
    def hedging(self) -> bool:
        return self.margin_mode == c.ACCOUNT_MARGIN_MODE_RETAIL_HEDGING
