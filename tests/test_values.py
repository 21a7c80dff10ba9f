import datetime as dt
from fractions import Fraction

import pytest
from hypothesis import given, strategies as st

from zg_excel.values import (
    Bad,
    clean_text,
    normalize_header,
    normalize_key,
    parse_count,
    parse_date,
    parse_minutes,
    parse_yes_no,
)

D = dt.date(2026, 3, 5)


def assert_bad(result, *fragments):
    assert isinstance(result, Bad), result
    for fragment in fragments:
        assert fragment in result.reason, (fragment, result.reason)


# ------------------------------------------------------------------ dates


@pytest.mark.parametrize(
    "value, expected",
    [
        (None, None),
        ("", None),
        ("   ", None),
        ("\u3000\n", None),
        (D, D),
        (dt.datetime(2026, 3, 5, 14, 30), D),
        (45000, dt.date(2023, 3, 15)),
        (45000.0, dt.date(2023, 3, 15)),
        (45000.75, dt.date(2023, 3, 15)),
        (20260305, D),
        (20260305.0, D),
        ("2026-3-5", D),
        ("2026-03-05", D),
        ("2026/03/05", D),
        ("2026/3/5", D),
        ("2026.3.5", D),
        ("2026年3月5日", D),
        ("2026年3月5号", D),
        ("2026年03月05日", D),
        ("20260305", D),
        ("  2026-3-5 ", D),
        ("２０２６－３－５", D),
        ("２０２６／０３／０５", D),
        ("２０２６年３月５日", D),
        ("2026-03-05 14:30", D),
        ("2026/3/5 9:00:00", D),
        ("2026-03-05T14:30:00", D),
        ("2026年3月5日 14:30", D),
    ],
)
def test_parse_date(value, expected):
    assert parse_date(value) == expected


@pytest.mark.parametrize("value", ["3月5日", "3月5号", "3-5", "3/5", "3.5", "３月５日"])
def test_parse_date_month_day_needs_year_hint(value):
    assert parse_date(value, year_hint=2026) == D
    assert_bad(parse_date(value), "日期无法识别", value.strip())


@pytest.mark.parametrize(
    "value, shown",
    [
        ("2026.13.5", "2026.13.5"),
        ("2026-2-30", "2026-2-30"),
        ("2026-02-30", "2026-02-30"),
        ("20261305", "20261305"),
        (20261305, "20261305"),
        ("约2026年3月", "约2026年3月"),
        ("2026年3月", "2026年3月"),
        ("2026年3月5日前", "2026年3月5日前"),
        ("2026-3/5", "2026-3/5"),
        ("2026-03-05 25:00", "2026-03-05 25:00"),
        ("abc", "abc"),
        (" 下周一 ", "下周一"),
        (dt.time(14, 30), "14:30:00"),
        (True, "TRUE"),
        (False, "FALSE"),
        (12, "12"),  # serial in 1900: not a plausible date
        (100000, "100000"),  # serial in 2173
        (-1, "-1"),
        (1e300, "1e+300"),
        (float("nan"), "nan"),
    ],
)
def test_parse_date_bad(value, shown):
    assert_bad(parse_date(value), "日期无法识别：", shown)


@pytest.mark.parametrize(
    "value", ["1026-3-5", "3026-03-05", dt.date(1900, 1, 5), dt.datetime(1899, 12, 31)]
)
def test_parse_date_implausible_year(value):
    result = parse_date(value)
    assert_bad(result, "1990", "2100")


def test_parse_date_serial_range():
    assert parse_date(32874) == dt.date(1990, 1, 1)
    assert parse_date(73415) == dt.date(2100, 12, 31)
    assert isinstance(parse_date(32873), Bad)
    assert isinstance(parse_date(73416), Bad)


def test_parse_date_invalid_month_day_with_hint():
    assert_bad(parse_date("2月30日", year_hint=2026), "2月30日")
    assert parse_date("2月29日", year_hint=2028) == dt.date(2028, 2, 29)


@pytest.mark.parametrize("value", ["3月7日", "3月7号", "3-7", "3/7", "3.7", "３月７日"])
def test_parse_date_without_year_is_read_in_the_hint_year_with_a_note(value):
    notes: list[str] = []
    assert parse_date(value, year_hint=2026, notes=notes) == dt.date(2026, 3, 7)
    assert notes == ["日期未写年份，按2026年计"]


@pytest.mark.parametrize("value", ["2026-3-7", dt.date(2026, 3, 7), 46088, "20260307", "2026年3月7日", None])
def test_parse_date_with_year_adds_no_note(value):
    notes: list[str] = []
    parse_date(value, year_hint=2026, notes=notes)
    assert notes == []


def test_parse_date_without_year_that_does_not_exist_is_bad_without_a_note():
    notes: list[str] = []
    assert_bad(parse_date("2月30日", year_hint=2026, notes=notes), "2月30日")
    assert notes == []


_DATE_FORMATS = [
    lambda d: f"{d.year}-{d.month}-{d.day}",
    lambda d: d.isoformat(),
    lambda d: f"{d.year}/{d.month:02d}/{d.day:02d}",
    lambda d: f"{d.year}/{d.month}/{d.day}",
    lambda d: f"{d.year}.{d.month}.{d.day}",
    lambda d: f"{d.year}年{d.month}月{d.day}日",
    lambda d: f"{d.year}年{d.month}月{d.day}号",
    lambda d: f"{d.year}{d.month:02d}{d.day:02d}",
    lambda d: f" {d.isoformat()} 14:30",
    lambda d: f"{d.year}/{d.month}/{d.day} 9:00:00",
    lambda d: f"{d.year}-{d.month}-{d.day}".translate(
        str.maketrans("0123456789-", "０１２３４５６７８９－")
    ),
]


@given(
    d=st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2100, 12, 31)),
    fmt=st.sampled_from(_DATE_FORMATS),
)
def test_parse_date_roundtrip(d, fmt):
    assert parse_date(fmt(d)) == d


@given(st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2100, 12, 31)))
def test_parse_date_serial_roundtrip(d):
    serial = (d - dt.date(1899, 12, 30)).days
    assert parse_date(serial) == d
    assert parse_date(float(serial)) == d
    assert parse_date(int(d.strftime("%Y%m%d"))) == d


# ------------------------------------------------------------------ count


@pytest.mark.parametrize(
    "value, expected",
    [
        (None, None),
        ("", None),
        (" ", None),
        ("无", None),
        (1200, 1200),
        (0, 0),
        (1200.0, 1200),
        ("1200", 1200),
        ("1200.0", 1200),
        ("1,200", 1200),
        ("1，200", 1200),
        ("12,345,678", 12345678),
        ("１２００", 1200),
        ("1200字", 1200),
        ("约1200字", 1200),
        ("大约1200字", 1200),
        ("1200 字", 1200),
        (" 约 1200 字 ", 1200),
        ("1200字左右", 1200),
        ("1.2千字", 1200),
        ("1.2千", 1200),
        ("1.2万字", 12000),
        ("3万字", 30000),
        ("１．２万字", 12000),
    ],
)
def test_parse_count(value, expected):
    result = parse_count(value)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize("value, expected", [("约1000字", 1000), ("大约1200", 1200), ("1000字左右", 1000),
                                             ("约1.2千字", 1200), (" 约 800 字 ", 800)])
def test_parse_count_approximate_is_read_with_a_note(value, expected):
    notes: list[str] = []
    assert parse_count(value, notes=notes) == expected
    assert notes == [f"字数“{value.strip()}”是约数，按{expected}字计"]


@pytest.mark.parametrize("value", [1000, 1000.0, "1000", "1,000字", "1.2万字", "无", None])
def test_parse_count_exact_adds_no_note(value):
    notes: list[str] = []
    parse_count(value, notes=notes)
    assert notes == []


@pytest.mark.parametrize(
    "value, message",
    [
        ("abc", "字数无法识别：abc"),
        ("一千二百字", "字数无法识别：一千二百字"),
        ("12,00", "字数无法识别：12,00"),
        ("1200字以上", "字数无法识别：1200字以上"),
        (True, "字数无法识别：TRUE"),
        (D, "字数无法识别：2026-03-05"),
        (float("inf"), "字数无法识别：inf"),
        (1200.5, "字数应为整数：1200.5"),
        ("1200.5", "字数应为整数：1200.5"),
        ("1.23456千字", "字数应为整数：1.23456千字"),
        (-5, "字数不能为负数：-5"),
        (-5.0, "字数不能为负数：-5"),
        ("-1200", "字数不能为负数：-1200"),
    ],
)
def test_parse_count_bad(value, message):
    assert_bad(parse_count(value), message)


# ---------------------------------------------------------------- minutes


@pytest.mark.parametrize(
    "value, expected",
    [
        (None, None),
        ("", None),
        ("无", None),
        (2, Fraction(2)),
        (0, Fraction(0)),
        (1.5, Fraction(3, 2)),
        (0.1, Fraction(1, 10)),
        (2.3, Fraction(23, 10)),
        ("1.5", Fraction(3, 2)),
        ("１.５", Fraction(3, 2)),
        ("2", Fraction(2)),
        ("2分钟", Fraction(2)),
        ("2分", Fraction(2)),
        ("2.5分钟", Fraction(5, 2)),
        ("1分30秒", Fraction(3, 2)),
        ("1 分 30 秒", Fraction(3, 2)),
        ("1分钟30秒", Fraction(3, 2)),
        ("1分30", Fraction(3, 2)),
        ("90秒", Fraction(3, 2)),
        ("45秒", Fraction(3, 4)),
        ("1:30", Fraction(3, 2)),
        ("01:30", Fraction(3, 2)),
        ("1：30", Fraction(3, 2)),
        ("0:01:30", Fraction(3, 2)),
        ("1:02:03", Fraction(62 * 60 + 3, 60)),
        ("1'30\"", Fraction(3, 2)),
        ("1′30″", Fraction(3, 2)),
        ("1’30”", Fraction(3, 2)),
        ("1'30''", Fraction(3, 2)),
        ("1小时2分", Fraction(62)),
        ("1小时", Fraction(60)),
        ("1小时2分30秒", Fraction(125, 2)),
        (dt.time(0, 1, 30), Fraction(3, 2)),
        (dt.time(1, 2, 0), Fraction(62)),
        (dt.timedelta(minutes=1, seconds=30), Fraction(3, 2)),
        (dt.timedelta(hours=25), Fraction(1500)),
    ],
)
def test_parse_minutes(value, expected):
    result = parse_minutes(value)
    assert result == expected
    assert result is None or isinstance(result, Fraction)


@pytest.mark.parametrize(
    "value, message",
    [
        ("abc", "视频时长无法识别：abc"),
        ("1:75", "视频时长无法识别：1:75"),
        ("1:60:00", "视频时长无法识别：1:60:00"),
        ("1小时30", "视频时长无法识别：1小时30"),
        ("约2分钟", "视频时长无法识别：约2分钟"),
        ("两分钟", "视频时长无法识别：两分钟"),
        (True, "视频时长无法识别：TRUE"),
        (D, "视频时长无法识别：2026-03-05"),
        (float("nan"), "视频时长无法识别：nan"),
        (-1, "视频时长不能为负数：-1"),
        (-1.5, "视频时长不能为负数：-1.5"),
        ("-1.5", "视频时长不能为负数：-1.5"),
        (dt.timedelta(seconds=-30), "视频时长不能为负数："),
    ],
)
def test_parse_minutes_bad(value, message):
    assert_bad(parse_minutes(value), message)


@given(st.fractions(min_value=0, max_value=600).map(lambda f: Fraction(round(f * 60), 60)))
def test_parse_minutes_min_sec_roundtrip(minutes):
    whole = int(minutes)
    seconds = (minutes - whole) * 60
    assert seconds.denominator == 1
    assert parse_minutes(f"{whole}分{seconds}秒") == minutes
    assert parse_minutes(f"{whole}:{int(seconds):02d}") == minutes


@given(st.decimals(min_value=0, max_value=10_000, places=3))
def test_parse_minutes_float_has_no_binary_noise(d):
    assert parse_minutes(float(d)) == Fraction(str(float(d)))
    assert parse_minutes(str(d)) == Fraction(d)


# ----------------------------------------------------------------- yes/no


@pytest.mark.parametrize(
    "value", ["是", "√", "✓", "✔", "Y", "y", "yes", "YES", "1", "1.0", 1, 1.0, True, "对", " 是 ", "TRUE"]
)
def test_yes(value):
    assert parse_yes_no(value) is True


@pytest.mark.parametrize(
    "value", ["否", "×", "✗", "N", "n", "no", "No", "0", 0, 0.0, False, "不是", "false"]
)
def test_no(value):
    assert parse_yes_no(value) is False


@pytest.mark.parametrize("value", [None, "", "  ", "\n"])
def test_yes_no_blank(value):
    assert parse_yes_no(value) is None


@pytest.mark.parametrize(
    "value, shown", [("也许", "也许"), ("是的吧", "是的吧"), (2, "2"), (0.5, "0.5"), (D, "2026-03-05")]
)
def test_yes_no_bad(value, shown):
    assert_bad(parse_yes_no(value), f"无法识别为“是/否”：{shown}")


# ------------------------------------------------------------------- text


@pytest.mark.parametrize(
    "value, expected",
    [
        (None, None),
        ("", None),
        (" \n\t\u3000", None),
        ("\u200b", None),
        ("  标题  ", "标题"),
        ("第一行\n第二行", "第一行 第二行"),
        ("a \r\n\t b\u3000\u3000c", "a b c"),
        (1200, "1200"),
        (1200.0, "1200"),
        (1.5, "1.5"),
        (0.1 + 0.2, "0.3"),
        (-3.0, "-3"),
        (True, "TRUE"),
        (D, "2026-03-05"),
        (dt.datetime(2026, 3, 5), "2026-03-05"),
        (dt.datetime(2026, 3, 5, 14, 30), "2026-03-05 14:30"),
        (dt.time(0, 1, 30), "00:01:30"),
        (dt.timedelta(hours=26, minutes=1, seconds=5), "26:01:05"),
        ("=1+1", "=1+1"),
        ('=HYPERLINK("http://x")', '=HYPERLINK("http://x")'),
    ],
)
def test_clean_text(value, expected):
    assert clean_text(value) == expected


# ------------------------------------------------------------------- keys


@pytest.mark.parametrize(
    "text, expected",
    [
        (" 《人民日报》 ", "人民日报"),
        ("ＡＢＣ 中", "abc中"),
        ("人民\u3000日报\xa0", "人民日报"),
        ("人民\u200b日报\ufeff", "人民日报"),
        ("“组工信息”第3期", "组工信息第3期"),
        ("‘a’「b」『c』〈d〉\"e\"'f'", "abcdef"),
        ("Ｈｅｌｌｏ Ｗｏｒｌｄ", "helloworld"),
        ("第１期\n（上）", "第1期(上)"),
    ],
)
def test_normalize_key(text, expected):
    assert normalize_key(text) == expected


_WHITESPACE = st.sampled_from([" ", "\t", "\n", "\r\n", "\u3000", "\xa0", "\u200b", "\ufeff", "  "])


@given(st.text())
def test_normalize_key_idempotent(text):
    key = normalize_key(text)
    assert normalize_key(key) == key


@given(st.text(), st.integers(min_value=0), _WHITESPACE)
def test_normalize_key_ignores_inserted_whitespace(text, position, space):
    position %= len(text) + 1
    assert normalize_key(text[:position] + space + text[position:]) == normalize_key(text)


_TITLE_CHARS = st.one_of(
    st.characters(),
    st.sampled_from(list("（）【】《》“”‘’「」『』：；，。！？　ＡＢＣａｂｃ０１２３㈠Ⅻﬁ①⑴㎡ẞßİΣς\u0301\u200b\ufeff")),
    st.characters(min_codepoint=0x4E00, max_codepoint=0x4E20),
)


def _reference_key(text: str) -> str:
    """normalize_key as first written: full rounds until nothing changes (no shortcuts)."""
    import unicodedata

    from zg_excel.values import _KEY_DROP_RE

    key = str(text)
    for _ in range(8):
        new = _KEY_DROP_RE.sub("", unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", key).casefold()))
        if new == key:
            break
        key = new
    return key


@given(st.text(_TITLE_CHARS, max_size=30))
def test_normalize_key_shortcuts_change_nothing(text):
    from zg_excel.values import _normalize_uncached

    assert _normalize_uncached(text) == _reference_key(text)


@given(st.text(_TITLE_CHARS, max_size=12), st.text(_TITLE_CHARS, max_size=12))
def test_title_digest_equal_exactly_when_keys_are(a, b):
    """Rows keep ``title_digest(title)``: equal digests where normalize_key is equal, and only there."""
    from types import SimpleNamespace

    from zg_excel.values import row_key, title_digest

    key = lambda t: normalize_key(t) if t else ""  # noqa: E731
    assert (title_digest(a or None) == title_digest(b or None)) == (key(a) == key(b))
    row = SimpleNamespace(title=a or None, title_key=0)  # a row built without a digest gets one
    assert row_key(row) == title_digest(a or None) != 0


def test_title_digest_of_titles_that_differ_only_in_form():
    from zg_excel.values import title_digest

    assert title_digest("“三个强化”推动ＡＢＣ　工作") == title_digest("三个强化推动abc工作")
    assert title_digest("㈠第一") == title_digest("(一)第一") != title_digest("(二)第一")
    assert title_digest(None) == title_digest("") == title_digest("《》")  # as their keys: all ""


@pytest.mark.parametrize(
    "header",
    [
        "视频时长（分钟）",
        "视频时长(分钟)",
        "视频时长\n（分钟）*",
        "*视频时长（分钟）",
        "视频时长（分钟）＊",
        "视频时长（分钟）：",
        "视频时长（分钟）:*",
        " 视频 时长 ( 分钟 ) ",
    ],
)
def test_normalize_header_equivalent(header):
    assert normalize_header(header) == "视频时长(分钟)"


def test_normalize_header_other_cells():
    assert normalize_header(None) == ""
    assert normalize_header("") == ""
    assert normalize_header(2026) == "2026"
    assert normalize_header("《标题》") == "标题"
    assert normalize_header("字数") != normalize_header("视频时长（分钟）")


@given(st.integers(min_value=0, max_value=10**15 - 1))
def test_parse_count_of_integral_floats_as_calamine_reads_them(n):
    assert parse_count(float(n)) == int(float(n))
    assert type(parse_count(float(n))) is int
