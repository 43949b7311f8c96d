"""``main.py convertible price`` and ``main.py convertible hedge``: convertible arbitrage as
research (MT5 has no convertible bonds).

``price`` prints a bond's price, delta and gamma (and the implied volatility of a market
price) from the built-in tree (``engine.convertible``) or QuantLib (the optional extra);
``hedge`` runs the offline hedge simulator (``app.research.convertible_hedge``) on a real
daily close series with a synthetic bond.  Building the parser imports neither: the
defaults the help shows are copies (``DEFAULT_STEPS``, ``SIM_STEPS``) that
``tests/unit/app/test_convertible_cli.py`` checks against their owners.
"""

from __future__ import annotations

import argparse
import math
from typing import TYPE_CHECKING

from app.cli.args import add_period_options, path_argument, period
from engine.errors import UserError

if TYPE_CHECKING:
    from app.research.convertible_hedge import HedgeResult
    from engine.convertible import ConvertibleTerms, ConvertibleValue, MarketInputs

#: ``engine.convertible.tree.DEFAULT_STEPS`` and ``app.research.convertible_hedge.SIM_STEPS``.
DEFAULT_STEPS = 800
SIM_STEPS = 400
#: The conversion premium over the first close when neither --ratio nor --premium is given.
DEFAULT_PREMIUM = 0.30
TREE, QUANTLIB = "tree", "quantlib"
ENGINES = (TREE, QUANTLIB)
#: Which option a field of the terms or the market came from, for one-line errors.
OPTION_OF = {
    "face": "--face", "maturity": "--maturity", "ratio": "--ratio", "coupon": "--coupon",
    "frequency": "--frequency", "calls": "--call", "puts": "--put", "spot": "--spot",
    "volatility": "--vol", "rate": "--rate", "dividend_yield": "--dividend-yield",
    "credit_spread": "--credit-spread", "steps": "--steps", "market_price": "--market-price",
    "bonds": "--bonds", "band": "--band", "borrow": "--borrow", "cost": "--cost",
    "financing_rate": "--financing-rate", "premium": "--premium",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "convertible", help="convertible arbitrage research: price a bond, simulate its hedge",
        description="Convertible bonds as research: MT5 has none, so the bond is held "
        "elsewhere and priced here; the stock leg is what a console hedges.")
    commands = parser.add_subparsers(dest="convertible_command", metavar="ACTION",
                                     required=True)
    p = commands.add_parser(
        "price", help="price, delta and gamma of a convertible (and the implied volatility "
        "of a market price)",
        description="A convertible bond's price, delta (shares per bond) and gamma, per "
        "bond of --face, on a binomial tree whose nodes are discounted at the rate plus the "
        "credit spread on the part not expected to convert, as QuantLib's engine does "
        "(--engine tree, the default) or QuantLib's BinomialConvertibleEngine (--engine "
        "quantlib, needs pip install 'fxcluster[convertible]'). Rates, yields, spreads and "
        "volatilities are decimals per year (0.03 is 3%%).")
    _bond_options(p, ratio_required=True)
    p.add_argument("--spot", type=float, required=True, metavar="S", help="stock price now")
    _market_options(p)
    p.add_argument("--market-price", type=float, metavar="P",
                   help="also print the volatility at which the bond is worth P")
    p.add_argument("--engine", choices=ENGINES, default=TREE,
                   help="tree: the built-in tree (default); quantlib: QuantLib's engine")
    p.add_argument("--steps", type=int, default=DEFAULT_STEPS,
                   help=f"the tree's steps (even; default {DEFAULT_STEPS}; --engine tree)")
    p.set_defaults(func=run_price)

    h = commands.add_parser(
        "hedge", help="simulate a delta-hedged synthetic convertible on a real stock series",
        description="Offline: a synthetic convertible issued on the first close of "
        "--ticker in --data (a wide daily file Date,SYM,...), marked every day by the "
        "tree at that close with constant inputs; long --bonds bonds, short delta x "
        "shares of the stock CFD, re-hedged when the short drifts more than --band from "
        "the delta. Prints the P&L split (gamma trading, rest, coupon, financing, hedge "
        "cost) and writes the daily rows to --out.")
    h.add_argument("--data", required=True, type=path_argument, metavar="FILE",
                   help="daily closes, Date,SYM1,SYM2,... (e.g. shared/data/equity_daily)")
    h.add_argument("--ticker", required=True, metavar="SYM", help="the stock's column")
    add_period_options(h, first="first close (the bond's issue)", last="last close")
    _bond_options(h, ratio_required=False)
    h.add_argument("--premium", type=float, default=None,
                   help="instead of --ratio: the conversion price this far above the first "
                   f"close (default {DEFAULT_PREMIUM:g})")
    _market_options(h)
    h.add_argument("--bonds", type=float, default=10.0, help="bonds held (default 10)")
    h.add_argument("--band", type=float, default=0.05,
                   help="re-hedge when the short is further than this fraction of the "
                   "conversion shares from the delta (default 0.05; 0: daily)")
    h.add_argument("--borrow", type=float, default=0.0,
                   help="the short CFD's financing, annual rate on its notional, "
                   "positive a cost (default 0)")
    h.add_argument("--financing-rate", type=float, default=None,
                   help="the rate the bond is financed at (default --rate)")
    h.add_argument("--cost", type=float, default=0.0,
                   help="a re-hedge's cost as a fraction of the price per share traded "
                   "(default 0)")
    h.add_argument("--steps", type=int, default=SIM_STEPS,
                   help=f"the tree's steps (even; default {SIM_STEPS})")
    h.add_argument("--out", required=True, type=path_argument, metavar="DIR",
                   help="where hedge_daily.csv and hedge_summary.csv are written")
    h.set_defaults(func=run_hedge)


def _bond_options(p: argparse.ArgumentParser, *, ratio_required: bool) -> None:
    p.add_argument("--face", type=float, required=True, metavar="F",
                   help="what one bond redeems at maturity (e.g. 1000)")
    p.add_argument("--coupon", type=float, default=0.0, metavar="C",
                   help="annual coupon rate on the face (default 0)")
    p.add_argument("--frequency", type=int, default=2, choices=(1, 2, 4, 12),
                   help="coupons a year (default 2)")
    p.add_argument("--maturity", type=float, required=True, metavar="YEARS",
                   help="years left to maturity")
    p.add_argument("--ratio", type=float, required=ratio_required, metavar="R",
                   help="shares one bond converts into")
    p.add_argument("--call", action="append", default=[], metavar="YEARS:PRICE",
                   help="a call date (years from now) and its clean price per bond; "
                   "repeat for more")
    p.add_argument("--put", action="append", default=[], metavar="YEARS:PRICE",
                   help="a put date and its clean price per bond; repeat for more")
    p.add_argument("--european", action="store_true",
                   help="conversion at maturity only (default: any time, American)")


def _market_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--vol", type=float, required=True, metavar="V",
                   help="the stock's annual volatility (0.3 is 30%%)")
    p.add_argument("--rate", type=float, required=True, metavar="r",
                   help="risk-free rate, continuous")
    p.add_argument("--dividend-yield", type=float, default=0.0, metavar="q",
                   help="the stock's continuous dividend yield (default 0)")
    p.add_argument("--credit-spread", type=float, default=0.0, metavar="s",
                   help="the issuer's credit spread over the rate (default 0): an input, "
                   "not market data")


class _Fields:
    """Builds the engine's objects and turns a field's error into the option's name."""

    def __enter__(self) -> _Fields:
        return self

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        from engine.ranges import FieldError

        if isinstance(exc, FieldError):
            option = OPTION_OF.get(exc.field, exc.field)
            raise UserError(f"{option}: {exc.reason}") from None


def _schedule(texts: list[str], option: str) -> tuple:
    """``YEARS:PRICE`` words as schedule dates, earliest first."""
    from engine.convertible import ScheduleDate
    from engine.ranges import FieldError

    dates = []
    for text in texts:
        years, colon, price = text.partition(":")
        try:
            if not colon:
                raise ValueError(text)
            dates.append(ScheduleDate(float(years), float(price)))
        except (ValueError, FieldError) as exc:
            why = f" ({exc.reason})" if isinstance(exc, FieldError) else ""
            raise UserError(f"{option}: expected YEARS:PRICE with positive numbers, got "
                            f"{text!r}{why}") from None
    return tuple(sorted(dates, key=lambda d: d.time))


def terms_of(args: argparse.Namespace, ratio: float | None = None) -> ConvertibleTerms:
    from engine.convertible import ConvertibleTerms

    calls, puts = _schedule(args.call, "--call"), _schedule(args.put, "--put")
    with _Fields():
        return ConvertibleTerms(face=args.face, maturity=args.maturity,
                                ratio=args.ratio if ratio is None else ratio,
                                coupon=args.coupon, frequency=args.frequency, calls=calls,
                                puts=puts, european=args.european)


def market_of(args: argparse.Namespace) -> MarketInputs:
    from engine.convertible import MarketInputs

    with _Fields():
        return MarketInputs(spot=args.spot, volatility=args.vol, rate=args.rate,
                            dividend_yield=args.dividend_yield,
                            credit_spread=args.credit_spread)


def run_price(args: argparse.Namespace) -> int:
    terms, market = terms_of(args), market_of(args)
    with _Fields():
        if args.engine == QUANTLIB:
            from app.research.convertible_quantlib import (
                STEP_COUNTS,
                quantlib_implied_volatility,
                quantlib_value,
            )

            value = quantlib_value(terms, market)
            basis = (f"QuantLib BinomialConvertibleEngine (CRR), mean over "
                     f"{'/'.join(str(n) for n in STEP_COUNTS)} steps; delta and gamma from "
                     "prices at spot x u^2 and spot / u^2 on the same trees")
            implied = (quantlib_implied_volatility(terms, market, args.market_price)
                       if args.market_price is not None else None)
        else:
            from engine.convertible import implied_volatility, price_convertible

            value = price_convertible(terms, market, steps=args.steps)
            basis = (f"binomial tree (CRR, blended credit discount as QuantLib's), "
                     f"{args.steps} and {args.steps // 2} steps smoothed and extrapolated")
            implied = (implied_volatility(terms, market, args.market_price, steps=args.steps)
                       if args.market_price is not None else None)
    print_value(terms, market, value, basis, implied, args.market_price)
    return 0


def print_value(terms: ConvertibleTerms, market: MarketInputs, value: ConvertibleValue,
                basis: str, implied: float | None, market_price: float | None) -> None:
    conversion = "European (maturity only)" if terms.european else "American"
    print(f"Convertible, per bond of face {terms.face:g}: {terms.ratio:g} shares (conversion "
          f"price {terms.conversion_price:.4f}), {terms.coupon:.4%} coupon x"
          f"{terms.frequency}, {terms.maturity:g} years, {conversion} conversion, "
          f"{len(terms.calls)} call and {len(terms.puts)} put dates")
    print(f"Market: spot {market.spot:g}, volatility {market.volatility:.2%}, rate "
          f"{market.rate:.2%}, dividend yield {market.dividend_yield:.2%}, credit spread "
          f"{market.credit_spread:.2%}")
    print(f"Model: {basis}")
    rows = [
        ("price", f"{value.price:.4f}", "per bond, full price (coupons to come included)"),
        ("delta", f"{value.delta:.6f}", f"shares per bond = d price / d spot; "
                                         f"{value.hedge_ratio(terms):.2%} of the "
                                         f"{terms.ratio:g} conversion shares"),
        ("gamma", f"{value.gamma:.6f}", "d delta / d spot, shares per bond per 1.00 of "
                                         "the stock"),
        ("parity", f"{value.parity:.4f}", "ratio x spot"),
        ("bond floor", f"{value.bond_floor:.4f}", "coupons and face at rate + credit "
                                                  "spread, no conversion"),
        ("premium", f"{value.conversion_premium:.2%}", "price / parity - 1"),
    ]
    if not math.isnan(value.conversion_probability):
        rows.append(("P(convert)", f"{value.conversion_probability:.4f}",
                     "risk-neutral probability the bond ends up converted"))
    if implied is not None:
        rows.append(("implied vol", f"{implied:.4%}", f"the volatility at which the model "
                                                      f"prices the bond at {market_price:g}"))
    width = max(len(r[1]) for r in rows)
    for name, figure, note in rows:
        print(f"  {name:<12} {figure:>{width}}  {note}")


def run_hedge(args: argparse.Namespace) -> int:
    from app.cli.destinations import check_destination
    from app.research.convertible_hedge import HedgeSetup, load_closes, simulate

    if args.ratio is not None and args.premium is not None:
        raise UserError("--ratio and --premium both fix the conversion ratio; give one of them")
    check_destination(args.out, "--out", folder=True)
    start, end = period(args)
    closes = load_closes(args.data, args.ticker, start, end)
    ratio = args.ratio
    if ratio is None:
        premium = DEFAULT_PREMIUM if args.premium is None else args.premium
        if not (math.isfinite(premium) and -0.5 < premium <= 10):
            raise UserError(f"--premium: must be a number in (-0.5, 10], got {premium!r}")
        ratio = args.face / (float(closes.iloc[0]) * (1.0 + premium))
    terms = terms_of(args, ratio)
    with _Fields():
        setup = HedgeSetup(volatility=args.vol, rate=args.rate,
                           dividend_yield=args.dividend_yield,
                           credit_spread=args.credit_spread, bonds=args.bonds,
                           band=args.band, borrow=args.borrow, cost=args.cost,
                           financing_rate=args.financing_rate, steps=args.steps)
        result = simulate(closes, terms, setup, args.ticker.strip().upper())
    from app.research.convertible_export import write_hedge

    print_hedge(result)
    try:
        paths = write_hedge(args.out, result)
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        raise UserError(f"--out: cannot write to {args.out}: {where}{exc.strerror or exc}"
                        ) from None
    print(f"written: {', '.join(str(p) for p in paths)}")
    return 0


#: What each part of the split is, as the summary prints it.
PART_NOTES = {
    "gamma_trading": "the hedged bond's P&L from the stock's moves (bond repriced at the "
                     "new close, less the short's loss)",
    "rest": "the rest of the bond's clean price change: theta (volatility and credit "
            "held constant)",
    "coupon": "coupon accrued and paid",
    "bond_financing": "the bond's full price financed at the financing rate",
    "stock_financing": "the short CFD's swap at --borrow",
    "hedge_cost": "re-hedges at --cost per share traded",
}


def print_hedge(result: HedgeResult) -> None:
    terms, setup, days = result.terms, result.setup, result.days
    first, last = days[0], days[-1]
    print(f"{result.ticker} {first.date:%Y-%m-%d} .. {last.date:%Y-%m-%d} ({len(days)} "
          "closes, real). The bond is SYNTHETIC: no convertible price data; marked every "
          "day by the tree at that close.")
    print(f"Bond: {setup.bonds:g} bonds of face {terms.face:g}, {terms.ratio:.4f} shares "
          f"each (conversion price {terms.conversion_price:.4f}; first close "
          f"{first.close:g}), {terms.coupon:.2%} coupon x{terms.frequency}, "
          f"{terms.maturity:g} years; volatility {setup.volatility:.2%} (the period's "
          f"realised: {result.realised_volatility:.2%}), rate {setup.rate:.2%}, credit "
          f"spread {setup.credit_spread:.2%}, dividend yield {setup.dividend_yield:.2%}")
    band_shares = setup.band * setup.bonds * terms.ratio
    print(f"Hedge: short the bonds' delta in the stock CFD, re-hedged when it is more than "
          f"{band_shares:.2f} shares ({setup.band:.0%} of the conversion shares) away: "
          f"{result.rehedges} re-hedges after the first")
    if result.stopped_at_maturity:
        print(f"The bond matured: the simulation stops at {last.date:%Y-%m-%d}.")
    print(f"Bond {first.bond_price * setup.bonds:.2f} -> {last.bond_price * setup.bonds:.2f} "
          f"(all bonds); P&L by part, each the sum of its daily column:")
    totals = result.totals()
    width = max(len(f"{v:,.2f}") for v in totals.values())
    for name, amount in totals.items():
        label = name.replace("_", " ")
        note = PART_NOTES.get(name, "the sum of the parts")
        print(f"  {label:<16} {amount:>{width},.2f}  {note}")

