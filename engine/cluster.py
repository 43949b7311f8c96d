"""Cluster specs, the cluster config file, and basket sizing from the TDI's v1.

A basket is the cluster's common-factor deviation made tradable.  Each pair loading
``v_ij``, divided by the pair's RC std (the Z denominator), adds to asset i and subtracts
from asset j; the result is a signed *account-currency exposure per asset*.  Because every
pair adds and subtracts the same amount, the exposures sum to zero whatever v1 is.

What an asset is depends on the cluster's space (``engine.space``).  In symbol space it is
the symbol's base currency, priced in the symbol's own quote: the base notionals sum to
zero, but with mixed XXXUSD/USDXXX quotes the basket is not flat in any currency.  In
currency space it is the symbol's other currency priced in the cluster's numeraire, so the
exposures sum to zero *in the numeraire*: the basket is flat in it.  Either way each leg
trades on its real symbol: ``orientation x exposure / (account value of one base unit)``
units (returns-space sizing; long "CHF in USD" is a sale of USDCHF), rounded to the
broker's volume step.
"""

from __future__ import annotations

import math
import os
import stat
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from engine import ranges
from engine.errors import ConfigError
from engine.factor import DEFAULT_WINDOW, MIN_WINDOW, NO_FACTOR
from engine.instruments import is_fx_name
from engine.kinds import DEFAULT_KIND, KIND_DEFAULTS, KINDS, model_warmup_bars, params_class
from engine.model import MAX_BASKET_ID_LENGTH, MAX_TICKET, Direction
from engine.space import NoNumeraire, numeraire_of, numeraire_or_none, orientations
from engine.tdi import TdiParams, canonical_symbols, pair_names
from engine.toml_sections import section_from_toml

DEFAULT_CONFIG = Path(__file__).with_name("clusters.toml")
#: TS: the TDI distance against the position beyond which a basket is stopped (the console
#: draws it as the stop band of clusters it knows nothing else about).
DEFAULT_TDI_STOP = 2.5

#: A basket id is ``<cluster>-YYYYMMDDTHHMM-NNN`` (``engine.model.make_basket_id``): 18
#: characters follow the cluster's name, so a name may have 29 - 18 = 11.
BASKET_ID_SUFFIX = len("-YYYYMMDDTHHMM-NNN")
MAX_CLUSTER_NAME = MAX_BASKET_ID_LENGTH - BASKET_ID_SUFFIX
#: The highest entry threshold or TDI stop: with the default windows, 2019's |TDI| reached
#: 5.1 at most in the four clusters that year's M1 data feeds (99.9th percentile 2.1 to
#: 2.4), so a level of 100 never fires.
MAX_TDI_LEVEL = 100.0
#: The highest eigengap floor: 2019's lambda1/lambda2 peaked at 6.7 to 11.3 (99th
#: percentile 4.8 to 7.5) in the same clusters; a floor of 100 would never let one trade.
MAX_EIGENGAP = 100.0
#: MT5 stores a magic number as a 64-bit integer and the journal as SQLite's signed one.
MAX_MAGIC = MAX_TICKET

#: Where the TDI is computed (``ClusterSpec.space``): ``currency`` orients every symbol as
#: the price of its other currency in the cluster's numeraire; ``symbol`` takes the quotes
#: as they come (the pair ratios of mixed XXXUSD/USDXXX quotes then keep the dollar).
SPACES = ("currency", "symbol")
#: Signal timeframes (``ClusterSpec.timeframe``); H4 and D1 start at 17:00 New York.
TIMEFRAMES = ("M15", "M30", "H1", "H4", "D1")
#: The TDI level the overshoot exit is keyed to (``ClusterSpec.overshoot``).
OVERSHOOT_LEVELS = ("E", "X")
#: The longest factor name (``ClusterSpec.factor``).
MAX_FACTOR_NAME = 31


def direction_sign(direction: Direction) -> int:
    """+1 for LONG (buy the basket's exposure vector: profits when phi rises back), -1 SHORT."""
    return 1 if Direction(direction) is Direction.LONG else -1


def entry_direction(tdi: float, entry: float) -> Direction | None:
    """The entry rule: LONG below -E, SHORT above +E, nothing in between."""
    if tdi < -entry:
        return Direction.LONG
    if tdi > entry:
        return Direction.SHORT
    return None


@dataclass(frozen=True)
class StopParams:
    """Per-basket exits besides mean reversion (docs/architecture.md, Exit codes).

    Defaults and allowed ranges (bar counts are of the cluster's signal timeframe, M30 by
    default; ``engine.ranges.MAX_ANY_BARS`` is 23,040, and ``ClusterSpec`` holds each count
    to its timeframe's ``engine.ranges.max_bars``: 11,520 in M30, 1,440 in H4, 240 in D1):
    - ``tdi_stop = 2.5``, (0, 100] and above the cluster's entry: TS, the TDI went further
      against the position than this (2019's |TDI| never passed 5.1: 100 means never);
    - ``time_stop_bars = 96``, 1..MAX_ANY_BARS: TO, two trading days of M30 bars without
      re-alignment (0 or less would close every basket at its first close);
    - ``hard_stop_atr = 5.0``, [0.1, 100]: HS, the basket loss reached this many basket
      ATRs; the same distance sizes the basket so that the stop loses exactly the risk
      budget.  The basket ATR is the mean absolute bar-to-bar change of the unit basket's value
      over ``atr_bars`` bars (the basket has no high/low of its own: its legs' extremes are
      not simultaneous); five of them leave room for the hours a re-alignment takes.  The
      size is inversely proportional to it: below a tenth of an ATR the stop sits inside one
      bar's noise and the lot caps, not the risk budget, would size the basket; at 100 the
      basket is a twentieth of the default's and its legs round towards zero lots;
    - ``take_profit_r = 1.0``, (0, 100]: TP, the basket's net P&L reached this multiple of
      its risk budget (a symmetric 1:1 bracket around the mean-reversion exit); 0 or less
      would take "profit" at once, and 100 budgets is far beyond any stop's reach;
    - ``atr_bars = 14``, 1..MAX_ANY_BARS: the bars of the basket ATR.
    """

    tdi_stop: float = DEFAULT_TDI_STOP
    time_stop_bars: int = 96
    hard_stop_atr: float = 5.0
    take_profit_r: float = 1.0
    atr_bars: int = 14

    def __post_init__(self) -> None:
        checked = {
            "tdi_stop": ranges.number("tdi_stop", self.tdi_stop, 0, MAX_TDI_LEVEL,
                                      low_open=True),
            "time_stop_bars": ranges.integer("time_stop_bars", self.time_stop_bars, 1,
                                             ranges.MAX_ANY_BARS),
            "hard_stop_atr": ranges.number("hard_stop_atr", self.hard_stop_atr, 0.1, 100),
            "take_profit_r": ranges.number("take_profit_r", self.take_profit_r, 0, 100,
                                           low_open=True),
            "atr_bars": ranges.integer("atr_bars", self.atr_bars, 1, ranges.MAX_ANY_BARS),
        }
        for name, value in checked.items():
            object.__setattr__(self, name, value)


class NumeraireError(ranges.FieldError):
    """A currency-space cluster without one currency common to every member.

    The file's key is the cluster's own ``space`` even when ``[defaults]`` set it: the
    cluster, not the default, is what cannot be in currency space."""

    def __init__(self, reason: str) -> None:
        super().__init__("space", reason)


@dataclass(frozen=True)
class ClusterSpec:
    """One cluster: its symbols, TDI windows, thresholds and stops.

    Fields, defaults and allowed ranges:
    - ``name`` (required), 1..11 characters of printable ASCII without spaces or commas: it
      begins every basket id, which must fit the 29-character order comment;
    - ``symbols`` (required), 3 to 6 distinct names, each 6 to 31 printable ASCII
      characters starting with six letters (base and quote currency: the news filter and the
      exposure caps read them from there; a broker suffix may follow);
    - ``magic`` (required), 1..2**63-1: tags the cluster's orders at the broker (unique per
      cluster; 0 is what MT5 gives trades placed by hand, which must never be adopted);
    - ``tdi = TdiParams()``: the TDI windows (see ``TdiParams``);
    - ``entry = 1.2`` (E), (0, 100): beyond the trailing 98th/2nd percentile by a fifth of
      the tail width (MAX_TDI_LEVEL says why 100);
    - ``exit_band = 0.25`` (X, the file's ``exit``), (0, entry): back within a quarter of
      the tail of the median;
    - ``stops = StopParams()``: TS, TO, HS, TP (see ``StopParams``; ``tdi_stop`` > entry);
    - ``min_eigengap = 1.15``, [1, 100]: below it the first component no longer dominates
      the second and "the common factor" is not defined well enough to trade against
      (lambda1 >= lambda2 always, so 1 turns the check off; MAX_EIGENGAP says why 100);
    - ``space = "currency"``, one of ``SPACES``: the price space of the TDI and the basket
      (``engine.space``); ``currency`` needs one currency common to every member (the
      numeraire), else the cluster is refused here, whichever path built it;
    - ``factor = "none"``: ``none``, ``pc1`` or the name of a factor series whose moves are
      removed from the members' log prices before the TDI (1..31 printable characters;
      ``engine.factor``; a name must be a ``[factors.NAME]`` of the engine config);
    - ``factor_window = 240``, 20..MAX_BARS signal bars: the trailing returns the factor's
      betas or pc1 loadings are estimated from (``engine.factor.DEFAULT_WINDOW`` says why
      240, ``MIN_WINDOW`` why 20); with a factor the TDI starts this many bars later;
    - ``timeframe = "M30"``, one of ``TIMEFRAMES``: the bars of the signal
      (``engine.timeframes``); windows, the ATR and the time stop count bars of this
      timeframe;
    - ``overshoot = "E"``, ``E`` or ``X``: the TDI level, on the far side, at which the
      overshoot exit (OS) fires (E: the paper's "crosses E"; X: the band);
    - ``why = ""``: any text, the reason the cluster exists;
    - ``kind = "tdi"``, one of ``engine.kinds.KINDS``: the signal model (``engine.kinds``);
      ``tdi`` is the TDI of 3 to 6 FX symbols as above; ``pair`` (2 to 6 symbols of any
      name) and ``correlation`` (exactly 2) read ``params`` and only their shared fields
      here (entry, exit, stops, timeframe, factor for ``pair``, overshoot): ``tdi``,
      ``min_eigengap`` and ``space`` are the TDI's own and ignored by them (their legs are
      traded as quoted, symbol space);
    - ``params = None``: the kind's own parameters (``engine.kinds.params_class``: its
      ``[cluster.<kind>]`` table), None for ``tdi``; the kind's defaults when the table is
      left out.
    The history a cluster needs at start (TDI warm-up + ``atr_bars`` + 2 bars) and its
    time stop may not exceed ``engine.ranges.max_bars(timeframe)``: a year of M1 data must
    be able to fill them (11,520 M30 bars, 1,440 H4 bars, 240 D1 bars).
    """

    name: str
    symbols: tuple[str, ...]
    magic: int
    tdi: TdiParams = field(default_factory=TdiParams)
    entry: float = 1.2
    exit_band: float = 0.25
    stops: StopParams = field(default_factory=StopParams)
    min_eigengap: float = 1.15
    space: str = "currency"
    factor: str = NO_FACTOR
    factor_window: int = DEFAULT_WINDOW
    timeframe: str = "M30"
    overshoot: str = "E"
    why: str = ""
    kind: str = DEFAULT_KIND
    params: Any = None

    def __post_init__(self) -> None:
        ranges.token("name", self.name, MAX_CLUSTER_NAME)
        ranges.choice("kind", self.kind, KINDS)
        object.__setattr__(self, "symbols", _checked_symbols(self.symbols, self.kind))
        self._check_params()
        object.__setattr__(self, "magic", ranges.integer("magic", self.magic, 1, MAX_MAGIC))
        entry = ranges.number("entry", self.entry, 0, MAX_TDI_LEVEL, low_open=True,
                              high_open=True)
        exit_band = ranges.number("exit_band", self.exit_band, 0, entry, low_open=True,
                                  high_open=True)
        object.__setattr__(self, "entry", entry)
        object.__setattr__(self, "exit_band", exit_band)
        object.__setattr__(self, "min_eigengap", ranges.number(
            "min_eigengap", self.min_eigengap, 1, MAX_EIGENGAP))
        if not isinstance(self.why, str):
            raise ranges.FieldError("why", f"expected a string, got {self.why!r}")
        ranges.choice("space", self.space, SPACES)
        if self.space == "currency" and self.kind == "tdi":
            try:
                numeraire_of(self.symbols)
            except NoNumeraire as exc:
                raise NumeraireError(f"cluster {self.name}: {exc}") from None
        ranges.choice("timeframe", self.timeframe, TIMEFRAMES)
        ranges.choice("overshoot", self.overshoot, OVERSHOOT_LEVELS)
        ranges.token("factor", self.factor, MAX_FACTOR_NAME)
        object.__setattr__(self, "factor_window", ranges.integer(
            "factor_window", self.factor_window, MIN_WINDOW, ranges.MAX_BARS))
        if not isinstance(self.tdi, TdiParams):
            raise ranges.FieldError("tdi", f"expected TdiParams, got {self.tdi!r}")
        if not isinstance(self.stops, StopParams):
            raise ranges.FieldError("stops", f"expected StopParams, got {self.stops!r}")
        if self.stops.tdi_stop <= entry:
            raise ranges.FieldError("tdi_stop", f"must exceed entry ({entry:g}), got "
                                                f"{self.stops.tdi_stop:g}")
        self._check_history()

    def _check_params(self) -> None:
        cls = params_class(self.kind)
        if cls is None:
            if self.params is not None:
                raise ranges.FieldError("params", f"kind {self.kind} takes no parameters")
            return
        if self.params is None:
            object.__setattr__(self, "params", cls())
        elif not isinstance(self.params, cls):
            raise ranges.FieldError(self.kind, f"expected {cls.__name__}, got {self.params!r}")
        check = getattr(self.params, "check_symbols", None)
        if check is not None:
            check(self.symbols)
        if self.factor != NO_FACTOR and getattr(self.params, "space", "returns") == "price":
            raise ranges.FieldError("factor", f"a factor removes moves from log prices: it "
                                              f"needs the {self.kind}'s space = \"returns\"")

    def _check_history(self) -> None:
        """The start-up history (``engine.startup.history_days``) and the time stop must
        fit what a year of M1 data fills in the cluster's timeframe."""
        tf = self.timeframe
        limit = ranges.max_history_bars(tf, self.kind)
        need = self.history_bars
        if need > limit:
            terms = {"tau_f": self.tdi.tau_f, "tau_s": 2 * (self.tdi.tau_s - 1),
                     "tau_q": self.tdi.tau_q, "atr_bars": self.stops.atr_bars,
                     "factor_window": self.factor_bars}
            raise ranges.FieldError(
                max(terms, key=terms.__getitem__),
                f"the start-up history (factor window + TDI warm-up + atr_bars + 2) is "
                f"{need} {tf} bars, more than the {limit} {tf} bars "
                + ("a year of M1 data fills" if limit == ranges.max_bars(tf)
                   else "of daily history a non-TDI kind may ask for"))
        ranges.integer("time_stop_bars", self.stops.time_stop_bars, 1, limit)

    @property
    def factor_bars(self) -> int:
        """Bars the factor stage delays the TDI by (``engine.factor``): 0 without one."""
        return 0 if self.factor == NO_FACTOR else self.factor_window

    @property
    def history_bars(self) -> int:
        """Bars of its timeframe the cluster needs before its first trade: the factor's
        window, the TDI's warm-up, the basket ATR's bars and two more (a valid point and the
        ATR's first change)."""
        return model_warmup_bars(self) + self.stops.atr_bars + 2

    @property
    def canonical_symbols(self) -> tuple[str, ...]:
        return canonical_symbols(self.symbols)

    @property
    def pairs(self) -> tuple[str, ...]:
        return pair_names(self.symbols)

    @property
    def numeraire(self) -> str:
        """The currency every member contains (the basket's neutral currency in currency
        space; in symbol space the one its net exposure is reported in), or ``""`` (also
        when a member is not an FX/metal symbol)."""
        if not all(self._named_fx(s) for s in self.symbols):
            return ""
        return numeraire_or_none(self.symbols)

    @property
    def orientation(self) -> dict[str, int]:
        """Each symbol's orientation in the cluster's space (``engine.space``); the other
        kinds trade every leg as quoted (+1)."""
        if self.kind != "tdi":
            return {s: 1 for s in self.symbols}
        return orientations(self.symbols, self.space)

    @property
    def currencies(self) -> frozenset[str]:
        """Currencies the cluster is exposed to (news filter, exposure caps), read from the
        names of six-letter FX/metal symbols; other instruments (a stock CFD) have no
        currencies in their names: the engine adds their quote currencies from the broker's
        symbol specifications."""
        return frozenset(c for s in self.symbols if self._named_fx(s)
                         for c in (s[:3], s[3:6]))

    def _named_fx(self, symbol: str) -> bool:
        """The name says the currencies: every ``tdi`` member (checked at construction),
        else ``engine.instruments.is_fx_name``."""
        return self.kind == "tdi" or is_fx_name(symbol)


#: How many symbols each kind takes.
_SYMBOL_COUNTS = {"tdi": (3, 6), "pair": (2, 6), "correlation": (2, 2), "basis": (2, 2),
                  "deal": (1, 2)}


def _checked_symbols(symbols: object, kind: str = DEFAULT_KIND) -> tuple[str, ...]:
    if not isinstance(symbols, tuple | list):
        raise ranges.FieldError("symbols", f"expected a list of symbol names, got {symbols!r}")
    low, high = _SYMBOL_COUNTS[kind]
    if not low <= len(symbols) <= high:
        count = f"{low} to {high}" if low != high else f"exactly {low}"
        raise ranges.FieldError("symbols", f"a {kind} cluster needs {count} symbols, "
                                           f"has {len(symbols)}")
    for symbol in symbols:
        if kind != "tdi":  # any broker name: a stock CFD is "KO", an index "US500.cash"
            ranges.token("symbols", symbol, 31, min_length=1)
            continue
        ranges.token("symbols", symbol, 31, min_length=6)
        if not (symbol[:6].isascii() and symbol[:6].isalpha()):
            raise ranges.FieldError("symbols", f"{symbol!r} does not start with two "
                                               "currency codes (six letters)")
    if len(set(symbols)) != len(symbols):
        raise ranges.FieldError("symbols", f"duplicate symbol in {', '.join(symbols)}")
    return tuple(symbols)


_DEFAULT_KEYS = {
    "tau_f": int, "tau_s": int, "tau_q": int, "entry": float, "exit": float,
    "tdi_stop": float, "time_stop_bars": int, "hard_stop_atr": float, "min_eigengap": float,
    "take_profit_r": float, "atr_bars": int, "space": str, "factor": str, "timeframe": str,
    "overshoot": str, "factor_window": int,
}
_CLUSTER_KEYS = {"name": str, "why": str, "symbols": list, "magic": int, "kind": str,
                 "pair": dict, "correlation": dict, "basis": dict, "deal": dict,
                 **_DEFAULT_KEYS}
#: ``[defaults]`` keys that only a ``tdi`` cluster takes from there: the TDI's own settings
#: and the score thresholds, which are in the TDI's units (another kind's score has its own
#: defaults, ``engine.kinds.KIND_DEFAULTS``, unless its own table sets them).
_TDI_ONLY_DEFAULTS = frozenset({"tau_f", "tau_s", "tau_q", "entry", "exit", "tdi_stop",
                                "min_eigengap", "space"})
#: The file's key for a field whose name differs.
_FILE_KEYS = {"exit_band": "exit"}


def _typed(path: Path, key: str, value: Any, kind: type) -> Any:
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return value  # the range check turns it into a float (or says it is too large)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ConfigError(path, key, f"expected {kind.__name__}, got {value!r}")
    return value


def _spec_from(path: Path, where: str, raw: Any, defaults: Mapping[str, Any]) -> ClusterSpec:
    if not isinstance(raw, dict):
        raise ConfigError(path, where, "must be a table")
    for key in raw:
        if key not in _CLUSTER_KEYS:
            raise ConfigError(path, f"{where}.{key}", "unknown key")
    kind = _kind_of(path, where, raw)
    if kind != DEFAULT_KIND:
        defaults = {k: v for k, v in defaults.items() if k not in _TDI_ONLY_DEFAULTS}
    merged = {**defaults, **raw}

    def file_key(key: str) -> str:  # the table the value came from
        return f"defaults.{key}" if key in defaults and key not in raw else f"{where}.{key}"

    for key in ("name", "symbols", "magic"):
        if key not in merged:
            raise ConfigError(path, f"{where}.{key}", "missing")
    values = {k: _typed(path, file_key(k), v, _CLUSTER_KEYS[k]) for k, v in merged.items()}
    params = _kind_params(path, where, kind, raw.get(kind))
    own = KIND_DEFAULTS[kind]
    try:
        stop_kw = {f.name: values[f.name] for f in fields(StopParams) if f.name in values}
        stop_kw.setdefault("tdi_stop", own.score_stop)
        tdi_kw = {k: values[k] for k in ("tau_f", "tau_s", "tau_q") if k in values}
        return ClusterSpec(
            name=values["name"], symbols=tuple(values["symbols"]), magic=values["magic"],
            tdi=TdiParams(**tdi_kw), entry=values.get("entry", own.entry),
            exit_band=values.get("exit", own.exit_band), stops=StopParams(**stop_kw),
            kind=kind, params=params,
            min_eigengap=values.get("min_eigengap", 1.15), why=values.get("why", ""),
            **{k: values[k] for k in ("space", "factor", "timeframe", "overshoot",
                                      "factor_window") if k in values},
        )
    except NumeraireError as exc:
        raise ConfigError(path, f"{where}.space", exc.reason) from None
    except ranges.FieldError as exc:
        raise ConfigError(path, file_key(_FILE_KEYS.get(exc.field, exc.field)),
                          exc.reason) from None


def _kind_of(path: Path, where: str, raw: Mapping[str, Any]) -> str:
    kind = raw.get("kind", DEFAULT_KIND)
    if kind not in KINDS:
        raise ConfigError(path, f"{where}.kind", f"expected one of {', '.join(KINDS)}, "
                                                 f"got {kind!r}")
    for other in KINDS:
        if other in raw and other != kind:
            raise ConfigError(path, f"{where}.{other}", f"a table for kind {other}, but the "
                                                        f"cluster's kind is {kind}")
    return kind


def _kind_params(path: Path, where: str, kind: str, table: Any) -> Any:
    """The ``[cluster.<kind>]`` table as the kind's parameters (its defaults when absent)."""
    cls = params_class(kind)
    if cls is None:
        return None
    if table is None:
        try:
            return cls()
        except ranges.FieldError as exc:
            raise ConfigError(path, f"{where}.{kind}.{exc.field}",
                              f"{exc.reason} (add a [cluster.{kind}] table)") from None
    return section_from_toml(cls, table, path, f"{where}.{kind}")


def read_toml(path: Path) -> dict[str, Any]:
    """A parsed TOML file; a missing, unreadable or malformed one is a ConfigError.

    Only a regular file is read: a named pipe given as ``--config`` or ``--grid`` made the
    command wait forever for a writer.  A leading UTF-8 byte-order mark (what Windows
    Notepad saves) is skipped: TOML itself refuses it at line 1, column 1."""
    try:
        _refuse_unless_regular(path)
        return tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise ConfigError(path, "", "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, "", f"cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, "", f"not valid TOML: {exc}") from None


def _refuse_unless_regular(path: Path) -> None:
    mode = os.stat(path).st_mode
    if stat.S_ISDIR(mode):
        raise ConfigError(path, "", "is a folder; give a TOML file")
    if not stat.S_ISREG(mode):
        raise ConfigError(path, "", "not a regular file (a pipe or a device); "
                          "only a TOML file is read")


def load_clusters(path: str | Path | None = None) -> list[ClusterSpec]:
    """Read a cluster file (TOML); every error names the file, the key and the reason."""
    p = Path(path) if path is not None else DEFAULT_CONFIG
    return clusters_from_toml(read_toml(p), p)


def clusters_from_toml(raw: Mapping[str, Any], p: Path) -> list[ClusterSpec]:
    """The ``[defaults]`` and ``[[cluster]]`` tables of an already parsed config file."""
    defaults = raw.get("defaults", {})
    if not isinstance(defaults, dict):
        raise ConfigError(p, "defaults", "must be a table")
    for key in defaults:
        if key not in _DEFAULT_KEYS:
            raise ConfigError(p, f"defaults.{key}", "unknown key")
    items = raw.get("cluster")
    if not isinstance(items, list) or not items:
        raise ConfigError(p, "cluster", "no [[cluster]] tables")
    specs = [_spec_from(p, f"cluster[{i}]", item, defaults) for i, item in enumerate(items)]
    for key in ("name", "magic"):
        seen: set[object] = set()
        for i, spec in enumerate(specs):
            value = getattr(spec, key)
            if value in seen:
                raise ConfigError(p, f"cluster[{i}].{key}", f"duplicate {key} {value!r}")
            seen.add(value)
    return specs


def basket_exposures(v1: np.ndarray, rc_std: np.ndarray, symbols: Sequence[str],
                     direction: Direction) -> dict[str, float]:
    """Signed account-currency exposure per symbol's asset for one unit of the basket
    (gross exposure 1): the symbol's base in symbol space, the currency it prices in the
    numeraire in currency space (``engine.space``).

    ``v1``/``rc_std`` are per pair in canonical order (as ``tdi_batch`` and ``TdiStream``
    give them, on the prices of the cluster's space).  The unit basket is scaled to a
    gross (sum of absolute) exposure of 1, so a risk budget scales it linearly.  The
    exposures sum to zero up to rounding.
    """
    syms = canonical_symbols(symbols)
    k = len(syms) * (len(syms) - 1) // 2
    v = np.asarray(v1, dtype=np.float64)
    sd = np.asarray(rc_std, dtype=np.float64)
    if v.shape != (k,) or sd.shape != (k,):
        raise ValueError(f"expected {k} pair loadings and stds for {len(syms)} symbols")
    if not (np.isfinite(v).all() and np.isfinite(sd).all() and (sd > 0).all()):
        raise ValueError("v1 and rc_std must be finite, with positive stds")
    weight = v / sd
    exposure = np.zeros(len(syms))
    pair = 0
    for i in range(len(syms)):
        for j in range(i + 1, len(syms)):
            exposure[i] += weight[pair]
            exposure[j] -= weight[pair]
            pair += 1
    gross = np.abs(exposure).sum()
    if gross == 0:
        raise ValueError("v1 gives a basket with no exposure")
    exposure *= direction_sign(direction) / gross
    return {s: float(e) for s, e in zip(syms, exposure, strict=True)}


@dataclass(frozen=True)
class LegQuote:
    """What sizing needs to know about one symbol at the moment of sizing.

    ``usd_per_base`` is the account-currency value of one unit of the base currency
    (EURUSD 1.12 -> 1.12; USDJPY -> 1.0; EURGBP 0.85 with GBPUSD 1.27 -> 1.0795).
    """

    symbol: str
    usd_per_base: float
    contract_size: float
    volume_min: float
    volume_max: float
    volume_step: float


@dataclass(frozen=True)
class LegSize:
    symbol: str
    #: The wanted exposure to the leg's asset (account currency), before rounding.
    exposure_usd: float
    #: Signed lots (positive = buy) after rounding to the volume step and limits.
    lots: float
    #: Lots before rounding, for the report of what rounding changed.
    raw_lots: float
    #: Signed account-currency value of the rounded position's base currency
    #: (lots x contract size x value of one base unit): what the journal keeps per leg.
    notional: float = 0.0

    @property
    def zeroed(self) -> bool:
        """Rounding left this leg at zero although the basket wanted exposure in it."""
        return self.lots == 0 and self.raw_lots != 0


@dataclass(frozen=True)
class BasketSize:
    legs: tuple[LegSize, ...]
    #: Human-readable notes on rounding that changed the basket (zeroed legs, clipping).
    warnings: tuple[str, ...]


def round_volume(lots: float, step: float, vmin: float, vmax: float) -> float:
    """Round |lots| to the nearest step; below the minimum becomes 0; above max is clipped.

    The decimal count of ``step`` bounds float noise (0.1 + 0.2 is 0.30000000000000004).
    """
    size = abs(lots)
    steps = math.floor(size / step + 0.5)
    decimals = max(0, -math.floor(math.log10(step)) + 2)
    rounded = round(steps * step, decimals)
    if rounded < vmin - 1e-12:
        rounded = 0.0
    rounded = min(rounded, vmax)
    return math.copysign(rounded, lots) if rounded else 0.0


def size_basket(unit_exposures: Mapping[str, float], scale_usd: float,
                quotes: Mapping[str, LegQuote],
                orientation: Mapping[str, int] | None = None) -> BasketSize:
    """Lots for a basket of ``scale_usd`` gross exposure; rounding effects are reported.

    ``orientation`` (``ClusterSpec.orientation``; all +1 when omitted, symbol space) says
    whether an exposure is to the symbol's base (+1: buy the symbol to be long it) or to
    its quote priced in the base (-1: sell the symbol to be long it).  Either way one unit
    of the base is worth ``usd_per_base``, so the units are ``sign x exposure /
    usd_per_base``: long 1,000 USD of "CHF in USD" sells 1,000 USD of USDCHF.
    """
    if not math.isfinite(scale_usd) or scale_usd < 0:
        raise ValueError(f"basket scale must be a non-negative amount, got {scale_usd}")
    legs = []
    warnings = []
    for symbol, unit in unit_exposures.items():
        q = quotes[symbol]
        sign = orientation.get(symbol, 1) if orientation else 1
        exposure = unit * scale_usd
        unit_value = q.usd_per_base * q.contract_size
        raw = sign * exposure / unit_value
        lots = round_volume(raw, q.volume_step, q.volume_min, q.volume_max)
        leg = LegSize(symbol, exposure, lots, raw, lots * q.contract_size * q.usd_per_base)
        if leg.zeroed:
            warnings.append(f"{symbol}: {raw:+.4f} lots rounds to 0 (min {q.volume_min}, "
                            f"step {q.volume_step})")
        elif abs(raw) > q.volume_max:
            warnings.append(f"{symbol}: {raw:+.2f} lots clipped to the maximum {q.volume_max}")
        legs.append(leg)
    return BasketSize(tuple(legs), tuple(warnings))


def risk_scale(risk_budget_usd: float, stop_loss_per_unit: float) -> float:
    """Gross exposure whose hard-stop loss equals the risk budget.

    ``stop_loss_per_unit`` is the loss of a basket of gross exposure 1 USD at the hard
    stop (e.g. ``hard_stop_atr`` times the unit basket's ATR, as a fraction).
    """
    if not stop_loss_per_unit > 0:
        raise ValueError("the hard-stop distance must be positive to size a basket")
    return risk_budget_usd / stop_loss_per_unit
