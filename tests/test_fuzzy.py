"""zg_excel.fuzzy's pure-Python scorers give rapidfuzz's scores, orders and cut-offs (same result.json without it)."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from zg_excel import fuzzy

rapidfuzz = pytest.importorskip("rapidfuzz")
from rapidfuzz import fuzz, process  # noqa: E402

# Few distinct characters, so that strings share a lot (the interesting cases); Chinese, ASCII and spaces
# (the token scorers split on whitespace).
ALPHABET = "组织部信息宣传区县镇 abcAB"
text = st.text(alphabet=ALPHABET, max_size=24)
short = st.text(alphabet=ALPHABET, max_size=10)


@settings(max_examples=600, deadline=None)
@given(text, text)
@example("", "")
@example("this is a test", "this is a test!")
def test_ratio_is_rapidfuzz_ratio(a, b):
    assert fuzzy.py_ratio(a, b) == pytest.approx(fuzz.ratio(a, b), abs=1e-9)


@settings(max_examples=600, deadline=None)
@given(text, text)
@example("人民日报", "人民日报社 理论部")
@example("a", "bbbbbbbbbbbbbbbbbbbba")
@example("abc de", "de abc")
def test_wratio_is_rapidfuzz_wratio(a, b):
    assert fuzzy.py_wratio(a, b) == pytest.approx(fuzz.WRatio(a, b), abs=1e-9)


@settings(max_examples=300, deadline=None)
@given(short, short)
def test_partial_ratio_is_rapidfuzz_partial_ratio(a, b):
    assert fuzzy.py_partial_ratio(a, b) == pytest.approx(fuzz.partial_ratio(a, b), abs=1e-9)


# rules.title_similarity is a whole or decimal percentage
CUTOFFS = st.sampled_from([None, 0, 50, 80, 85, 87.5, 90, 92.5, 95, 100]) | st.integers(0, 100)


@settings(max_examples=400, deadline=None)
@given(text, st.lists(text, max_size=12), CUTOFFS, st.sampled_from([None, 1, 3, 9]),
       st.sampled_from(["ratio", "wratio"]))
@example("组织部信息", ["组织部信息a", "组织部信", "组织部信息ab", "组织部信息", "组"], 90, None, "ratio")
def test_extract_same_matches_same_order(query, choices, cutoff, limit, scorer):
    rf_scorer = fuzz.ratio if scorer == "ratio" else fuzz.WRatio
    pure = fuzzy.py_ratio if scorer == "ratio" else fuzzy.py_wratio
    want = process.extract(query, choices, scorer=rf_scorer, score_cutoff=cutoff, limit=limit)
    got = fuzzy.py_extract(query, choices, pure, score_cutoff=cutoff, limit=limit)
    assert [(c, i) for c, _, i in got] == [(c, i) for c, _, i in want]
    assert [s for _, s, _ in got] == pytest.approx([s for _, s, _ in want], abs=1e-9)


def test_boundary_scores_are_kept_at_the_cutoff():
    # 18 of 20 characters in common: exactly 90, which a cut-off of 90 keeps (claims' default similarity)
    a, b = "组织部信息宣传区县a", "组织部信息宣传区县b"
    assert fuzz.ratio(a, b) == fuzzy.py_ratio(a, b) == pytest.approx(90)
    assert [i for *_, i in fuzzy.py_extract(a, [b], fuzzy.py_ratio, score_cutoff=90, limit=None)] == [0]
    assert [i for *_, i in process.extract(a, [b], scorer=fuzz.ratio, score_cutoff=90, limit=None)] == [0]


def test_the_api_uses_rapidfuzz_when_installed_and_agrees_with_the_pure_path():
    assert fuzzy.BACKEND == "rapidfuzz"
    names = ["人民日报", "人民日报海外版", "光明日报", "新华社", "组工信息"]
    assert fuzzy.extract("人民日报社", names, "wratio", limit=3) == \
        fuzzy.py_extract("人民日报社", names, fuzzy.py_wratio, limit=3)
