"""Windows, comparison windows and series buckets (SPEC §2): pure date arithmetic, no store."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime

import pytest

from pulse.metrics.windows import Window, buckets, instant, parse_date, parse_window, window_span

AS_OF = date(2026, 3, 15)  # a Sunday


def d(text: str) -> date:
    return date.fromisoformat(text)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def bounds(window: Window) -> tuple[str, str]:
    return window.start.isoformat(), window.end.isoformat()


# -- presets ------------------------------------------------------------------------------------


def test_last_30d_is_thirty_days_ending_on_the_as_of_date():
    window = parse_window("last_30d", AS_OF)
    # Mar 15 − 29 days = Feb 14 (Mar 1..15 = 15 days, Feb 14..28 = 15 days)
    assert bounds(window) == ("2026-02-14", "2026-03-15")
    assert window.days == 30


def test_last_3m_is_ninety_days_ending_on_the_as_of_date():
    window = parse_window("last_3m", AS_OF)
    # Mar 1..15 = 15, Feb = 28, Jan = 31 → 74; Dec 16..31 = 16 → 90 days from Dec 16
    assert bounds(window) == ("2025-12-16", "2026-03-15")
    assert window.days == 90


def test_last_12m_is_365_days_ending_on_the_as_of_date():
    window = parse_window("last_12m", AS_OF)
    # no Feb 29 between 2025-03 and 2026-03, so 365 days back from Mar 15 is Mar 16 a year ago
    assert bounds(window) == ("2025-03-16", "2026-03-15")
    assert window.days == 365


def test_this_month_runs_from_the_first_to_the_as_of_date():
    window = parse_window("this_month", AS_OF)
    assert bounds(window) == ("2026-03-01", "2026-03-15")
    assert window.days == 15


def test_last_month_is_the_previous_calendar_month():
    assert bounds(parse_window("last_month", AS_OF)) == ("2026-02-01", "2026-02-28")
    # in January the previous calendar month is in the previous year
    assert bounds(parse_window("last_month", d("2026-01-10"))) == ("2025-12-01", "2025-12-31")
    # on the 1st of a month "last month" is still the whole previous month
    assert bounds(parse_window("last_month", d("2026-04-01"))) == ("2026-03-01", "2026-03-31")


def test_this_month_on_the_first_is_one_day():
    window = parse_window("this_month", d("2026-04-01"))
    assert bounds(window) == ("2026-04-01", "2026-04-01") and window.days == 1


# -- comparison windows -------------------------------------------------------------------------


def test_previous_of_a_rolling_window_has_the_same_length_and_ends_the_day_before():
    previous = parse_window("last_30d", AS_OF).previous()
    # window starts Feb 14 → previous ends Feb 13; 30 days back: Jan 15..Feb 13
    assert bounds(previous) == ("2026-01-15", "2026-02-13")
    assert previous.days == 30
    previous_3m = parse_window("last_3m", AS_OF).previous()
    # window starts 2025-12-16 → previous ends Dec 15; 90 days: Sep 17..Dec 15
    assert bounds(previous_3m) == ("2025-09-17", "2025-12-15")


def test_previous_of_a_month_window_is_the_previous_calendar_month():
    # this_month (Mar 1..15, 15 days) compares with all of February (28 days), not Feb 14..28
    assert bounds(parse_window("this_month", AS_OF).previous()) == ("2026-02-01", "2026-02-28")
    # last_month (February) compares with January (31 days)
    assert bounds(parse_window("last_month", AS_OF).previous()) == ("2026-01-01", "2026-01-31")
    # and January compares with December of the year before
    january = parse_window("last_month", d("2026-02-10"))
    assert bounds(january.previous()) == ("2025-12-01", "2025-12-31")


def test_previous_of_a_previous_month_window_stays_calendar():
    twice = parse_window("last_month", AS_OF).previous().previous()
    assert bounds(twice) == ("2025-12-01", "2025-12-31")


# -- custom windows -----------------------------------------------------------------------------


def test_custom_window_includes_both_dates():
    window = parse_window("2026-02-10..2026-02-20", AS_OF)
    assert bounds(window) == ("2026-02-10", "2026-02-20")
    assert window.days == 11  # 10th to 20th inclusive
    # previous: 11 days ending Feb 9 → Jan 30..Feb 9
    assert bounds(window.previous()) == ("2026-01-30", "2026-02-09")


def test_custom_window_does_not_depend_on_the_as_of_date():
    assert parse_window("2026-02-10..2026-02-20", d("2030-01-01")) == parse_window(
        "2026-02-10..2026-02-20", AS_OF
    )


def test_custom_single_day_window():
    window = parse_window("2026-02-10..2026-02-10", AS_OF)
    assert window.days == 1
    assert bounds(window.previous()) == ("2026-02-09", "2026-02-09")


def test_custom_window_over_a_calendar_month_compares_by_length():
    # A custom range is compared by length (28 days before), not by calendar month:
    # Feb 1..28 → Jan 4..31.
    window = parse_window("2026-02-01..2026-02-28", AS_OF)
    assert bounds(window.previous()) == ("2026-01-04", "2026-01-31")


# -- errors name the parameter ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        ("last_week", "is not one of"),
        ("", "is not one of"),
        ("2026-2-1..2026-3-1", "is not one of"),
        ("2026-02-01", "is not one of"),
        ("2026-02-30..2026-03-01", "invalid date"),
        ("2026-03-01..2026-02-01", "ends before it starts"),
    ],
)
def test_bad_window_is_refused_naming_the_window_parameter(spec, reason):
    with pytest.raises(ValueError, match=r"^window: ") as error:
        parse_window(spec, AS_OF)
    assert reason in str(error.value)


def test_bad_as_of_date_names_its_parameter():
    assert parse_date("2026-02-28") == d("2026-02-28")
    with pytest.raises(ValueError, match=r"^as_of: '2026-02-30' is not a date"):
        parse_date("2026-02-30")
    with pytest.raises(ValueError, match=r"^since: "):
        parse_date("yesterday", "since")


# -- series buckets -----------------------------------------------------------------------------


def spans_of(window: Window, grain: str, tz: str = "UTC") -> list[tuple[str, str, str]]:
    return [
        (s.key.date().isoformat(), s.first.isoformat(), s.last.isoformat())
        for s in buckets(window, grain, tz)  # type: ignore[arg-type]
    ]


def test_day_buckets_are_one_per_day():
    window = Window(d("2026-02-27"), d("2026-03-01"))
    assert spans_of(window, "day") == [
        ("2026-02-27", "2026-02-27", "2026-02-27"),
        ("2026-02-28", "2026-02-28", "2026-02-28"),
        ("2026-03-01", "2026-03-01", "2026-03-01"),
    ]


def test_week_buckets_start_on_iso_monday_and_are_clipped_to_the_window():
    # Wed Feb 4 .. Fri Feb 20: the first week is keyed by Monday Feb 2 but starts on the 4th,
    # the last one ends on the 20th, not on Sunday the 22nd.
    window = Window(d("2026-02-04"), d("2026-02-20"))
    assert spans_of(window, "week") == [
        ("2026-02-02", "2026-02-04", "2026-02-08"),
        ("2026-02-09", "2026-02-09", "2026-02-15"),
        ("2026-02-16", "2026-02-16", "2026-02-20"),
    ]


def test_week_bucket_across_the_new_year():
    # Mon Dec 29 2025 .. Sun Jan 4 2026 is ISO week 1 of 2026: one bucket.
    window = Window(d("2025-12-30"), d("2026-01-04"))
    assert spans_of(window, "week") == [("2025-12-29", "2025-12-30", "2026-01-04")]


def test_month_buckets_are_calendar_months_clipped_to_the_window():
    window = Window(d("2026-01-15"), d("2026-03-10"))
    assert spans_of(window, "month") == [
        ("2026-01-01", "2026-01-15", "2026-01-31"),
        ("2026-02-01", "2026-02-01", "2026-02-28"),
        ("2026-03-01", "2026-03-01", "2026-03-10"),
    ]


def test_month_buckets_cover_december_to_january():
    window = Window(d("2025-12-01"), d("2026-01-31"))
    assert [key for key, _, _ in spans_of(window, "month")] == ["2025-12-01", "2026-01-01"]


def test_bucket_spans_are_contiguous_utc_instants():
    spans = buckets(Window(d("2026-02-04"), d("2026-02-20")), "week", "UTC")
    assert spans[0].start == utc("2026-02-04 00:00")
    assert spans[-1].end == utc("2026-02-21 00:00")  # exclusive: the day after the window
    for before, after in itertools.pairwise(spans):
        assert before.end == after.start


def test_preceding_bucket_is_the_whole_previous_bucket():
    first = buckets(Window(d("2026-01-01"), d("2026-03-10")), "month", "UTC")[0]
    preceding = first.preceding("UTC")
    assert (preceding.first, preceding.last) == (d("2025-12-01"), d("2025-12-31"))
    week = buckets(Window(d("2026-02-02"), d("2026-02-20")), "week", "UTC")[0]
    before = week.preceding("UTC")
    assert (before.first, before.last) == (d("2026-01-26"), d("2026-02-01"))


def test_preceding_window_span_follows_the_comparison_rule():
    this_month = window_span(parse_window("this_month", AS_OF), "UTC")
    previous = this_month.preceding("UTC")
    assert (previous.first, previous.last) == (d("2026-02-01"), d("2026-02-28"))
    rolling = window_span(parse_window("last_30d", AS_OF), "UTC").preceding("UTC")
    assert (rolling.first, rolling.last) == (d("2026-01-15"), d("2026-02-13"))


# -- time zones ---------------------------------------------------------------------------------


def test_instant_is_local_midnight_in_utc():
    assert instant(d("2026-02-01"), "UTC") == utc("2026-02-01 00:00")
    # Berlin is UTC+1 in winter: local midnight Feb 1 is 23:00 UTC on Jan 31
    assert instant(d("2026-02-01"), "Europe/Berlin") == utc("2026-01-31 23:00")
    # and UTC+2 in summer
    assert instant(d("2026-07-01"), "Europe/Berlin") == utc("2026-06-30 22:00")
    # west of UTC the day starts later: New York is UTC−5 in winter
    assert instant(d("2026-02-01"), "America/New_York") == utc("2026-02-01 05:00")


def test_local_day_of_the_spring_clock_change_has_23_hours():
    # Clocks go forward in the EU on Sunday 2026-03-29.
    day = buckets(Window(d("2026-03-29"), d("2026-03-29")), "day", "Europe/Berlin")[0]
    assert day.start == utc("2026-03-28 23:00")
    assert day.end == utc("2026-03-29 22:00")
    assert (day.end - day.start).total_seconds() == 23 * 3600


def test_window_span_in_a_zone_covers_whole_local_days():
    whole = window_span(parse_window("this_month", d("2026-02-28")), "Europe/Berlin")
    # Feb 1 00:00 CET = Jan 31 23:00 UTC; Mar 1 00:00 CET = Feb 28 23:00 UTC
    assert (whole.start, whole.end) == (utc("2026-01-31 23:00"), utc("2026-02-28 23:00"))
    assert whole.days == 28
