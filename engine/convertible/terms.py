"""What a convertible bond is and the market it is priced in: the pricer's two inputs.

Times are year fractions from the pricing date (the tree has no calendar: a bond entered
by hand is described by how long it has left, not by its dates).  Amounts are per bond, in
the bond's currency: ``face`` is what one bond redeems at maturity, a call or put price is
clean (the holder of a called or put bond also receives the coupon accrued to that date,
as indentures and QuantLib's clean callability prices have it; on a coupon date, that
date's coupon), and the conversion ratio is the number of shares one bond converts into.

Every field is checked when the object is built (``engine.ranges``: a ``FieldError``
names the field), so a NaN volatility or a call after maturity never reaches the tree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from engine import ranges
from engine.ranges import FieldError

#: Coupon frequencies a bond may pay: annual, semi-annual, quarterly, monthly.
FREQUENCIES = (1, 2, 4, 12)
#: The longest maturity (years) and the largest rate, spread, yield or volatility taken:
#: beyond them a number is a typing mistake, not a bond.
MAX_YEARS = 50.0
MAX_RATE = 1.0
MAX_VOL = 5.0


@dataclass(frozen=True)
class ScheduleDate:
    """One date of a call or put schedule: at ``time`` (years from now, strictly before
    maturity) the bond may be called (or put) at the clean ``price`` per bond (plus the
    accrued coupon)."""

    time: float
    price: float

    def __post_init__(self) -> None:
        ranges.number("time", self.time, 0.0, MAX_YEARS, low_open=True)
        ranges.number("price", self.price, 0.0, 1e12, low_open=True)


@dataclass(frozen=True)
class ConvertibleTerms:
    """A convertible bond's terms, per bond.

    - ``face``, > 0: the cash one bond redeems at maturity (1000 for a typical US issue);
    - ``coupon = 0.0``, 0..1: the annual coupon rate on ``face``; each coupon is
      ``face * coupon / frequency``, paid on the dates ``maturity - k / frequency`` that
      lie after now (the first may be a short period: it is paid in full, the price is
      the full "dirty" price);
    - ``frequency = 2``, one of 1, 2, 4, 12: coupons a year;
    - ``maturity``, (0, 50] years: time left to the redemption;
    - ``ratio``, > 0: shares one bond converts into (conversion price = face / ratio);
    - ``calls = ()``: the issuer's call dates; at each, the issuer may redeem the bond at
      its price, and the holder may convert instead (a call caps the bond at
      ``max(call price, parity)``);
    - ``puts = ()``: the holder's put dates; at each, the holder may sell the bond back at
      its price (a put floors the bond at the put price);
    - ``european = False``: convert only at maturity (True) rather than on any date up to
      it (False, American conversion: the usual indenture).
    """

    face: float
    maturity: float
    ratio: float
    coupon: float = 0.0
    frequency: int = 2
    calls: tuple[ScheduleDate, ...] = ()
    puts: tuple[ScheduleDate, ...] = ()
    european: bool = False

    def __post_init__(self) -> None:
        ranges.number("face", self.face, 0.0, 1e12, low_open=True)
        ranges.number("maturity", self.maturity, 0.0, MAX_YEARS, low_open=True)
        ranges.number("ratio", self.ratio, 0.0, 1e9, low_open=True)
        ranges.number("coupon", self.coupon, 0.0, MAX_RATE)
        ranges.integer("frequency", self.frequency, 1, 12)
        if self.frequency not in FREQUENCIES:
            raise FieldError("frequency", f"must be one of {FREQUENCIES}, got "
                                          f"{self.frequency}")
        ranges.flag("european", self.european)
        for name in ("calls", "puts"):
            schedule = getattr(self, name)
            if not isinstance(schedule, tuple) or not all(
                    isinstance(d, ScheduleDate) for d in schedule):
                raise FieldError(name, "expected a tuple of ScheduleDate")
            late = [d.time for d in schedule if d.time >= self.maturity]
            if late:
                raise FieldError(name, f"a date at {late[0]:g} years is not before the "
                                       f"maturity {self.maturity:g}")
            times = [d.time for d in schedule]
            twice = sorted({t for t in times if times.count(t) > 1})
            if twice:  # two prices on one date: which one the bond has is not said
                raise FieldError(name, f"two {name} at {twice[0]:g} years")
        both = sorted({c.time for c in self.calls} & {p.time for p in self.puts})
        if both:  # the holder's put and the issuer's call at once: terms no bond has
            raise FieldError("puts", f"a put and a call at {both[0]:g} years")

    @property
    def conversion_price(self) -> float:
        """The stock price at which converting gives exactly the face: ``face / ratio``."""
        return self.face / self.ratio

    def aged(self, years: float) -> ConvertibleTerms:
        """The same bond ``years`` later: the maturity and the call and put dates that
        much closer, the dates that have passed dropped (the bond a holder has after
        holding it that long)."""
        left = self.maturity - years
        if left <= 0:
            raise FieldError("maturity", f"the bond matures in {self.maturity:g} years, "
                                         f"not after {years:g}")

        def shift(schedule: tuple[ScheduleDate, ...]) -> tuple[ScheduleDate, ...]:
            return tuple(ScheduleDate(d.time - years, d.price) for d in schedule
                         if d.time - years > 0)

        return replace(self, maturity=left, calls=shift(self.calls), puts=shift(self.puts))

    def coupon_amount(self) -> float:
        """One coupon's cash per bond."""
        return self.face * self.coupon / self.frequency

    def coupon_times(self) -> tuple[float, ...]:
        """The years from now of the coupons still to be paid, earliest first (maturity
        last); none for a zero-coupon bond."""
        if self.coupon == 0.0:
            return ()
        times = []
        k = 0
        while (t := self.maturity - k / self.frequency) > 1e-12:
            times.append(t)
            k += 1
        return tuple(reversed(times))

    def accrued(self, time: float) -> float:
        """The coupon accrued at ``time`` (years from now) since the last coupon date (0 on
        a coupon date: that day's coupon is paid whole, separately)."""
        if self.coupon == 0.0:
            return 0.0
        periods_left = (self.maturity - time) * self.frequency
        elapsed = math.ceil(periods_left - 1e-9) - periods_left  # of the current period
        return self.coupon_amount() * (0.0 if elapsed < 1e-9 else elapsed)


@dataclass(frozen=True)
class MarketInputs:
    """The market a convertible is priced in; all rates continuously compounded, per year.

    - ``spot``, > 0: the stock's price now (the currency of the bond: a bond on a foreign
      listing is converted by the caller);
    - ``volatility``, (0, 5]: the stock's annual lognormal volatility;
    - ``rate = 0.0``, [-1, 1]: the risk-free rate;
    - ``dividend_yield = 0.0``, [-1, 1]: the stock's continuous dividend yield (a stock
      borrow cost can be added here: the hedger's short pays it);
    - ``credit_spread = 0.0``, [0, 1]: the issuer's spread over the risk-free rate, applied
      to the part of the bond that is paid in cash (Tsiveriotis-Fernandes): an input, not
      market data MT5 has.
    """

    spot: float
    volatility: float
    rate: float = 0.0
    dividend_yield: float = 0.0
    credit_spread: float = 0.0

    def __post_init__(self) -> None:
        ranges.number("spot", self.spot, 0.0, 1e12, low_open=True)
        ranges.number("volatility", self.volatility, 0.0, MAX_VOL, low_open=True)
        ranges.number("rate", self.rate, -MAX_RATE, MAX_RATE)
        ranges.number("dividend_yield", self.dividend_yield, -MAX_RATE, MAX_RATE)
        ranges.number("credit_spread", self.credit_spread, 0.0, MAX_RATE)
