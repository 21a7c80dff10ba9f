"""Two-level check of the version rule (RULES.md §6): a generated year of monthly returns.

A seeded generator writes, for several units, twelve monthly files in which some rows arrive a
month late (in the next month's file), some months are resent corrected (the whole month again,
one 字数 changed, a row dropped or added), some corrections cover only part of a month (not a
resend: merged, the newest row wins), some quarters are resent as one cumulative file, and some
files are dropped twice under another name. A reference implementation written here from the
rule's text alone (no code of the package) gives every unit's points, 对口处室 credit and short
months; the merge must give the same. The same data under the old rule (a file whose months lie
within a newer file's is superseded, whatever it holds) must differ somewhere, so the check can fail.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from dataclasses import dataclass, field
from fractions import Fraction

import pytest

from tests.factory import YEAR, book, score
from zg_excel.rules import load_rules

# What the reference needs of the default rules, written out by hand (RULES.md §3, §4, §7).
UNITS = {"峡窝镇党委": "镇街", "济源路街道党工委": "镇街", "中心路街道党工委": "镇街",
         "区直机关工委": "其他党工委", "组织科": "科室"}
SECTION = "干部科"  # named as 经对口处室 on some rows; sends no file of its own
OUTLETS = {"郑州日报": "市级", "河南日报": "省级", "上街区党建网": "区级"}
POINTS = {("采用", "区级"): Fraction(1), ("采用", "市级"): Fraction(5), ("采用", "省级"): Fraction(10),
          ("综合", "区级"): Fraction(1, 2), ("综合", "市级"): Fraction(3), ("综合", "省级"): Fraction(5)}
MONTHLY = {"镇街": 2, "其他党工委": None, "科室": 2}
COUNTS = {"镇街": {"区委组织部", "市委组织部", "省委组织部"}, "其他党工委": {"区委组织部", "市委组织部", "省委组织部"},
          "科室": {"市委组织部", "省委组织部"}}
DESTINATIONS = ["区委组织部", "市委组织部", "省委组织部"]
AS_OF = dt.date(YEAR, 12, 31)


@dataclass(frozen=True)
class Event:
    title: str
    form: str
    outlet: str
    date: dt.date
    chars: int | None
    section: str | None

    def record(self) -> dict:
        rec = {"稿件标题": self.title, "录用形式": self.form, "媒体名称": self.outlet,
               "录用日期": self.date.isoformat(), "字数": self.chars}
        if self.section:
            rec["经对口处室"] = self.section
        return rec


@dataclass(frozen=True)
class Sub:
    title: str
    date: dt.date
    dest: str

    def record(self) -> dict:
        return {"稿件标题": self.title, "报送日期": self.date.isoformat(), "报送对象": self.dest}


@dataclass
class File:
    name: str
    unit: str
    saved: dt.datetime
    events: list[Event] = field(default_factory=list)
    subs: list[Sub] = field(default_factory=list)
    kind: str = "monthly"
    month: int = 0  # of a monthly file


# ---------------------------------------------------------------- generator

def _day(rng: random.Random, month: int) -> dt.date:
    return dt.date(YEAR, month, rng.randint(1, 28))


def _event(rng: random.Random, unit: str, month: int, k: int) -> Event:
    outlet = rng.choice(list(OUTLETS))
    return Event(f"{unit[:3]}{month}月第{k}篇稿件", rng.choice(["采用", "采用", "综合"]), outlet, _day(rng, month),
                 rng.choice([None, 800, 1500]), SECTION if rng.random() < 0.2 else None)


def _fixed(e: Event) -> Event:
    """The same event with its 字数 corrected (800 ↔ 1500): changes the points of an 采用."""
    return dataclasses.replace(e, chars=1500 if e.chars != 1500 else 800)


def generate(seed: int) -> list[File]:
    rng = random.Random(seed)
    files: list[File] = []
    for unit in UNITS:
        short = unit[:3]
        late_events: list[Event] = []
        late_subs: list[Sub] = []
        monthly: dict[int, File] = {}
        k = 0
        for m in range(1, 13):
            saved = dt.datetime(YEAR, m + 1, 3, 9) if m < 12 else dt.datetime(YEAR + 1, 1, 3, 9)
            f = File(f"{unit}-{YEAR}年{m}月.xlsx", unit, saved, list(late_events), list(late_subs), month=m)
            late_events, late_subs = [], []
            for _ in range(rng.randint(1, 4)):
                k += 1
                e = _event(rng, unit, m, k)
                (late_events if m < 12 and rng.random() < 0.2 else f.events).append(e)
            for j in range(rng.choice([1, 2, 2, 3])):
                s = Sub(f"{short}{m}月报送{j}", _day(rng, m), rng.choice(DESTINATIONS))
                (late_subs if m < 12 and rng.random() < 0.2 else f.subs).append(s)
            files.append(f)
            monthly[m] = f
            if rng.random() < 0.2:  # an exact copy dropped under another name
                files.append(dataclasses.replace(f, name=f"{unit}-{YEAR}年{m}月(1).xlsx", kind="copy"))
            r = rng.random()
            if r < 0.2 and f.events:  # the month resent corrected: one 字数 fixed, perhaps a row dropped or added
                events = list(f.events)
                i = rng.randrange(len(events))
                events[i] = _fixed(events[i])
                if len(events) >= 3 and rng.random() < 0.5:
                    events.pop(rng.randrange(len(events)))
                if rng.random() < 0.5:
                    k += 1
                    events.append(_event(rng, unit, m, k))
                if rng.random() < 0.3:  # the title retyped with book-title marks: the same title
                    events[0] = dataclasses.replace(events[0], title=f"《{events[0].title}》")
                files.append(File(f"{unit}-{YEAR}年{m}月（更正）.xlsx", unit, saved + dt.timedelta(days=4),
                                  events, list(f.subs), kind="resend"))
            elif r < 0.35 and f.events:  # one corrected row sent alone: not a resend of a longer month
                files.append(File(f"{unit}-{YEAR}年{m}月补充.xlsx", unit, saved + dt.timedelta(days=2),
                                  [_fixed(rng.choice(f.events))], [], kind="partial"))
            if m % 3 == 0 and m < 12 and rng.random() < 0.3:  # the quarter again, as one cumulative file
                quarter = [monthly[q] for q in (m - 2, m - 1, m)]
                events = [e for q in quarter for e in q.events]
                if events:
                    i = rng.randrange(len(events))
                    events[i] = _fixed(events[i])
                files.append(File(f"{unit}-{YEAR}年第{m // 3}季度累计.xlsx", unit, saved + dt.timedelta(days=6),
                                  events, [s for q in quarter for s in q.subs], kind="cumulative"))
    return files


# ---------------------------------------------------------------- reference (from the rule's text)

def norm(title: str) -> str:
    return title.replace("《", "").replace("》", "").replace(" ", "")


def months(f: File) -> set[int]:
    return {e.date.month for e in f.events} | {s.date.month for s in f.subs}


def share(old: File, new: File) -> Fraction:
    rows = len(old.events) + len(old.subs)
    if rows == 0:
        return Fraction(1)
    titles_e = {norm(e.title) for e in new.events}
    titles_s = {norm(s.title) for s in new.subs}
    held = sum(norm(e.title) in titles_e for e in old.events) + sum(norm(s.title) in titles_s for s in old.subs)
    return Fraction(held, rows)


def reference(files: list[File], resend_share: Fraction = Fraction(1, 2)):
    """Per unit: (points, credit, short months); and the names of the superseded files."""
    points = {u: Fraction(0) for u in [*UNITS, SECTION]}
    credit = {u: Fraction(0) for u in [*UNITS, SECTION]}
    counted = {u: {m: 0 for m in range(1, 13)} for u in [*UNITS, SECTION]}
    superseded: set[str] = set()
    for unit in UNITS:
        newest_first = sorted((f for f in files if f.unit == unit), key=lambda f: (f.saved, f.name), reverse=True)
        for i, old in enumerate(newest_first):
            if any(months(old) <= months(new) and share(old, new) >= resend_share for new in newest_first[:i]):
                superseded.add(old.name)
        seen_e: set = set()
        seen_s: set = set()
        for f in newest_first:
            if f.name in superseded:
                continue
            for e in f.events:
                key = (norm(e.title), e.outlet, e.form, e.date)
                if key in seen_e:
                    continue
                seen_e.add(key)
                p = POINTS[(e.form, OUTLETS[e.outlet])]
                if e.form == "采用" and e.chars is not None and e.chars > 1000:
                    p *= 3
                points[unit] += p
                if e.section:
                    credit[e.section] += p / 5
            for s in f.subs:
                key = (norm(s.title), s.date, s.dest)
                if key in seen_s:
                    continue
                seen_s.add(key)
                if s.dest in COUNTS[UNITS[unit]]:
                    counted[unit][s.date.month] += 1
    category = {**UNITS, SECTION: "科室"}
    short = {u: [m for m in range(1, 13) if MONTHLY[category[u]] and counted[u][m] < MONTHLY[category[u]]]
             for u in counted}
    return {u: (points[u], credit[u], short[u]) for u in counted}, superseded


def merged(files: list[File], rules=None):
    books = {f.name: book(f.unit, [e.record() for e in f.events], [s.record() for s in f.subs], saved=f.saved)
             for f in files}
    return score(books, as_of=AS_OF, rules=rules)


def got_of(result):
    return {u: (result.unit(u).points, result.unit(u).credit, result.unit(u).short_months) for u in [*UNITS, SECTION]}


SEEDS = [1, 2, 3, 4, 5, 6]


@pytest.mark.parametrize("seed", SEEDS)
def test_a_generated_year_matches_the_reference(seed):
    files = generate(seed)
    want, superseded = reference(files)
    result = merged(files)
    assert {r.relpath for r in result.returns if r.superseded_by} == superseded
    assert got_of(result) == want
    assert not result.issues.has_errors


def test_the_generator_makes_every_case_and_the_old_rule_differs():
    """Across the seeds: late rows, every kind of extra file, files kept beside a resend and files
    superseded all occur, and the old rule (share of rows ignored) gives other figures."""
    kinds: set[str] = set()
    late = kept_corrections = superseded_resends = 0
    differs = []
    loose = dataclasses.replace(load_rules(), resend_share=Fraction(1, 10**9))
    for seed in SEEDS:
        files = generate(seed)
        kinds |= {f.kind for f in files}
        late += sum(1 for f in files if f.kind == "monthly" for e in f.events if e.date.month != f.month)
        want, superseded = reference(files)
        kept_corrections += sum(1 for f in files if f.kind == "partial")
        superseded_resends += sum(1 for f in files if f.name in superseded and f.kind == "monthly")
        old_want, _ = reference(files, resend_share=Fraction(1, 10**9))
        if old_want != want:
            differs.append(seed)
            assert got_of(merged(files, rules=loose)) == old_want  # the reference of the old rule agrees too
    assert kinds == {"monthly", "copy", "resend", "partial", "cumulative"}
    assert late >= 5 and kept_corrections >= 3 and superseded_resends >= 5
    assert differs, "no seed tells the new rule from the old one"
