"""FractionSum: exact sums counted per shared object (tally and previous standings use it)."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from zg_excel.tally import FractionSum

_VALUES = st.fractions(min_value=-100, max_value=100, max_denominator=12)


@given(st.lists(_VALUES, max_size=60), st.lists(st.integers(min_value=0, max_value=59), max_size=200))
def test_equals_the_plain_sum_whatever_the_sharing(values, picks):
    pool = [Fraction(v.numerator, v.denominator) for v in values]  # distinct objects, values may repeat
    chosen = [pool[i % len(pool)] for i in picks] if pool else []
    chosen += [Fraction(v.numerator, v.denominator) for v in values]  # and unshared copies
    s = FractionSum()
    for v in chosen:
        s.add(v)
    assert s.total() == sum(chosen, Fraction(0))
    assert isinstance(s.total(), Fraction)


def test_empty_sum_is_zero():
    assert FractionSum().total() == 0
