"""Text conventions shared by every output: file names, Chinese dates, points as text, month lists.

The one owner of each convention: a file name is made safe only by
:func:`safe_filename`, a date or month is written in Chinese only here (:func:`date_cn`,
:func:`month_day_cn`, :func:`year_month_cn`, :func:`months_text` …), a
points value is rounded for display only by :func:`round_half_up` (exact, half
up, once) and written as text only by :func:`points_text` (as a workbook number
by :func:`points_number`). Nothing here reads
the rules or a ``Result``; the modules that do import this one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from decimal import Decimal
from fractions import Fraction

__all__ = ["NAME_MAX_BYTES", "WEEKDAYS", "WINDOWS_RESERVED", "date_cn", "date_span_cn", "month_cn", "month_day_cn",
           "month_day_weekday_cn", "months_text", "points_number", "points_text", "round_half_up", "safe_filename",
           "year_month_cn", "year_months_grouped", "year_months_text"]

# What no file system of the three (Windows, macOS, Linux) accepts in a name,
# plus every control character (C0, DEL and C1).
_UNSAFE_FILENAME = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f-\x9f]+')
_SPACES = re.compile(r"\s+")
WINDOWS_RESERVED = frozenset({"CON", "PRN", "AUX", "NUL"} | {f"COM{i}" for i in range(1, 10)}
                             | {f"LPT{i}" for i in range(1, 10)})


NAME_MAX_BYTES = 150  # of a name made by safe_filename: ext4 and others allow 255 bytes (a CJK character is 3),
# leaving room for what is put around it (``2026年组工信息报送登记表-``, ``.xlsx``, a temporary name's parts)
_HASH_MARK = "~"


def safe_filename(name: str, fallback: str = "未命名", limit: int = 80, max_bytes: int = NAME_MAX_BYTES) -> str:
    """``name`` made safe as a file name (or stem) on Windows, macOS and Linux.

    Each run of characters a file system refuses (``\\ / : * ? " < > |`` and
    control characters, DEL included) becomes one ``_``; runs of white space
    become one space; leading and trailing dots and spaces go (Windows drops
    them silently). At most ``limit`` characters and ``max_bytes`` bytes of
    UTF-8 are kept; a name cut short ends in ``~`` and six hex digits of a hash
    of the whole name, so two long names that begin alike stay two files. A
    Windows device name (``CON``, ``com1.txt``) gets a trailing ``_``. Empty →
    ``fallback``.
    """
    text = _UNSAFE_FILENAME.sub("_", str(name))
    text = _SPACES.sub(" ", text).strip(" .")
    if len(text) > limit or len(text.encode("utf-8")) > max_bytes:
        mark = _HASH_MARK + hashlib.sha1(str(name).encode("utf-8", "surrogatepass")).hexdigest()[:6]
        room_chars, room_bytes = limit - len(mark), max_bytes - len(mark)
        if room_chars < 4 or room_bytes < 12:  # too small for a mark: a plain cut
            mark, room_chars, room_bytes = "", limit, max_bytes
        text = _cut_bytes(text[:room_chars], room_bytes).rstrip(" .")
        text = text + mark if text else ""
    if not text:
        return fallback
    if text.split(".")[0].upper() in WINDOWS_RESERVED:
        text = text[: max(limit - 1, 1)] + "_"
    return text


def _cut_bytes(text: str, max_bytes: int) -> str:
    """The longest start of ``text`` whose UTF-8 takes at most ``max_bytes`` (never half a character)."""
    data = text.encode("utf-8", "surrogatepass")
    if len(data) <= max_bytes:
        return text
    return data[:max_bytes].decode("utf-8", "ignore")


def date_cn(d: dt.date) -> str:
    """``2026年9月30日``."""
    return f"{d.year}年{month_day_cn(d)}"


def month_day_cn(d: dt.date) -> str:
    """``9月30日`` (the year said elsewhere)."""
    return f"{d.month}月{d.day}日"


def date_span_cn(start: dt.date, end: dt.date) -> str:
    """``7月1日至9月30日`` (both in one year, said elsewhere)."""
    return f"{month_day_cn(start)}至{month_day_cn(end)}"


WEEKDAYS = "一二三四五六日"


def month_day_weekday_cn(d: dt.date) -> str:
    """``9月30日（星期三）``: a deadline."""
    return f"{month_day_cn(d)}（星期{WEEKDAYS[d.weekday()]}）"


def month_cn(month: int) -> str:
    """``9月``."""
    return f"{month}月"


def year_month_cn(year: int, month: int) -> str:
    """``2026年9月``."""
    return f"{year}年{month_cn(month)}"


def year_months_text(months, empty: str = "") -> str:
    """``{(2026, 3), (2026, 4)}`` → ``2026年3月、2026年4月`` (sorted); ``empty`` when there is none."""
    if not months:
        return empty
    return "、".join(year_month_cn(y, m) for y, m in sorted(months))


def year_months_grouped(months) -> str:
    """``[(2026, 3), (2026, 4), (2027, 1)]`` → ``2026年3月、4月；2027年1月`` (in the order given)."""
    by_year: dict[int, list[int]] = {}
    for y, m in months or ():
        by_year.setdefault(y, []).append(m)
    return "；".join(f"{y}年" + "、".join(month_cn(m) for m in ms) for y, ms in by_year.items())


def round_half_up(x: Fraction | int, places: int = 2) -> Decimal:
    """``x`` rounded half up (away from zero at .5) to ``places`` decimals, exactly.

    The one rounding of a points value, done once for display: ``str()`` of the
    result is the fixed-point text (``12.50``, ``-0.01``, ``3``).
    """
    x = Fraction(x)
    n = abs(x) * 10**places
    q, r = divmod(n.numerator, n.denominator)
    if 2 * r >= n.denominator:
        q += 1
    if x < 0 and q:
        q = -q
    return Decimal(q).scaleb(-places) if places else Decimal(q)


def points_text(x: Fraction | int, places: int = 2) -> str:
    """A points value for text: exact when it has a short decimal form, else rounded half up.

    ``50``, ``37.5``, ``0.25``; ``1/3`` → ``0.33``; ``-1/2`` → ``-0.5``. ``places`` is the display
    precision (``rules.places``; every points display passes it): ``places=0`` gives ``38`` for 37.5.
    """
    x = Fraction(x)
    den = x.denominator
    if den == 1:
        return str(x.numerator)  # most points are whole numbers
    if den == 2 and places >= 1:
        return f"{'-' if x < 0 else ''}{abs(x.numerator) // 2}.5"
    for p in range(places + 1):
        if (x * 10**p).denominator == 1:
            return str(round_half_up(x, p))
    return str(round_half_up(x, places))


def points_number(x: Fraction | int, places: int = 2) -> float:
    """A points value as the number a workbook cell holds: ``round_half_up`` once, as a float."""
    x = Fraction(x)
    if x.denominator == 1 or (x.denominator == 2 and places >= 1):  # exact in binary
        return x.numerator / x.denominator
    return float(round_half_up(x, places))


def months_text(months) -> str:
    """``[1, 2, 3, 5]`` → ``1—3月、5月`` (runs of three or more months as a range)."""
    ms = sorted(set(months))
    parts: list[str] = []
    i = 0
    while i < len(ms):
        j = i
        while j + 1 < len(ms) and ms[j + 1] == ms[j] + 1:
            j += 1
        if j - i >= 2:
            parts.append(f"{ms[i]}—{month_cn(ms[j])}")
        else:
            parts.extend(month_cn(m) for m in ms[i:j + 1])
        i = j + 1
    return "、".join(parts)


def display_width(text: str) -> int:
    """Width of ``text`` on one line in Excel column-width units: two for a CJK character (and for the
    dashes, quotes and signs a CJK font draws full width), one for anything else. That is exactly the
    length of its GBK encoding, which is computed in C: rows of 100,000-line sheets are sized with it."""
    return len(text.encode("gbk", "replace"))


def wrapped_lines(text: str, width: float) -> int:
    """Lines a wrapped cell ``width`` units wide needs for ``text`` (each line break starts a line).

    Neither Excel nor LibreOffice grows a row written by a program to fit wrapped text, so the
    writers size rows with this."""
    usable = max(width - 1.0, 1.0)
    return sum(max(1, math.ceil(display_width(part) / usable)) for part in str(text).split("\n"))
