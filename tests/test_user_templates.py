"""Every example template in templates/ renders against the sample result (they cannot drift from the context)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from zg_excel.outputs.bulletin import render_text

TEMPLATES = sorted((Path(__file__).resolve().parent.parent / "templates").glob("*.j2"))


def test_there_are_example_templates():
    assert TEMPLATES


@pytest.mark.parametrize("path", TEMPLATES, ids=[p.name for p in TEMPLATES])
def test_example_template_renders(path, sample_result):
    text = render_text(sample_result, path.read_text(encoding="utf-8"), issued=dt.date(2026, 10, 8))
    lines = text.splitlines()
    assert lines[0] == "关于2026年第三季度全区组工信息宣传工作情况的通报"
    assert lines[-2:] == ["中共上街区委组织部", "2026年10月8日"]
    assert "\t" not in text and "{{" not in text
    for t in sample_result.units:
        if t.returned:
            assert t.unit in text
