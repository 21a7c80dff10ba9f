"""``[duplicates]`` keys are settings: the fields listed there decide what counts once."""

from __future__ import annotations

from tests.factory import F, book, ev, score
from zg_excel.rules import load_rules


def _rules(tmp_path, text: str):
    p = tmp_path / "rules.toml"
    p.write_text(text, encoding="utf-8")
    return load_rules(p)


ROWS = [ev("区委组织部召开会议", "采用", "郑州日报", date="2026-03-05", 字数=800),
        ev("区委组织部召开会议", "采用", "郑州日报", date="2026-03-09", 字数=800)]


def test_default_key_counts_other_dates_separately():
    result = score({"a.xlsx": book("峡窝镇党委", ROWS)})
    assert result.unit("峡窝镇党委").points == F(10)
    assert result.rows["duplicate"] == 0


def test_event_key_without_date_counts_once(tmp_path):
    rules = _rules(tmp_path, '[duplicates]\nevent_key = ["unit", "title", "outlet", "form"]\n')
    result = score({"a.xlsx": book("峡窝镇党委", ROWS)}, rules=rules)
    assert result.unit("峡窝镇党委").points == F(5)
    assert result.rows["duplicate"] == 1


def test_submission_key_without_destination_counts_once(tmp_path):
    subs = [{"报送日期": "2026-03-05", "稿件标题": "甲", "报送对象": "区委组织部"},
            {"报送日期": "2026-03-05", "稿件标题": "甲", "报送对象": "市委组织部"}]
    default = score({"a.xlsx": book("峡窝镇党委", submissions=subs)})
    assert default.unit("峡窝镇党委").submissions_by_month[3] == 2
    rules = _rules(tmp_path, '[duplicates]\nsubmission_key = ["unit", "title", "date"]\n')
    once = score({"a.xlsx": book("峡窝镇党委", submissions=subs)}, rules=rules)
    assert once.unit("峡窝镇党委").submissions_by_month[3] == 1
