"""The news filter: blackouts, flatten lead, calendar staleness, on built and real calendars."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from helpers.paths import TEST_DATA

from engine import decisions as codes
from engine.calendar import CoverageSpan, EconomicEvent, StaticCalendar
from engine.model import Impact
from engine.news import CalendarState, NewsConfig, NewsFilter
from storage.calendar import Calendar, import_calendar_files

FF_CSV_SLICE = (TEST_DATA / "calendar"
                / "forexfactory_events_2019-11-20_2019-12-31_UTC.csv")

USD_MAJORS = frozenset({"EUR", "GBP", "AUD", "CHF", "USD"})
EUR_CROSSES = frozenset({"EUR", "GBP", "JPY", "CHF"})


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


NFP = EconomicEvent(utc(2024, 3, 8, 13, 30), "USD", Impact.HIGH, "Non-Farm Employment Change")
EARNINGS = EconomicEvent(utc(2024, 3, 8, 14, 0), "USD", Impact.HIGH, "Average Hourly Earnings")
GERMAN_PMI = EconomicEvent(utc(2024, 3, 8, 9, 0), "EUR", Impact.MEDIUM, "German PMI")
G20 = EconomicEvent(utc(2024, 3, 7, 8, 0), "ALL", Impact.HIGH, "G20 Meetings")
BANK_HOLIDAY = EconomicEvent(utc(2024, 3, 6, 0, 0), "JPY", Impact.HOLIDAY, "Bank Holiday")
WEEK = CoverageSpan(utc(2024, 3, 3), utc(2024, 3, 10))


def calendar(*events: EconomicEvent, coverage: tuple[CoverageSpan, ...] = (WEEK,)) -> \
        StaticCalendar:
    return StaticCalendar(events or (NFP, EARNINGS, GERMAN_PMI, G20, BANK_HOLIDAY), coverage)


def news_filter(**overrides: object) -> NewsFilter:
    return NewsFilter(NewsConfig(**overrides), calendar())  # type: ignore[arg-type]


# --------------------------------------------------------------------------- config


def test_config_defaults_are_the_documented_ones():
    config = NewsConfig()

    assert (config.enabled, config.min_impact, config.pre_minutes, config.post_minutes) == \
        (True, Impact.HIGH, 30, 30)
    assert (config.flatten_before, config.flatten_lead_minutes, config.flatten_min_impact) == \
        (False, 5, Impact.HIGH)
    assert (config.stale_policy, config.fresh_horizon_hours) == ("block", 24)


def test_config_accepts_impact_and_policy_names_in_any_case():
    config = NewsConfig(min_impact="medium", stale_policy="ALLOW")  # type: ignore[arg-type]

    assert (config.min_impact, config.stale_policy) == (Impact.MEDIUM, "allow")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"min_impact": "huge"}, "min_impact"),
        ({"pre_minutes": -1}, "pre_minutes"),
        ({"post_minutes": 2.5}, "post_minutes"),
        ({"stale_policy": "ignore"}, "stale_policy"),
        ({"flatten_before": True, "flatten_lead_minutes": 45}, "flatten_lead_minutes"),
        ({"flatten_before": True, "flatten_min_impact": "LOW"}, "flatten_min_impact"),
    ],
)
def test_bad_config_value_names_its_field(overrides, field):
    with pytest.raises(ValueError, match=rf"^{field}: "):
        NewsConfig(**overrides)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- blackouts


@pytest.mark.parametrize(
    ("now", "blocked"),
    [
        (utc(2024, 3, 8, 12, 59), False),
        (utc(2024, 3, 8, 13, 0), True),     # event - pre, inclusive
        (utc(2024, 3, 8, 13, 30), True),
        (utc(2024, 3, 8, 14, 30), True),    # the second release's event + post, inclusive
        (utc(2024, 3, 8, 14, 31), False),
    ],
)
def test_blackout_around_an_event_for_a_cluster_currency(now, blocked):
    assert (news_filter().blackout(now, USD_MAJORS) is not None) is blocked


def test_blackout_ignores_events_of_other_currencies():
    nf = news_filter()

    assert nf.blackout(utc(2024, 3, 8, 13, 30), EUR_CROSSES) is None
    assert nf.check_entry(utc(2024, 3, 8, 13, 30), EUR_CROSSES).allowed


def test_overlapping_windows_merge_into_one_blackout_naming_the_events_in_force():
    nf = news_filter()

    early = nf.blackout(utc(2024, 3, 8, 13, 10), USD_MAJORS)
    both = nf.blackout(utc(2024, 3, 8, 13, 45), USD_MAJORS)

    assert early is not None and both is not None
    assert (early.start, early.until) == (utc(2024, 3, 8, 13, 0), utc(2024, 3, 8, 14, 30))
    assert early.events == (NFP,)
    assert both.events == (NFP, EARNINGS)


def test_all_currency_event_blacks_out_every_cluster():
    nf = news_filter()
    during = utc(2024, 3, 7, 8, 10)

    for currencies in (USD_MAJORS, EUR_CROSSES, frozenset({"XAU", "USD"})):
        blackout = nf.blackout(during, currencies)
        assert blackout is not None and blackout.events == (G20,)


@pytest.mark.parametrize(
    ("min_impact", "blocked"),
    [(Impact.HIGH, False), (Impact.MEDIUM, True), (Impact.LOW, True)],
)
def test_impact_threshold(min_impact, blocked):
    nf = news_filter(min_impact=min_impact)

    assert (nf.blackout(utc(2024, 3, 8, 9, 0), EUR_CROSSES) is not None) is blocked


def test_holidays_only_count_at_the_holiday_level():
    at_holiday = utc(2024, 3, 6, 0, 0)

    assert news_filter(min_impact=Impact.LOW).blackout(at_holiday, EUR_CROSSES) is None
    assert news_filter(min_impact=Impact.HOLIDAY).blackout(at_holiday, EUR_CROSSES) is not None


def test_currency_names_are_matched_in_any_case():
    assert news_filter().blackout(utc(2024, 3, 8, 13, 30), ["usd", "jpy"]) is not None


def test_check_entry_refuses_with_the_event_that_causes_the_blackout():
    decision = news_filter().check_entry(utc(2024, 3, 8, 13, 20), USD_MAJORS)

    assert (decision.allowed, decision.reason) == (False, codes.NEWS_BLACKOUT)
    assert "USD HIGH 'Non-Farm Employment Change' at 2024-03-08 13:30 UTC" in decision.detail
    assert "13:00-14:30" in decision.detail


def test_windows_lists_each_event_window_meeting_the_range():
    nf = news_filter()

    windows = nf.windows(utc(2024, 3, 8, 0), utc(2024, 3, 8, 13, 0), USD_MAJORS)

    assert windows == [
        (utc(2024, 3, 8, 13, 0), utc(2024, 3, 8, 14, 0), NFP),
        # 14:00 - 30 min = 13:30 is after the range end: not listed.
    ]
    assert len(nf.windows(utc(2024, 3, 7), utc(2024, 3, 9), USD_MAJORS)) == 3


# --------------------------------------------------------------------------- flatten


@pytest.mark.parametrize(
    ("now", "due"),
    [
        (utc(2024, 3, 8, 13, 24), None),
        (utc(2024, 3, 8, 13, 25), NFP),
        (utc(2024, 3, 8, 13, 30), NFP),
        (utc(2024, 3, 8, 13, 31), None),
        (utc(2024, 3, 8, 13, 56), EARNINGS),
    ],
)
def test_flatten_is_due_within_the_lead_time(now, due):
    nf = news_filter(flatten_before=True)

    assert nf.flatten_due(now, USD_MAJORS) == due


def test_flatten_is_off_by_default_and_respects_its_impact():
    medium = news_filter(flatten_before=True, min_impact=Impact.MEDIUM,
                         flatten_min_impact=Impact.HIGH)

    assert news_filter().flatten_due(utc(2024, 3, 8, 13, 28), USD_MAJORS) is None
    assert medium.flatten_due(utc(2024, 3, 8, 8, 58), EUR_CROSSES) is None
    assert medium.blackout(utc(2024, 3, 8, 8, 58), EUR_CROSSES) is not None


# --------------------------------------------------------------------------- calendar state


@pytest.mark.parametrize(
    ("now", "state"),
    [
        (utc(2024, 3, 8, 12), CalendarState.FRESH),
        (utc(2024, 3, 8, 23, 59), CalendarState.FRESH),  # covered until 10 March 00:00
        (utc(2024, 3, 9, 0), CalendarState.STALE),  # [now, now + 24 h] not wholly covered
        (utc(2024, 3, 12), CalendarState.STALE),        # no coverage at all
        (utc(2024, 3, 1), CalendarState.STALE),         # before the first file
    ],
)
def test_calendar_state_follows_coverage(now, state):
    assert news_filter().state(now) is state


def test_stale_calendar_blocks_entries_under_the_block_policy():
    nf = news_filter()

    ending = nf.check_entry(utc(2024, 3, 9, 12), USD_MAJORS)
    gone = nf.check_entry(utc(2024, 3, 12), USD_MAJORS)

    assert ending.reason == codes.CALENDAR_STALE
    assert "covers until 2024-03-10 00:00 UTC" in ending.detail
    assert gone.reason == codes.CALENDAR_STALE
    assert "no data covering now" in gone.detail


def test_stale_calendar_is_reported_but_traded_under_the_allow_policy():
    nf = news_filter(stale_policy="allow")
    late = utc(2024, 3, 9, 12)
    stale_with_event = NewsFilter(NewsConfig(stale_policy="allow"),
                                  calendar(NFP, coverage=(CoverageSpan(utc(2024, 3, 8),
                                                                       utc(2024, 3, 9)),)))

    assert nf.state(late) is CalendarState.STALE
    assert nf.check_entry(late, USD_MAJORS).allowed
    assert nf.status(late).stale_policy == "allow"
    # What is known is still honoured.
    assert stale_with_event.check_entry(utc(2024, 3, 8, 13, 30), USD_MAJORS).reason == \
        codes.NEWS_BLACKOUT


@pytest.mark.parametrize(
    "nf",
    [NewsFilter(NewsConfig(), None), NewsFilter(NewsConfig(enabled=False), calendar())],
    ids=["no-calendar", "disabled"],
)
def test_disabled_filter_allows_everything_and_says_so(nf):
    at_nfp = utc(2024, 3, 8, 13, 30)

    assert nf.state(at_nfp) is CalendarState.DISABLED
    assert nf.check_entry(at_nfp, USD_MAJORS).allowed
    assert nf.blackout(at_nfp, USD_MAJORS) is None
    assert nf.windows(utc(2024, 3, 8), utc(2024, 3, 9), USD_MAJORS) == []
    assert nf.status(at_nfp).covered_until is None


def test_naive_time_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        news_filter().check_entry(datetime(2024, 3, 8, 13, 30), USD_MAJORS)


# --------------------------------------------------------------------------- real calendar


@pytest.fixture
def ff_calendar(tmp_path):
    import_calendar_files([FF_CSV_SLICE], tmp_path / "calendar.sqlite")
    with Calendar.open(tmp_path / "calendar.sqlite") as opened:
        yield opened


def test_real_calendar_blacks_out_the_december_2019_payrolls(ff_calendar):
    nf = NewsFilter(NewsConfig(flatten_before=True), ff_calendar)
    payrolls = utc(2019, 12, 6, 13, 30)

    blackout = nf.blackout(payrolls, USD_MAJORS)

    assert blackout is not None
    assert {e.title for e in blackout.events} >= {"Non-Farm Employment Change",
                                                  "Unemployment Rate"}
    assert nf.flatten_due(payrolls - timedelta(minutes=4), USD_MAJORS) is not None
    assert nf.blackout(payrolls, EUR_CROSSES) is None
    # OPEC-JMMC, an "All" event at midnight, concerns the euro crosses too.
    assert nf.blackout(utc(2019, 12, 6, 0, 10), EUR_CROSSES) is not None
    # The slice has no rows for Saturday 7 December: the calendar is stale, not quiet.
    assert nf.state(utc(2019, 12, 6, 12)) is CalendarState.STALE
    assert nf.state(utc(2019, 12, 3, 12)) is CalendarState.FRESH


def test_snapshot_and_live_calendar_give_the_same_answers_bar_by_bar(ff_calendar):
    """The backtest path (bisect on a snapshot) and the live path (SQLite) must agree."""
    start, end = utc(2019, 11, 19), utc(2020, 1, 2)
    config = NewsConfig(min_impact=Impact.MEDIUM, flatten_before=True,
                        flatten_min_impact=Impact.HIGH)
    live = NewsFilter(config, ff_calendar)
    backtest = NewsFilter(config, ff_calendar.snapshot(start, end))
    cluster_sets = (USD_MAJORS, EUR_CROSSES, frozenset({"USD", "JPY", "CAD"}))

    disagreements = []
    blocked = 0
    now = start + timedelta(days=1)
    while now < end - timedelta(days=1):
        for currencies in cluster_sets:
            answers = [(nf.state(now), nf.check_entry(now, currencies),
                        nf.blackout(now, currencies), nf.flatten_due(now, currencies))
                       for nf in (live, backtest)]
            if answers[0] != answers[1]:
                disagreements.append((now, currencies, answers))
            blocked += answers[1][1].reason == codes.NEWS_BLACKOUT
        now += timedelta(minutes=30)

    assert disagreements == []
    assert blocked > 100


def test_live_calendar_is_reread_after_an_import(tmp_path):
    path = tmp_path / "calendar.sqlite"
    with Calendar.open(path) as live:
        nf = NewsFilter(NewsConfig(), live)
        payrolls = utc(2019, 12, 6, 13, 30)
        before = nf.check_entry(payrolls, USD_MAJORS)
        live.import_file(FF_CSV_SLICE)

        nf.reload()

        assert before.reason == codes.CALENDAR_STALE
        assert nf.check_entry(payrolls, USD_MAJORS).reason == codes.NEWS_BLACKOUT
