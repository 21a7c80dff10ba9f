"""String similarity: the one owner of the fuzzy scorers (rapidfuzz when installed, else pure Python).

Two scorers are used: ``ratio`` (how similar two titles are, for claims) and
``wratio`` (the closest catalog names, for an unknown outlet's message), both
0–100, through ``extract``. With rapidfuzz installed (the 完整版, compiled)
they are rapidfuzz's ``fuzz.ratio`` / ``fuzz.WRatio`` / ``process.extract``;
without it (a machine with no rapidfuzz wheel, e.g. 龙芯 / 申威) the same
definitions run in pure Python below, so every score, every order and every
cut-off is the same and so is result.json (tests/test_fuzzy.py compares them
with hypothesis).

Definitions (rapidfuzz 3.x, no processor):

- ``ratio`` = normalized Indel similarity, 100·(1 − d/(len1+len2)) where d is
  the number of insertions and deletions turning one string into the other
  (len1+len2 − 2·LCS); 100 for two empty strings.
- ``wratio`` = rapidfuzz's weighted ratio: ratio, and the best of the token
  ratios (×0.95) when the lengths are within 1.5×; else the partial ratio
  (×0.9, ×0.6 beyond 8×) and the partial token ratios (×0.95·scale). The
  partial ratio tries every alignment of the shorter string in the longer one
  (rapidfuzz does so for a shorter string of up to 64 characters; catalog
  names are far shorter).
- ``extract`` keeps the choices scoring ≥ ``score_cutoff`` (every one when it
  is None), best first, equal scores in the choices' order, at most ``limit``.

The pure-Python implementation follows rapidfuzz's own Python fallback
(``rapidfuzz/fuzz_py.py``, MIT, © Max Bachmann), restricted to ``str``.
"""

from __future__ import annotations

from math import ceil
from typing import Callable, Sequence

try:  # the compiled scorers, when their wheel could be installed
    from rapidfuzz import fuzz as _rf_fuzz
    from rapidfuzz import process as _rf_process
except ImportError:  # pragma: no cover - exercised by tests/test_pure_python.py
    _rf_fuzz = None
    _rf_process = None

#: "rapidfuzz" (compiled) or "python" (this module's own scorers)
BACKEND = "rapidfuzz" if _rf_fuzz is not None else "python"

Scorer = Callable[[str, str], float]


# ---------------------------------------------------------------- pure Python

def _lcs_block(block: dict, len1: int, s2: str) -> int:
    """Length of the longest common subsequence (bit-parallel, Hyyrö), ``block`` from s1."""
    if not len1:
        return 0
    S = (1 << len1) - 1
    get = block.get
    for ch in s2:
        u = S & get(ch, 0)
        S = (S + u) | (S - u)
    return bin(S)[-len1:].count("0")


def _block(s1: str) -> dict:
    block: dict = {}
    x = 1
    for ch in s1:
        block[ch] = block.get(ch, 0) | x
        x <<= 1
    return block


def _indel_distance(s1: str, s2: str) -> int:
    return len(s1) + len(s2) - 2 * _lcs_block(_block(s1), len(s1), s2)


def _norm_sim_block(block: dict, s1: str, s2: str) -> float:
    maximum = len(s1) + len(s2)
    dist = maximum - 2 * _lcs_block(block, len(s1), s2)
    return 1.0 - (dist / maximum if maximum else 0)


def py_ratio(s1: str, s2: str, score_cutoff: float | None = None) -> float:
    """fuzz.ratio: 100·(1 − indel_distance/(len1+len2))."""
    maximum = len(s1) + len(s2)
    norm_sim = 1.0 - (_indel_distance(s1, s2) / maximum if maximum else 0)
    if score_cutoff is not None and norm_sim < score_cutoff / 100:
        return 0
    return norm_sim * 100


def _norm_distance(dist: int, lensum: int, score_cutoff: float) -> float:
    score = (100 - 100 * dist / lensum) if lensum else 100
    return score if score >= score_cutoff else 0


def _partial_impl(s1: str, s2: str, score_cutoff: float) -> float:
    """Best normalized similarity (0–1, or 100 on a perfect match) of s1 against s2's windows; len(s1) <= len(s2)."""
    chars = set(s1)
    len1, len2 = len(s1), len(s2)
    block = _block(s1)
    best = 0.0

    def consider(sub: str) -> bool:
        nonlocal best, score_cutoff
        sim = _norm_sim_block(block, s1, sub)
        if sim < score_cutoff:
            sim = 0
        if sim > best:
            best = score_cutoff = sim
            return best == 1
        return False

    for i in range(1, len1):
        if s2[i - 1] in chars and consider(s2[:i]):
            return 100
    for i in range(len2 - len1):
        if s2[i + len1 - 1] in chars and consider(s2[i:i + len1]):
            return 100
    for i in range(len2 - len1, len2):
        if s2[i] in chars and consider(s2[i:]):
            return 100
    return best * 100


def py_partial_ratio(s1: str, s2: str, score_cutoff: float | None = None) -> float:
    score_cutoff = score_cutoff or 0
    if not s1 and not s2:
        return 100.0
    len1, len2 = len(s1), len(s2)
    shorter, longer = (s1, s2) if len1 <= len2 else (s2, s1)
    score = _partial_impl(shorter, longer, score_cutoff / 100)
    if score != 100 and len1 == len2:
        score_cutoff = max(score_cutoff, score)
        score2 = _partial_impl(longer, shorter, score_cutoff / 100)
        if score2 > score:
            score = score2
    return score if score >= score_cutoff else 0


def _join(tokens) -> str:
    return " ".join(tokens)


def _token_sort_ratio(s1: str, s2: str, score_cutoff: float) -> float:
    return py_ratio(_join(sorted(s1.split())), _join(sorted(s2.split())), score_cutoff)


def _token_set_ratio(s1: str, s2: str, score_cutoff: float) -> float:
    if score_cutoff > 100:
        return 0
    tokens_a, tokens_b = set(s1.split()), set(s2.split())
    if not tokens_a or not tokens_b:
        return 0
    intersect = tokens_a & tokens_b
    diff_ab, diff_ba = tokens_a - tokens_b, tokens_b - tokens_a
    if intersect and (not diff_ab or not diff_ba):
        return 100
    diff_ab_joined, diff_ba_joined = _join(sorted(diff_ab)), _join(sorted(diff_ba))
    ab_len, ba_len = len(diff_ab_joined), len(diff_ba_joined)
    sect_len = len(_join(intersect))
    sect_ab_len = sect_len + (sect_len != 0) + ab_len
    sect_ba_len = sect_len + (sect_len != 0) + ba_len
    result = 0.0
    cutoff_distance = ceil((sect_ab_len + sect_ba_len) * (1 - score_cutoff / 100))
    dist = _indel_distance(diff_ab_joined, diff_ba_joined)
    if dist <= cutoff_distance:
        result = _norm_distance(dist, sect_ab_len + sect_ba_len, score_cutoff)
    if not sect_len:
        return result
    sect_ab_ratio = _norm_distance((sect_len != 0) + ab_len, sect_len + sect_ab_len, score_cutoff)
    sect_ba_ratio = _norm_distance((sect_len != 0) + ba_len, sect_len + sect_ba_len, score_cutoff)
    return max(result, sect_ab_ratio, sect_ba_ratio)


def _partial_token_ratio(s1: str, s2: str, score_cutoff: float) -> float:
    if score_cutoff > 100:
        return 0
    split_a, split_b = s1.split(), s2.split()
    tokens_a, tokens_b = set(split_a), set(split_b)
    if tokens_a & tokens_b:
        return 100
    diff_ab, diff_ba = tokens_a - tokens_b, tokens_b - tokens_a
    result = py_partial_ratio(_join(sorted(split_a)), _join(sorted(split_b)), score_cutoff)
    if len(split_a) == len(diff_ab) and len(split_b) == len(diff_ba):
        return result
    score_cutoff = max(score_cutoff, result)
    return max(result, py_partial_ratio(_join(sorted(diff_ab)), _join(sorted(diff_ba)), score_cutoff))


def py_wratio(s1: str, s2: str, score_cutoff: float | None = None) -> float:
    """fuzz.WRatio."""
    if not s1 or not s2:
        return 0
    score_cutoff = score_cutoff or 0
    if score_cutoff > 100:
        return 0
    unbase = 0.95
    len1, len2 = len(s1), len(s2)
    len_ratio = len1 / len2 if len1 > len2 else len2 / len1
    end_ratio = py_ratio(s1, s2, score_cutoff)
    if len_ratio < 1.5:
        score_cutoff = max(score_cutoff, end_ratio) / unbase
        token = max(_token_set_ratio(s1, s2, score_cutoff), _token_sort_ratio(s1, s2, score_cutoff))
        return max(end_ratio, token * unbase)
    partial_scale = 0.9 if len_ratio <= 8.0 else 0.6
    score_cutoff = max(score_cutoff, end_ratio) / partial_scale
    end_ratio = max(end_ratio, py_partial_ratio(s1, s2, score_cutoff) * partial_scale)
    score_cutoff = max(score_cutoff, end_ratio) / unbase
    return max(end_ratio, _partial_token_ratio(s1, s2, score_cutoff) * unbase * partial_scale)


def py_extract(query: str, choices: Sequence[str], scorer: Scorer, score_cutoff: float | None = None,
               limit: int | None = 5) -> list[tuple[str, float, int]]:
    """process.extract over a list: (choice, score, index), best first, ties in the choices' order."""
    found = []
    for i, choice in enumerate(choices):
        if choice is None:
            continue
        score = scorer(query, choice, score_cutoff)
        if score_cutoff is None or score >= score_cutoff:
            found.append((choice, score, i))
    found.sort(key=lambda t: (-t[1], t[2]))
    return found if limit is None else found[:limit]


# ---------------------------------------------------------------- the API

def ratio(s1: str, s2: str) -> float:
    """Similarity of two strings, 0–100 (fuzz.ratio)."""
    if _rf_fuzz is not None:
        return _rf_fuzz.ratio(s1, s2)
    return py_ratio(s1, s2)


def wratio(s1: str, s2: str) -> float:
    """Weighted similarity, 0–100 (fuzz.WRatio): also finds a short name inside a long one."""
    if _rf_fuzz is not None:
        return _rf_fuzz.WRatio(s1, s2)
    return py_wratio(s1, s2)


_SCORERS = {"ratio": (py_ratio, "ratio"), "wratio": (py_wratio, "WRatio")}


def extract(query: str, choices: Sequence[str], scorer: str = "ratio", score_cutoff: float | None = None,
            limit: int | None = 5) -> list[tuple[str, float, int]]:
    """The choices scoring at least ``score_cutoff`` against ``query``: (choice, score, index), best first.

    ``scorer`` is ``"ratio"`` or ``"wratio"``; ``limit=None`` keeps every match.
    """
    pure, name = _SCORERS[scorer]
    if _rf_process is not None:
        return _rf_process.extract(query, choices, scorer=getattr(_rf_fuzz, name), score_cutoff=score_cutoff,
                                   limit=limit)
    return py_extract(query, choices, pure, score_cutoff=score_cutoff, limit=limit)
