"""The same article claimed by two or more units (cross-unit claims).

Two units sometimes both put one published article in their returns (a joint
piece, a unit that copied a neighbour's line, a typo in the title). The
method gives an article to one unit only, but which one is a judgement call,
so this module only *lists* each such group as a warning and never changes a
score.

A claim is a row that would count (outcome ``scored`` or ``not_org_work``,
in a file that is not superseded). Rows are grouped when their normalized
titles (``values.normalize_key``) are equal or at least
``rules.title_similarity`` similar (rapidfuzz ``fuzz.ratio``, 0–100), and —
when ``rules.same_outlet_required`` — their outlet and date are the same.
A group is reported when it holds rows of at least two units and at least one
row that is not a 综合 (digest): a digest is by nature one report built from
several units' material, so units sharing a digest title is normal.

Complexity (n rows). Rows are never compared all against all:

1. Rows are put in blocks by one dict lookup each — ``(outlet, date)`` when
   the outlet is required, else a title prefix and a title suffix (two
   near-identical titles almost always share one of them) — and equal titles
   are merged inside a block by a second dict: O(n).
2. Fuzzy matching only runs inside a block. A block of at most
   ``ALL_PAIRS`` distinct titles (real returns: the few articles of one
   outlet on one day) is compared pair by pair, which finds every similar
   pair. A larger block is sorted twice, by title and by reversed title, and
   each title is compared with its ``WINDOW`` next neighbours in each order
   (near-identical titles share a beginning or an end, so they sort close
   together): at most 2·``WINDOW`` comparisons per row, O(n log n) for the
   sorts, done in C. A pair may be found twice; joining a group is idempotent.
3. Each title is scored against its candidates inside rapidfuzz, in one
   ``process.extract`` call, and groups are joined with a union-find.

So the time per row does not grow with the number of files (the benchmark:
5× more files cost ≤ 1.1× the time per file).
"""

from __future__ import annotations

import gc
from collections import defaultdict
from typing import Hashable, Iterable

from .issues import WARNING, Issue
from .model import NOT_ORG_WORK, SCORED, EventRow, Return
from .rules import Rules
from .values import normalize_key, normalize_key_uncached

CODE = "cross_unit_claim"
COUNTED = (SCORED, NOT_ORG_WORK)
SHARED_FORMS = ("综合",)  # a digest legitimately carries several units' material
ALL_PAIRS = 16  # a block of at most this many distinct titles is compared pair by pair
WINDOW = 8  # beyond that, each title is compared with this many neighbours in two sort orders
KEY_CHARS = 5  # length of the title prefix / suffix used as a blocking key


class _Groups:
    """Union-find over row indices."""

    def __init__(self, n: int):
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        parent = self.parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _outlet_key(ev: EventRow) -> str:
    if ev.outlet:
        return ev.outlet
    if ev.outlet_text:
        return normalize_key(ev.outlet_text)
    return f"{ev.form}:{ev.declared_level or ''}"  # an endorsement names no outlet


def _similar_pairs(titles: list[str], cutoff: float) -> Iterable[tuple[int, int]]:
    """Index pairs of ``titles`` (the distinct normalized titles of one block) ≥ ``cutoff`` similar.

    Each title is scored against its candidates in one ``process.extract``
    call, so a pair costs a fraction of a microsecond inside rapidfuzz.
    """
    from .fuzzy import extract

    n = len(titles)
    if n <= ALL_PAIRS:  # every pair (real blocks: one outlet's articles of one day)
        for a in range(n - 1):
            for _, _, b in extract(titles[a], titles[a + 1:], "ratio", score_cutoff=cutoff, limit=None):
                yield a, a + 1 + b
        return
    # Sorted neighbourhood: near-identical titles share a beginning or an end, so they sort
    # close together by title or by reversed title. Each title is scored, in one call, against
    # the titles that follow it in either order.
    later: list[list[int]] = [[] for _ in range(n)]
    for order in (sorted(range(n), key=titles.__getitem__), sorted(range(n), key=lambda i: titles[i][::-1])):
        for p in range(n - 1):
            later[order[p]].extend(order[p + 1:p + 1 + WINDOW])
    for a in range(n):
        others = later[a]
        if not others:
            continue
        for _, _, q in extract(titles[a], [titles[b] for b in others], "ratio", score_cutoff=cutoff, limit=None):
            yield a, others[q]


def find_claims(returns: list[Return], rules: Rules) -> list[Issue]:
    """One warning per group of rows of different units that are the same article.

    Scores are not changed. Rows are read in reading order (files by name,
    rows top to bottom); the issue is placed on the first row of its group
    and its message lists every claim (unit, file, sheet, row).
    """
    # The structures built here hold no reference cycles; a collection during the
    # build would only walk the (large) heap of returns again and again.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _find_claims(returns, rules)
    finally:
        if collecting:
            gc.enable()


def _find_claims(returns: list[Return], rules: Rules) -> list[Issue]:
    events: list[EventRow] = []
    for r in sorted(returns, key=lambda r: r.relpath):
        if r.superseded_by:
            continue
        events.extend(ev for ev in r.events if ev.outcome in COUNTED and ev.unit and ev.title)
    if len(events) < 2:
        return []

    cutoff = float(rules.title_similarity)
    groups = _Groups(len(events))
    touched: set[int] = set()

    def match(by_title: dict[str, int]) -> None:
        """Similar distinct titles of one block (exact repeats were joined as they were added)."""
        if cutoff < 100 and len(by_title) >= 2:
            block = list(by_title)
            for a, b in _similar_pairs(block, cutoff):
                ra, rb = by_title[block[a]], by_title[block[b]]
                groups.union(ra, rb)
                touched.update((ra, rb))

    def add(by_title: dict[str, int], title: str, i: int) -> None:
        first = by_title.setdefault(title, i)
        if first != i:  # the same title again: the same group
            groups.union(first, i)
            touched.update((first, i))

    if rules.same_outlet_required:
        # One block per outlet and date. A block whose rows are all one unit's cannot hold a claim
        # of two units, and titles are normalized one block at a time (not half a million at once).
        members: dict[Hashable, list[int]] = defaultdict(list)
        for i, ev in enumerate(events):
            members[(_outlet_key(ev), ev.date)].append(i)
        for rows in members.values():
            if len(rows) < 2 or all(events[i].unit == events[rows[0]].unit for i in rows):
                continue
            by_title: dict[str, int] = {}
            for i in rows:
                title = normalize_key_uncached(events[i].title)
                if title:
                    add(by_title, title, i)
            match(by_title)
    else:
        # Blocks by the title's first and last characters: every title is needed up front.
        blocks: dict[Hashable, dict[str, int]] = defaultdict(dict)
        for i, ev in enumerate(events):
            title = normalize_key_uncached(ev.title)
            if title:
                add(blocks[("head", title[:KEY_CHARS])], title, i)
                add(blocks[("tail", title[-KEY_CHARS:])], title, i)
        for by_title in blocks.values():
            match(by_title)

    found: dict[int, list[int]] = defaultdict(list)
    for i in touched:
        found[groups.find(i)].append(i)
    issues: list[Issue] = []
    for members in sorted(found.values(), key=min):
        claims = [events[i] for i in sorted(members)]
        if len({ev.unit for ev in claims}) < 2:
            continue
        if all(ev.form in SHARED_FORMS for ev in claims):
            continue
        issues.append(_issue(claims))
    return issues


def _issue(claims: list[EventRow]) -> Issue:
    first = claims[0]
    units = list(dict.fromkeys(ev.unit for ev in claims))
    listed = "；".join(f"{ev.unit}（{ev.source.file} / {ev.source.sheet} / 第{ev.source.row}行）" for ev in claims)
    where = first.outlet or first.outlet_text or (first.form or "")
    when = first.date.isoformat() if first.date else ""
    titles = list(dict.fromkeys(ev.title or "" for ev in claims))
    shown = "”“".join(titles[:3])
    message = (f"同一稿件“{shown}”（{where}，{when}）被{len(units)}个单位填报：{listed}。"
               "请核实稿件归属，分值未自动调整")
    return Issue(WARNING, CODE, message, file=first.source.file, sheet=first.source.sheet,
                 row=first.source.row, column="稿件标题", value=first.title or "",
                 action="各单位照常计分，请人工核实", unit=first.unit,
                 fix="请与相关单位核实稿件由谁撰写；非本单位稿件请从本单位报表中删除后重新报送")
