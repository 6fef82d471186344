"""The case page's words for a legal window: T-id, the typed start (or none), the last day."""

from __future__ import annotations

from datetime import UTC, date, datetime

from engine.deadlines import SHANGHAI
from engine.instance import BoundaryTimer
from workflows.deadlines.legal_windows import legal_window


def timer(doc: str | None, start: str | None, due: datetime) -> BoundaryTimer:
    return BoundaryTimer("t", "期限", due.astimezone(UTC), True, doc, start)


def test_a_window_names_its_t_id_typed_start_and_last_day():
    row = legal_window(timer("T-43 不服裁决起诉 30日：…", "award_on", datetime(2025, 7, 5, tzinfo=SHANGHAI)),
                       {"award_on": "2025-06-04"}, SHANGHAI)
    assert row == {"tid": "T-43", "start": date(2025, 6, 4), "last_day": date(2025, 7, 4),
                   "at_midnight": True}


def test_without_a_typed_date_the_start_is_unknown_and_a_timed_end_is_that_day():
    row = legal_window(timer("T-01 签收", None, datetime(2025, 7, 5, 10, 20, tzinfo=SHANGHAI)), {}, SHANGHAI)
    assert (row["start"], row["last_day"], row["at_midnight"]) == (None, date(2025, 7, 5), False)
    left_empty = legal_window(timer("T-20 …", "key_date", datetime(2025, 7, 5, tzinfo=SHANGHAI)),
                              {"key_date": ""}, SHANGHAI)
    assert left_empty["start"] is None


def test_a_timer_without_a_t_id_is_not_a_legal_window():
    assert legal_window(timer("提醒", None, datetime(2025, 7, 5, tzinfo=SHANGHAI)), {}, SHANGHAI) is None
    assert legal_window(timer(None, None, datetime(2025, 7, 5, tzinfo=SHANGHAI)), {}, SHANGHAI) is None
