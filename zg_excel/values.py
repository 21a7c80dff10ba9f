"""Cell values as people actually type them.

Units fill the returns in by hand in Excel or WPS, so one column holds
``2026-3-5``, ``2026年3月5号``, a real date cell and an Excel serial number
side by side; 字数 arrives as ``约1.2万字``; 视频时长 as ``1分30秒`` or a
duration cell. This module turns such cells (already read by calamine or
openpyxl) into plain Python values, or into ``Bad`` with a Chinese reason that
names the value, so the caller can report it and carry on.

Every parser returns ``None`` for a blank cell. Nothing here evaluates a
cell: text that looks like a formula stays text. A value read with an
assumption (``3月7日`` in the year given, ``约1000字`` as 1000) is returned as
read, and the assumption, in Chinese, is appended to ``notes`` when the caller
passes a list: it reports it on the cell.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache

__all__ = [
    "Bad",
    "parse_date",
    "parse_count",
    "parse_minutes",
    "parse_yes_no",
    "clean_text",
    "normalize_key",
    "normalize_header",
]


@dataclass(frozen=True)
class Bad:
    """A value that cannot be read; reason is a Chinese message naming the value, e.g. '日期无法识别：2026.13.5'."""

    reason: str


# ---------------------------------------------------------------- helpers

# Characters that render as nothing but survive str.strip()/\s.
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
_INVISIBLE_RE = re.compile(f"[{_INVISIBLE}]")
_SPACE_RE = re.compile(rf"[\s{_INVISIBLE}]+")


def _text(value: str) -> str:
    """Strip, drop invisible characters and fold full-width forms (NFKC)."""
    return unicodedata.normalize("NFKC", _INVISIBLE_RE.sub("", value)).strip()


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not _SPACE_RE.sub("", value))


def _show(value: object) -> str:
    """The value as it should appear inside a message."""
    shown = clean_text(value)
    return shown if shown is not None else ""


def _float_ok(x: float) -> bool:
    return not (math.isnan(x) or math.isinf(x))


# ------------------------------------------------------------------ dates

_EXCEL_EPOCH = dt.date(1899, 12, 30)
_MIN_YEAR, _MAX_YEAR = 1990, 2100

_TIME = r"(?P<hh>\d{1,2}):(?P<mi>\d{2})(?::(?P<ss>\d{2})(?:\.\d{1,6})?)?"
_DATE_FORMS = [
    # 2026-3-5, 2026/03/05, 2026.3.5, optionally followed by a time.
    re.compile(
        rf"(?P<y>\d{{4}})\s*(?P<sep>[-/.])\s*(?P<m>\d{{1,2}})\s*(?P=sep)\s*(?P<d>\d{{1,2}})"
        rf"(?:(?:\s+|T){_TIME})?"
    ),
    # 2026年3月5日 / 2026年3月5号
    re.compile(
        rf"(?P<y>\d{{4}})\s*年\s*(?P<m>\d{{1,2}})\s*月\s*(?P<d>\d{{1,2}})\s*[日号]?"
        rf"(?:\s*{_TIME})?"
    ),
    # 20260305
    re.compile(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})"),
]
# Month and day only; needs year_hint.
_MONTH_DAY_FORMS = [
    re.compile(r"(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号]?"),
    re.compile(r"(?P<m>\d{1,2})\s*(?P<sep>[-/.])\s*(?P<d>\d{1,2})"),
]


def _date_from_match(match: re.Match, year: int) -> dt.date | None:
    groups = match.groupdict()
    if groups.get("hh") is not None:
        if int(groups["hh"]) > 23 or int(groups["mi"]) > 59 or int(groups["ss"] or 0) > 59:
            return None
    try:
        return dt.date(year, int(groups["m"]), int(groups["d"]))
    except ValueError:
        return None


def _bad_date(value: object) -> Bad:
    return Bad(f"日期无法识别：{_show(value)}")


def _bad_year(value: object) -> Bad:
    return Bad(f"日期年份应在{_MIN_YEAR}—{_MAX_YEAR}年之间：{_show(value)}")


def parse_date(value, *, year_hint: int | None = None, notes: list[str] | None = None) -> dt.date | None | Bad:
    """Read a date cell or typed date.

    Accepts date/datetime cells, Excel serial numbers (1900 system) and
    ``20260305`` as numbers, and the usual typed forms (``2026-3-5``,
    ``2026/03/05``, ``2026.3.5``, ``2026年3月5日``/``号``, ``20260305``), in
    full-width too and with an optional time part. ``3月5日``, ``3-5``,
    ``3/5`` and ``3.5`` need ``year_hint`` (and are read in that year, the
    assumption appended to ``notes``). Only years 1990..2100 are plausible;
    anything else is ``Bad``.
    """
    if _is_blank(value):
        return None
    original = value

    if isinstance(value, bool) or isinstance(value, dt.time):
        return _bad_date(original)
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value if _MIN_YEAR <= value.year <= _MAX_YEAR else _bad_year(original)

    if isinstance(value, (int, float)):
        if isinstance(value, float) and not _float_ok(value):
            return _bad_date(original)
        if value == int(value) and 10_000_000 <= value <= 99_999_999:
            value = str(int(value))  # 20260305 typed into a number cell
        else:
            try:
                day = _EXCEL_EPOCH + dt.timedelta(days=math.floor(value))
            except OverflowError:
                return _bad_date(original)
            return day if _MIN_YEAR <= day.year <= _MAX_YEAR else _bad_date(original)

    if not isinstance(value, str):
        return _bad_date(original)

    text = _text(value)
    for form in _DATE_FORMS:
        match = form.fullmatch(text)
        if match:
            day = _date_from_match(match, int(match["y"]))
            if day is None:
                return _bad_date(original)
            return day if _MIN_YEAR <= day.year <= _MAX_YEAR else _bad_year(original)
    if year_hint is not None:
        for form in _MONTH_DAY_FORMS:
            match = form.fullmatch(text)
            if match:
                day = _date_from_match(match, year_hint)
                if day is None:
                    return _bad_date(original)
                if notes is not None:
                    notes.append(f"日期未写年份，按{year_hint}年计")
                return day
    return _bad_date(original)


# ------------------------------------------------------------------ count

_NUMBER = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+"
_COUNT_RE = re.compile(
    rf"(?P<about>大约|约)?(?P<sign>-)?(?P<n>{_NUMBER})(?P<unit>[千万])?字?(?P<around>左右)?"
)
_COUNT_UNITS = {None: 1, "千": 1000, "万": 10000}

# Written in a numeric column to mean "nothing to report"; read as blank.
_NOTHING = {"无"}


def parse_count(value, *, notes: list[str] | None = None) -> int | None | Bad:
    """Read a 字数: a whole, non-negative number.

    Accepts ``1200``, ``1200.0``, ``1,200``, ``１２００``, ``1200字``,
    ``约1200字``, ``1.2千字`` (1200) and ``1.2万字`` (12000). ``无`` counts as
    blank. An approximate count (``约``, ``大约``, ``左右``) is read as its number,
    the assumption appended to ``notes``.
    """
    if _is_blank(value):
        return None
    if type(value) is int and value >= 0:
        return value  # the common case, a number cell
    if type(value) is float and value.is_integer() and 0 <= value < 1e15:
        return int(value)  # the same, as calamine reads numbers (1200.0)
    shown = _show(value)
    if isinstance(value, bool):
        return Bad(f"字数无法识别：{shown}")
    if isinstance(value, float):
        if not _float_ok(value):
            return Bad(f"字数无法识别：{shown}")
        number = Decimal(repr(value))
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, str):
        text = _SPACE_RE.sub("", _text(value))
        if text in _NOTHING:
            return None
        match = _COUNT_RE.fullmatch(text)
        if not match:
            return Bad(f"字数无法识别：{shown}")
        number = Decimal(match["n"].replace(",", "")) * _COUNT_UNITS[match["unit"]]
        if match["sign"]:
            number = -number
    else:
        return Bad(f"字数无法识别：{shown}")

    if number < 0:
        return Bad(f"字数不能为负数：{shown}")
    if number != number.to_integral_value():
        return Bad(f"字数应为整数：{shown}")
    if notes is not None and isinstance(value, str) and (match["about"] or match["around"]):
        notes.append(f"字数“{shown}”是约数，按{int(number)}字计")
    return int(number)


# ---------------------------------------------------------------- minutes

_DEC = r"\d+(?:\.\d*)?|\.\d+"
_PLAIN_MINUTES_RE = re.compile(rf"(?P<sign>-)?(?P<n>{_DEC})(?:分钟|分|min)?")
_UNITS_RE = re.compile(
    rf"(?:(?P<h>{_DEC})(?:小时|时|h))?"
    rf"(?:(?P<m>{_DEC})(?:分钟|分|min|'))?"
    rf"(?:(?P<s>{_DEC})(?P<s_unit>秒钟|秒|s|\")?)?"
)
_CLOCK_RE = re.compile(r"(?:(?P<h>\d+):)??(?P<m>\d+):(?P<s>\d{1,2})")
# Prime marks as typed with a Chinese IME or copied from elsewhere.
_PRIMES = str.maketrans({"′": "'", "’": "'", "‘": "'", "″": '"', "”": '"', "“": '"'})


def _minutes_from_units(text: str) -> Fraction | None:
    text = text.translate(_PRIMES).replace("''", '"')
    match = _CLOCK_RE.fullmatch(text)
    if match:
        if int(match["s"]) > 59 or (match["h"] is not None and int(match["m"]) > 59):
            return None
        hours = int(match["h"] or 0)
        return hours * 60 + int(match["m"]) + Fraction(int(match["s"]), 60)
    match = _UNITS_RE.fullmatch(text)
    if not match or not any(match[g] for g in ("h", "m", "s")):
        return None
    if match["s"] and not match["s_unit"] and not match["m"]:
        return None  # a bare trailing number means seconds only after 分
    h, m, s = (Fraction(match[g] or 0) for g in ("h", "m", "s"))
    return h * 60 + m + s / 60


def parse_minutes(value) -> Fraction | None | Bad:
    """Read a 视频时长 in minutes, exactly.

    Accepts numbers (``1.5``; floats go through their shortest repr, so no
    binary noise), ``2分钟``, ``90秒``, ``1分30秒``, ``1'30"``, ``1小时2分``,
    ``mm:ss`` text (``1:30``) and ``h:mm:ss`` text, and duration cells
    (``datetime.time``/``timedelta``: hours*60 + minutes + seconds/60).
    ``无`` counts as blank.
    """
    if _is_blank(value):
        return None
    shown = _show(value)
    unreadable = Bad(f"视频时长无法识别：{shown}")
    if isinstance(value, bool):
        return unreadable
    if isinstance(value, dt.time):
        minutes = (
            value.hour * 60 + value.minute + Fraction(value.second, 60)
            + Fraction(value.microsecond, 60_000_000)
        )
    elif isinstance(value, dt.timedelta):
        minutes = Fraction(value // dt.timedelta(microseconds=1), 60_000_000)
    elif isinstance(value, float):
        if not _float_ok(value):
            return unreadable
        minutes = Fraction(repr(value))
    elif isinstance(value, int):
        minutes = Fraction(value)
    elif isinstance(value, str):
        text = _SPACE_RE.sub("", _text(value))
        if text in _NOTHING:
            return None
        match = _PLAIN_MINUTES_RE.fullmatch(text)
        if match:
            minutes = Fraction(match["n"]) * (-1 if match["sign"] else 1)
        else:
            found = _minutes_from_units(text)
            if found is None:
                return unreadable
            minutes = found
    else:
        return unreadable
    if minutes < 0:
        return Bad(f"视频时长不能为负数：{shown}")
    return minutes


# ----------------------------------------------------------------- yes/no

_YES = {"是", "√", "✓", "✔", "☑", "y", "yes", "1", "1.0", "true", "对"}
_NO = {"否", "×", "✗", "✘", "✕", "n", "no", "0", "0.0", "false", "不是"}


def parse_yes_no(value) -> bool | None | Bad:
    """Read a 是/否 cell: 是 √ ✓ Y yes 1 TRUE 对, or 否 × ✗ N no 0 FALSE 不是."""
    if _is_blank(value):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return value == 1
    if isinstance(value, str):
        text = _SPACE_RE.sub("", _text(value)).casefold()
        if text in _YES:
            return True
        if text in _NO:
            return False
    return Bad(f"无法识别为“是/否”：{_show(value)}")


# ------------------------------------------------------------------- text


def clean_text(value) -> str | None:
    """The display text of a cell, one line, or None when blank.

    Whitespace runs (newlines included) become one space; ``1200.0`` shows as
    ``1200``; dates as ``YYYY-MM-DD``. Text starting with ``=`` is just text.
    """
    if value is None:
        return None
    if type(value) is str and value.isprintable() and "  " not in value and value == value.strip():
        return value or None  # the common case: already one clean line
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if _float_ok(value) and value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return format(value, ".15g")  # what Excel's General format shows
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds" if value.second else "minutes")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat(timespec="seconds")
    if isinstance(value, dt.timedelta):
        seconds = int(value.total_seconds())
        sign, seconds = ("-" if seconds < 0 else ""), abs(seconds)
        return f"{sign}{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
    text = _SPACE_RE.sub(" ", str(value)).strip()
    return text or None


# ------------------------------------------------------------------- keys

_KEY_DROP_RE = re.compile(rf"[\s{_INVISIBLE}《》〈〉“”‘’「」『』\"']+")


def title_digest(title: str | None) -> int:
    """A 64-bit digest of ``normalize_key(title)``: what rows keep to find duplicates.

    Half a million rows each keeping their normalized title (~190 bytes when it differs
    from the title, as with most full-width punctuation) cost ~95 MB; the digest is an
    int of 32 bytes. Two different keys share a digest with probability 2**-64.
    Computed where the row is read (in the intake workers), never 0.
    """
    key = _normalize_uncached(title) if title else ""
    digest = int.from_bytes(hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")
    return digest or 1


def row_key(row) -> int:
    """The duplicate-detection key of an event or submission row (its ``title_digest``)."""
    return row.title_key or title_digest(row.title)


@lru_cache(maxsize=262144)
def normalize_key(text: str) -> str:
    """Key under which two names or titles count as the same (duplicate events, aliases, catalog look-ups).

    NFKC (full-width to half-width), no whitespace at all (zero-width spaces
    included), no book-title brackets or quotes, casefolded:
    ``normalize_key(' 《人民日报》 ') == '人民日报'``.
    """
    key = str(text)
    # A text that is NFKC-normal, casefolded and has nothing to drop is its own key (a
    # round would give it back): checked first, and after each round instead of a round.
    if _KEY_DROP_RE.search(key) is None and key == key.casefold() and unicodedata.is_normalized("NFKC", key):
        return key
    # Dropping a character can let NFKC compose its neighbours and NFKC can
    # produce new spaces, so repeat until nothing changes (2 rounds at most
    # in practice); that makes the function idempotent.
    for _ in range(8):
        nfkc = unicodedata.normalize("NFKC", key)
        folded = nfkc.casefold()
        if folded != nfkc:  # NFKC of an NFKC result is itself: only casefolding can need another
            folded = unicodedata.normalize("NFKC", folded)
        new = _KEY_DROP_RE.sub("", folded)
        if new == key:
            break
        key = new
        if key == key.casefold() and unicodedata.is_normalized("NFKC", key):
            break
    return key


normalize_key_uncached = _normalize_uncached = normalize_key.__wrapped__  # for values seen once (titles): no cache churn


@lru_cache(maxsize=65536)
def _normalize_header_text(shown: str) -> str:
    return normalize_key(shown).replace("*", "").rstrip(":")


def normalize_header(text) -> str:
    """Header-cell text for column matching.

    As ``normalize_key``, and also: one form of parentheses, no ``*``/``＊``
    required-field markers, no trailing colons, so ``视频时长（分钟）``,
    ``视频时长(分钟)`` and ``视频时长\\n（分钟）*`` are equal.
    """
    if text is None:
        return ""
    shown = clean_text(text)
    if shown is None:
        return ""
    # NFKC inside normalize_key already turns （）＊： into ()*:.
    return _normalize_header_text(shown)
