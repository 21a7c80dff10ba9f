"""The rules file: shipped defaults + a user's overrides → typed, validated rules.

Every reading of the assessment method (point values, multipliers, which
outlets count, how duplicates and versions are told apart, targets, the
bulletin's wording) is one key of ``defaults/rules.toml``. A working folder's
``rules.toml`` overrides it key by key. :func:`validate` checks every key's type
and range against ``FIXED_KEYS`` and lists each problem as an ``Issue`` naming
the key; :func:`load_rules` builds typed :class:`Rules` only from a table that
passed, so no bad value reaches the scoring or the outputs.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from fractions import Fraction
from importlib import resources
from pathlib import Path
from typing import Any

from .intake.raw import IntakeLimits
from .issues import ERROR, WARNING, Issue
from .values import normalize_key

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]


RULES_FILE = "rules.toml"
_FIX = "请对照内置默认规则（zg-excel init 新建的 rules.toml）改正这个键；不需要改的键可以删掉"


class ConfigError(Exception):
    """A fatal set-up error (bad rules file, roster or catalog); message in Chinese.

    ``issues`` holds the problems one by one (each an :class:`Issue` with its
    code, file and key), so that a checker lists them without re-reading text.
    """

    def __init__(self, message: str, issues: list[Issue] | tuple[Issue, ...] = ()) -> None:
        super().__init__(message)
        self.issues = list(issues)


def default_rules_text() -> str:
    return resources.files("zg_excel").joinpath("defaults/rules.toml").read_text(encoding="utf-8")


def _number(value: Any) -> Fraction | None:
    """A number as the rules file may write it: 5, 0.5, "0.5", "1/5"; None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        return Fraction(repr(value)) if value == value and value not in (float("inf"), float("-inf")) else None
    if isinstance(value, str):
        try:
            return Fraction(value.strip())
        except (ValueError, ZeroDivisionError):
            return None
    return None


# ---------------------------------------------------------------------------
# What every key may hold: one table, read by validate().

@dataclass(frozen=True)
class KeySpec:
    """The type (and range or choices) one rules key must have.

    kind: ``int`` (a whole number), ``number`` (exact: 5, "0.5", "1/5"), ``bool``,
    ``text``, ``choice`` (one of ``choices``), ``names`` (a list of texts; with
    ``choices``, each one of them).
    """

    kind: str
    low: Fraction | int | None = None
    high: Fraction | int | None = None
    low_open: bool = False  # the value must be strictly greater than ``low``
    choices: tuple[str, ...] = ()
    nonempty: bool = False
    note: str = ""  # what the value means, added to the message


_EVENT_FIELDS = ("unit", "title", "outlet", "form", "date", "level")

FIXED_KEYS: dict[str, KeySpec] = {
    "levels": KeySpec("names", nonempty=True),
    "multiplier.factor": KeySpec("number", low=0, high=100),
    "multiplier.forms": KeySpec("names"),
    "multiplier.text_chars_over": KeySpec("int", low=0, high=1_000_000),
    "multiplier.video_minutes_over": KeySpec("number", low=0, high=10_000),
    "district.adopters": KeySpec("names"),
    "outlets.unknown_media": KeySpec("choice", choices=("exclude", "declared_level")),
    "flags.not_org_work_points": KeySpec("number", low=0, high=10_000),
    "flags.serious_problem": KeySpec("choice", choices=("negate", "zero")),
    "liaison.section_category": KeySpec("text", nonempty=True),
    "liaison.credit_fraction": KeySpec("number", low=0, high=1),
    "liaison.negative_credit": KeySpec("bool"),
    "liaison.submissions_count_for_section": KeySpec("bool"),
    "duplicates.event_key": KeySpec("names", choices=_EVENT_FIELDS, nonempty=True),
    "duplicates.endorsement_key": KeySpec("names", choices=_EVENT_FIELDS, nonempty=True),
    "duplicates.warn_same_title_outlet_other_date": KeySpec("bool"),
    "duplicates.submission_key": KeySpec("names", choices=("unit", "title", "date", "destination"), nonempty=True),
    "versions.supersede": KeySpec("choice", choices=("months_subset", "none")),
    "versions.time_source": KeySpec("choice", choices=("saved_time", "file_time")),
    "versions.resend_share": KeySpec("number", low=0, high=1, low_open=True,
                                     note="旧文件的行至少有这一比例出现在新文件中，才算重报"),
    "targets.prorate_before_year_end": KeySpec("bool"),
    "period.judge_incomplete_month": KeySpec("bool"),
    "rounding.places": KeySpec("int", low=0, high=6),
    "bulletin.issuer": KeySpec("text"),
    "bulletin.addressees": KeySpec("text"),
    "bulletin.method_name": KeySpec("text"),
    "bulletin.district": KeySpec("text"),
    "bulletin.praise_top": KeySpec("int", low=0, high=100),
    "bulletin.praise_rise": KeySpec("int", low=1, high=100),
    "bulletin.seal": KeySpec("bool"),
    "bulletin.font_title": KeySpec("font"),
    "bulletin.font_body": KeySpec("font"),
    "bulletin.font_heading1": KeySpec("font"),
    "bulletin.font_heading2": KeySpec("font"),
    "remind.deadline_days": KeySpec("int", low=0, high=365),
    "claims.title_similarity": KeySpec("number", low=0, high=100),
    "claims.same_outlet_required": KeySpec("bool"),
    "ledger.proof_required": KeySpec("bool"),
    "ledger.max_proof_mb": KeySpec("number", low=0, high=10_240, low_open=True),
    "intake.max_file_mb": KeySpec("number", low=0, high=10_240, low_open=True),
    "intake.max_uncompressed_mb": KeySpec("number", low=0, high=102_400, low_open=True),
    "intake.max_ratio": KeySpec("number", low=1, high=100_000),
    "intake.max_cells": KeySpec("int", low=1, high=1_000_000_000),
    "intake.timeout_s": KeySpec("number", low=0, high=86_400, low_open=True, note="秒"),
    "intake.memory_mb": KeySpec("int", low=64, high=1_048_576, note="每个读取进程的内存上限，单位 MB"),
    "intake.workers": KeySpec("int", low=0, high=16, note="0 表示按CPU核数；每个进程约占 25 MB 内存，办公电脑一般 2—4 个即可"),
}
# Tables whose keys are names chosen by the user: (key pattern, spec of each value).
POINT_VALUE = KeySpec("number", low=0, high=10_000)
ALIAS_LIST = KeySpec("names")
CATEGORY_KEYS: dict[str, KeySpec] = {
    "annual_points": KeySpec("number", low=0, high=100_000),
    "monthly_submissions": KeySpec("int", low=0, high=10_000),
    "yearly_submissions": KeySpec("int", low=0, high=100_000),
    "counts_destinations": KeySpec("names"),
    "provincial_adoptions": KeySpec("int", low=0, high=10_000),
    "provincial_outlets": KeySpec("names"),
    "provincial_forms": KeySpec("names"),
}
_REQUIRED_CATEGORY_KEYS = ("annual_points", "counts_destinations")
_OPEN_TABLES = ("points", "forms", "level_aliases", "categories", "destinations")
# Keys older rules files have that nothing reads any more: a warning, never an error, so that a folder
# made by an earlier ``zg-excel init`` still loads.
RETIRED_KEYS = {"period.count_by": "年度以录用日期为准，这个键不再使用，可以删掉",
                "targets.as_of_month_elapsed": "已改为 [period] judge_incomplete_month（默认只判断已满的月份），"
                                               "这个键不再使用，可以删掉",
                "outlets.level_source": "媒体级别总是以媒体目录为准（单位填写的级别与目录不一致时提示），"
                                        "这个键不再使用，可以删掉",
                "rounding.mode": "积分总是四舍五入，这个键不再使用，可以删掉"}

_KIND_ZH = {"int": "整数", "number": "数值（如 5、0.5 或 \"1/5\"）", "bool": "true 或 false", "text": "文字（用英文引号括起）",
            "font": "字体名称（如 \"仿宋_GB2312\"）",
            "names": "名称列表（如 [\"甲\", \"乙\"]）"}


def _range_zh(spec: KeySpec) -> str:
    low, high = spec.low, spec.high
    if low is not None and high is not None:
        return f"大于 {low} 且不大于 {high} " if spec.low_open else f"{low} 至 {high} 之间"
    if low is not None:
        return f"大于 {low} " if spec.low_open else f"不小于 {low} "
    return f"不大于 {high} "


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"\"{value}\""
    if isinstance(value, dict):
        return "一个表"
    return str(value)


def _issue(code: str, key: str, message: str, value: Any = None, file: str = RULES_FILE) -> Issue:
    return Issue(ERROR, code, f"规则文件 {key}：{message}", file=file, column=key,
                 value="" if value is None else _shown(value), fix=_FIX)


def check_value(key: str, value: Any, spec: KeySpec, file: str = RULES_FILE) -> list[Issue]:
    """The problems of one value against its spec: type first, then range or choices."""
    kind = spec.kind
    expect = f"应为{_KIND_ZH.get(kind, kind)}"
    if kind == "choice":
        if not isinstance(value, str) or value not in spec.choices:
            allowed = " 或 ".join(f"\"{c}\"" for c in spec.choices)
            extra = f"（{spec.note}）" if spec.note else ""
            return [_issue("rules_choice", key, f"只能是 {allowed}{extra}，实际为 {_shown(value)}", value, file)]
        return []
    if kind == "bool":
        ok = isinstance(value, bool)
    elif kind == "text":
        ok = isinstance(value, str) and (bool(value.strip()) or not spec.nonempty)
        if isinstance(value, str) and not ok:
            return [_issue("rules_range", key, "不能为空", value, file)]
        if ok and any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 for c in value):  # it goes into one line of the 通报
            return [_issue("rules_range", key, "应为一行文字，不能含换行、制表符等控制字符", value, file)]
    elif kind == "font":  # a font name as Word/WPS list it: 1–31 characters, no control character, no ,;
        ok = isinstance(value, str)
        if ok and (not value.strip() or value != value.strip() or len(value) > 31
                   or any(ord(c) < 32 or c in ",;，；" for c in value)):
            return [_issue("rules_range", key, "应为一个字体名称（1—31个字，前后不留空格，不含逗号、分号），"
                                              f"实际为 {_shown(value)}", value, file)]
    elif kind == "names":
        ok = isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value)
        if ok and spec.nonempty and not value:
            return [_issue("rules_range", key, "至少要有一项", value, file)]
        if ok and spec.choices:
            bad = [v for v in value if v not in spec.choices]
            if bad:
                return [_issue("rules_choice", key, f"“{'、'.join(bad)}”不可用（可用：{'、'.join(spec.choices)}）",
                               value, file)]
    elif kind == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:  # number
        ok = _number(value) is not None
    if not ok:
        return [_issue("rules_type", key, f"{expect}，实际为 {_shown(value)}", value, file)]
    if kind in ("int", "number") and (spec.low is not None or spec.high is not None):
        n = _number(value)
        assert n is not None
        low_bad = spec.low is not None and (n <= spec.low if spec.low_open else n < spec.low)
        high_bad = spec.high is not None and n > spec.high
        if low_bad or high_bad:
            extra = f"（{spec.note}）" if spec.note else ""
            return [_issue("rules_range", key, f"应为{_range_zh(spec)}的{'整数' if kind == 'int' else '数值'}{extra}，"
                                              f"实际为 {_shown(value)}", value, file)]
    return []


def _walk_unknown(user: dict, base: dict, path: str, out: list[Issue], file: str) -> None:
    """Keys the user wrote that the rules do not have (open tables take any name at their first level)."""
    for key, value in user.items():
        here = f"{path}.{key}" if path else key
        if here in RETIRED_KEYS:
            out.append(Issue(WARNING, "rules_retired_key", f"规则文件 {here}：{RETIRED_KEYS[here]}", file=file,
                             column=here, fix="删掉这一行"))
            continue
        if here == "period" and isinstance(value, dict) and all(f"period.{k}" in RETIRED_KEYS for k in value):
            _walk_unknown(value, {}, here, out, file)
            continue
        top = here.split(".")[0]
        depth = here.count(".")
        if top in _OPEN_TABLES and depth >= 1:
            if top == "categories" and depth == 2 and key not in CATEGORY_KEYS:
                out.append(_issue("rules_unknown_key", here, f"未知的键（可用：{'、'.join(sorted(CATEGORY_KEYS))}）",
                                  file=file))
            continue
        if key not in base:
            out.append(_issue("rules_unknown_key", here, "未知的键，程序不认识这个键（是否写错了？）", file=file))
        elif isinstance(value, dict) and isinstance(base[key], dict) and top not in _OPEN_TABLES:
            _walk_unknown(value, base[key], here, out, file)
        elif isinstance(base[key], dict) and not isinstance(value, dict):
            out.append(_issue("rules_type", here, f"应为一个表（[{here}]），实际为 {_shown(value)}", value, file))


def _names_of(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def validate(data: dict, file: str = RULES_FILE) -> list[Issue]:
    """Every problem of a merged rules table, each an :class:`Issue` naming the key (empty: all good).

    Checks each fixed key's type and range (``FIXED_KEYS``), each entry of the
    tables whose keys the user names (points, forms, level_aliases,
    destinations, categories), and the names that refer to one another
    (a form's points for every level, known levels, forms and destinations,
    an alias serving one name only). Unknown keys are found when the user's
    file is merged over the defaults (:func:`read_rules_data`).
    """
    issues: list[Issue] = []
    for key, spec in FIXED_KEYS.items():
        table, _, name = key.rpartition(".")
        holder = data.get(table) if table else data
        if not isinstance(holder, dict) or name not in holder:
            issues.append(_issue("rules_missing_key", key, "缺少这个键"))
            continue
        issues.extend(check_value(key, holder[name], spec, file))
    for table in _OPEN_TABLES:
        if not isinstance(data.get(table), dict):
            issues.append(_issue("rules_type", table, f"应为一个表（[{table}]），实际为 {_shown(data.get(table))}",
                                 data.get(table), file))
    if issues:  # the cross-references below need well-typed tables
        return issues
    levels = list(data["levels"])
    forms = list(data["forms"])
    destinations = list(data["destinations"])
    for table in ("forms", "level_aliases", "destinations"):
        for name, aliases in data[table].items():
            issues.extend(check_value(f"{table}.{name}", aliases, ALIAS_LIST, file))
    for form, table in data["points"].items():
        key = f"points.{form}"
        if form not in forms:
            issues.append(_issue("rules_unknown_form", key, "录用形式不在 [forms] 中", file=file))
            continue
        if not isinstance(table, dict):
            issues.append(_issue("rules_type", key, f"应为“级别 = 分值”的表，实际为 {_shown(table)}", table, file))
            continue
        for level, value in table.items():
            if level not in levels:
                issues.append(_issue("rules_unknown_level", f"{key}.{level}", "级别不在 levels 中", file=file))
                continue
            issues.extend(check_value(f"{key}.{level}", value, POINT_VALUE, file))
        for level in levels:
            if level not in table:
                issues.append(_issue("rules_missing_points", key, f"缺少级别“{level}”的分值", file=file))
    for form in forms:
        if form not in data["points"]:
            issues.append(_issue("rules_missing_points", "points", f"缺少录用形式“{form}”的分值", file=file))
    for level in data["level_aliases"]:
        if level not in levels:
            issues.append(_issue("rules_unknown_level", f"level_aliases.{level}", "级别不在 levels 中", file=file))
    for f in _names_of(data["multiplier"]["forms"]):
        if f not in forms:
            issues.append(_issue("rules_unknown_form", "multiplier.forms", f"未知的录用形式“{f}”", f, file))
    for name, c in data["categories"].items():
        key = f"categories.{name}"
        if not isinstance(c, dict):
            issues.append(_issue("rules_type", key, f"应为一个表（[{key}]），实际为 {_shown(c)}", c, file))
            continue
        missing = [k for k in _REQUIRED_CATEGORY_KEYS if k not in c]
        if missing:
            issues.append(_issue("rules_missing_key", key, "必须有 annual_points 和 counts_destinations", file=file))
        for k, v in c.items():
            if k in CATEGORY_KEYS:
                issues.extend(check_value(f"{key}.{k}", v, CATEGORY_KEYS[k], file))
        for dest in _names_of(c.get("counts_destinations")):
            if dest not in destinations:
                issues.append(_issue("rules_unknown_destination", f"{key}.counts_destinations",
                                     f"未知的报送对象“{dest}”", dest, file))
        for f in _names_of(c.get("provincial_forms")):
            if f not in forms:
                issues.append(_issue("rules_unknown_form", f"{key}.provincial_forms", f"未知的录用形式“{f}”", f, file))
    for table, names in (("forms", data["forms"]), ("destinations", data["destinations"]),
                         ("level_aliases", {lv: data["level_aliases"].get(lv, []) for lv in levels})):
        issues.extend(_alias_issues(names, table, file))
    return issues


def _alias_issues(table: dict[str, list[str]], key: str, file: str) -> list[Issue]:
    out: list[Issue] = []
    owner: dict[str, str] = {}
    for canonical, aliases in table.items():
        for name in (canonical, *_names_of(aliases)):
            k = normalize_key(name)
            if k in owner and owner[k] != canonical:
                out.append(_issue("rules_alias_conflict", key, f"别名“{name}”同时属于“{owner[k]}”和“{canonical}”",
                                  name, file))
            owner[k] = canonical
    return out


# ---------------------------------------------------------------------------
# Typed rules.

@dataclass(frozen=True)
class Category:
    name: str
    annual_points: Fraction
    counts_destinations: tuple[str, ...]
    monthly_submissions: int | None = None
    yearly_submissions: int | None = None
    provincial_adoptions: int | None = None
    provincial_outlets: tuple[str, ...] = ()
    provincial_forms: tuple[str, ...] = ()

    @property
    def target_keys(self) -> list[str]:
        keys = ["points"]
        if self.monthly_submissions:
            keys.append("monthly")
        if self.yearly_submissions:
            keys.append("yearly")
        if self.provincial_adoptions:
            keys.append("provincial")
        return keys


@dataclass(frozen=True)
class BulletinSettings:
    """``[bulletin]``: the 通报's signature and salutation, and whom it praises."""

    issuer: str
    addressees: str
    method_name: str
    district: str
    praise_top: int
    praise_rise: int
    seal: bool
    font_title: str = "方正小标宋简体"  # 通报.docx fonts by role (GB/T 9704 names by default)
    font_body: str = "仿宋_GB2312"
    font_heading1: str = "黑体"
    font_heading2: str = "楷体_GB2312"


@dataclass(frozen=True)
class RemindSettings:
    """``[remind]``: the 催报 texts."""

    deadline_days: int


@dataclass(frozen=True)
class DuplicateKeys:
    """``[duplicates]`` keys: the fields that make two rows the same event, endorsement or submission."""

    event_key: tuple[str, ...]
    endorsement_key: tuple[str, ...]
    submission_key: tuple[str, ...]


@dataclass(frozen=True)
class Rules:
    """Typed rules; ``data`` keeps the merged table for the 计分口径 sheet."""

    data: dict
    overridden: frozenset[str]
    levels: tuple[str, ...]
    points: dict[str, dict[str, Fraction]]
    forms: tuple[str, ...]
    form_lookup: dict[str, str]
    level_lookup: dict[str, str]
    multiplier_factor: Fraction
    multiplier_forms: tuple[str, ...]
    text_chars_over: int
    video_minutes_over: Fraction
    district_adopters: tuple[str, ...]
    unknown_media: str
    not_org_work_points: Fraction
    serious_problem: str
    section_category: str
    credit_fraction: Fraction
    negative_credit: bool
    submissions_count_for_section: bool
    duplicate_keys: DuplicateKeys
    warn_same_title_outlet_other_date: bool
    supersede: str
    time_source: str
    resend_share: Fraction  # share of an older file's rows a newer one must hold to supersede it
    prorate_before_year_end: bool
    judge_incomplete_month: bool
    places: int
    bulletin: BulletinSettings
    remind: RemindSettings
    categories: dict[str, Category]
    destinations: tuple[str, ...]
    destination_lookup: dict[str, str]
    title_similarity: float
    same_outlet_required: bool
    limits: IntakeLimits = field(default_factory=IntakeLimits)
    proof_required: bool = False  # [ledger]: a 市级以上 adoption without 台帐 proof scores 0
    max_proof_mb: float = 50.0  # [ledger]: a larger proof file is listed, not copied

    def form_of(self, text: str) -> str | None:
        return self.form_lookup.get(normalize_key(text))

    def level_of(self, text: str) -> str | None:
        return self.level_lookup.get(normalize_key(text))

    def destination_of(self, text: str) -> str | None:
        return self.destination_lookup.get(normalize_key(text))


def _merge(base: dict, over: dict, path: str, overridden: set[str]) -> dict:
    """``over`` laid over ``base`` key by key (unknown keys are reported separately, never merged)."""
    out = copy.deepcopy(base)
    for key, value in over.items():
        here = f"{path}.{key}" if path else key
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            out[key] = _merge(base[key], value, here, overridden)
        else:
            out[key] = copy.deepcopy(value)
            overridden.add(here)
    return out


def _lookup(table: dict[str, list[str]]) -> dict[str, str]:
    """Map each normalized name and alias to its canonical name (conflicts are found by validate)."""
    out: dict[str, str] = {}
    for canonical, aliases in table.items():
        for name in (canonical, *aliases):
            out[normalize_key(name)] = canonical
    return out


_TOML_ZH = (  # tomllib's words → Chinese (the parser's messages are English)
    ("Cannot declare", "同一个表（方括号中的名称）写了两次；请把新写的键并入文件中已有的那个表，不要再写一次表头"),
    ("Cannot overwrite a value", "同一个键写了两次；请删掉其中一处"),
    ("Cannot mutate", "同一个键写了两次；请删掉其中一处"),
    ("Invalid value", "值的写法不对（文字要用英文双引号括起，列表用 [ ]）"),
    ("Invalid statement", "这一行无法识别（键 = 值，或 [表名]）"),
    ("Expected '=' after a key", "键后面缺少“=”"),
    ("Expected ']' at the end of a table declaration", "表头缺少“]”"),
    ("Unclosed", "引号或括号没有闭合"),
    ("Illegal character", "含有不允许的字符（请检查引号是否为英文引号）"),
    ("Invalid initial character for a key part", "键名的写法不对（中文键名要用英文双引号括起）"),
    ("Expected newline or end of document", "一行只能写一个键（检查是否缺少换行或多了字符）"),
)


def _syntax_issue(exc: Exception, file: str) -> Issue:
    text = str(exc)
    where = ""
    import re

    m = re.search(r"\(at line (\d+), column (\d+)\)", text)
    if m:
        where = f"第{m.group(1)}行第{m.group(2)}列："
    elif "end of document" in text:
        where = "文件末尾："
    words = next((zh for en, zh in _TOML_ZH if text.startswith(en)), "写法不符合 TOML 格式")
    if text.startswith("Cannot declare"):
        t = re.search(r"Cannot declare \((.*?)\) twice", text)
        if t:
            name = ".".join(p.strip(" '\"") for p in t.group(1).split(",") if p.strip())
            words = f"表 [{name}] 写了两次；请把新写的键并入文件中已有的 [{name}] 表，不要再写一次表头"
    line = int(m.group(1)) if m else None
    return Issue(ERROR, "rules_syntax", f"规则文件格式错误：{where}{words}", file=file, row=line,
                 fix="用记事本打开 rules.toml 改正这一处（格式：键 = 值；文字用英文双引号括起）")


def read_rules_data(user_file: Path | None = None) -> tuple[dict, frozenset[str], list[Issue]]:
    """The shipped rules with ``user_file`` laid over them key by key, the keys it set, and its problems.

    A file that cannot be read (not UTF-8, not TOML, a folder) gives one issue
    and the defaults; unknown keys are issues and are not merged.
    """
    base = tomllib.loads(default_rules_text())
    if user_file is None:
        return base, frozenset(), []
    path = Path(user_file)
    name = path.name
    if path.is_dir():
        return base, frozenset(), [Issue(ERROR, "rules_unreadable", f"{name} 是一个文件夹，不是规则文件", file=name,
                                         fix=f"请删除或改名这个文件夹；需要规则文件时运行 zg-excel init 重新生成 {name}")]
    if not path.exists():
        return base, frozenset(), []
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        return base, frozenset(), [Issue(ERROR, "rules_unreadable", f"规则文件 {name} 不是 UTF-8 编码", file=name,
                                         fix="请用记事本打开，另存为时编码选“UTF-8”")]
    except OSError as exc:
        return base, frozenset(), [Issue(ERROR, "rules_unreadable", f"规则文件 {name} 无法读取：{exc.strerror or exc}",
                                         file=name, fix="请确认文件没有被其他程序占用、有读取权限")]
    repeated: list[Issue] = []
    try:
        user = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        merged = _tables_written_twice(text, name)
        if merged is None:
            return base, frozenset(), [_syntax_issue(exc, name)]
        user, repeated = merged
    unknown: list[Issue] = list(repeated)
    _walk_unknown(user, base, "", unknown, name)
    bad = {i.column for i in unknown} | {"period"} - set(base)
    user = _without(user, bad, "")
    overridden: set[str] = set()
    return _merge(base, user, "", overridden), frozenset(overridden), unknown


_TABLE_HEADER = re.compile(r"^\s*\[(?!\[)\s*([^\]]+?)\s*\]\s*(?:#.*)?$")


def _tables_written_twice(text: str, name: str) -> tuple[dict, list[Issue]] | None:
    """A rules file in which a table is declared twice, read as the user meant it.

    Users are told to add what they change, and the natural way is to append
    ``[multiplier]`` with one key to the full file ``init`` wrote: TOML forbids
    that, so each table block is read on its own and later blocks win, with a
    warning naming the table. None when the file has any other syntax error.
    """
    blocks: list[tuple[str | None, int, list[str]]] = [(None, 1, [])]
    for number, line in enumerate(text.splitlines(), start=1):
        m = _TABLE_HEADER.match(line)
        if m:
            blocks.append((m.group(1), number, [line]))
        else:
            blocks[-1][2].append(line)
    merged: dict = {}
    seen: dict[str, int] = {}
    issues: list[Issue] = []
    for header, number, lines in blocks:
        try:
            part = tomllib.loads("\n".join(lines))
        except tomllib.TOMLDecodeError:
            return None
        if header is not None:
            key = "".join(header.split())
            if key in seen:
                issues.append(Issue(WARNING, "rules_table_twice",
                                    f"规则文件 {name} 中表 [{header}] 写了两次（第{seen[key]}行和第{number}行），"
                                    f"两处都有的键按后面（第{number}行）的值计", file=name, row=number,
                                    fix=f"可把第{number}行起的键并入第{seen[key]}行的 [{header}] 中，删去重复的表头"))
            else:
                seen[key] = number
        _deep_update(merged, part)
    return merged, issues


def _deep_update(into: dict, new: dict) -> None:
    for key, value in new.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _deep_update(into[key], value)
        else:
            into[key] = value


def _without(table: dict, keys: set[str], path: str) -> dict:
    out = {}
    for key, value in table.items():
        here = f"{path}.{key}" if path else key
        if here in keys:
            continue
        out[key] = _without(value, keys, here) if isinstance(value, dict) else value
    return out


def rules_issues(user_file: Path | None = None) -> list[Issue]:
    """Every problem of a rules file (read, unknown keys, types, ranges, names); empty when it loads."""
    data, _, issues = read_rules_data(user_file)
    return issues + validate(data, Path(user_file).name if user_file else RULES_FILE)


def load_rules(user_file: Path | None = None) -> Rules:
    """Load the shipped rules, overridden key by key by ``user_file`` when it exists.

    Raises :class:`ConfigError` carrying every problem (see :func:`validate`):
    typed rules are built only from a table that passed it.
    """
    data, overridden, issues = read_rules_data(user_file)
    name = Path(user_file).name if user_file else RULES_FILE
    issues = [i for i in issues if i.severity == ERROR]
    if not issues:
        issues = validate(data, name)
    if issues:
        where = f"（{user_file}）" if user_file else ""
        raise ConfigError("规则文件有误" + where + "：\n" + "\n".join(f"  - {i.message}" for i in issues), issues)
    return _build(data, overridden)


def _build(d: dict, overridden: frozenset[str]) -> Rules:
    """Typed rules from a table that :func:`validate` passed."""
    levels = tuple(d["levels"])
    forms = tuple(d["forms"])
    points = {form: {level: _fraction(v) for level, v in table.items()} for form, table in d["points"].items()}
    categories = {
        name: Category(
            name=name,
            annual_points=_fraction(c["annual_points"]),
            counts_destinations=tuple(c["counts_destinations"]),
            monthly_submissions=c.get("monthly_submissions"),
            yearly_submissions=c.get("yearly_submissions"),
            provincial_adoptions=c.get("provincial_adoptions"),
            provincial_outlets=tuple(c.get("provincial_outlets", ())),
            provincial_forms=tuple(c.get("provincial_forms", ())),
        )
        for name, c in d["categories"].items()
    }
    intake = d["intake"]
    limits = IntakeLimits(
        max_file_mb=float(_fraction(intake["max_file_mb"])),
        max_uncompressed_mb=float(_fraction(intake["max_uncompressed_mb"])),
        max_ratio=float(_fraction(intake["max_ratio"])),
        max_cells=intake["max_cells"],
        timeout_s=float(_fraction(intake["timeout_s"])),
        memory_mb=intake["memory_mb"],
        workers=intake["workers"],
    )
    mult, b, dup = d["multiplier"], d["bulletin"], d["duplicates"]
    return Rules(
        data=d,
        overridden=overridden,
        levels=levels,
        points=points,
        forms=forms,
        form_lookup=_lookup(d["forms"]),
        level_lookup=_lookup({lv: d["level_aliases"].get(lv, []) for lv in levels}),
        multiplier_factor=_fraction(mult["factor"]),
        multiplier_forms=tuple(mult["forms"]),
        text_chars_over=mult["text_chars_over"],
        video_minutes_over=_fraction(mult["video_minutes_over"]),
        district_adopters=tuple(d["district"]["adopters"]),
        unknown_media=d["outlets"]["unknown_media"],
        not_org_work_points=_fraction(d["flags"]["not_org_work_points"]),
        serious_problem=d["flags"]["serious_problem"],
        section_category=d["liaison"]["section_category"],
        credit_fraction=_fraction(d["liaison"]["credit_fraction"]),
        negative_credit=d["liaison"]["negative_credit"],
        submissions_count_for_section=d["liaison"]["submissions_count_for_section"],
        duplicate_keys=DuplicateKeys(tuple(dup["event_key"]), tuple(dup["endorsement_key"]),
                                     tuple(dup["submission_key"])),
        warn_same_title_outlet_other_date=dup["warn_same_title_outlet_other_date"],
        supersede=d["versions"]["supersede"],
        time_source=d["versions"]["time_source"],
        resend_share=_fraction(d["versions"]["resend_share"]),
        prorate_before_year_end=d["targets"]["prorate_before_year_end"],
        judge_incomplete_month=d["period"]["judge_incomplete_month"],
        places=d["rounding"]["places"],
        bulletin=BulletinSettings(issuer=b["issuer"], addressees=b["addressees"], method_name=b["method_name"],
                                  district=b["district"], praise_top=b["praise_top"], praise_rise=b["praise_rise"],
                                  seal=b["seal"], font_title=b["font_title"], font_body=b["font_body"],
                                  font_heading1=b["font_heading1"], font_heading2=b["font_heading2"]),
        remind=RemindSettings(deadline_days=d["remind"]["deadline_days"]),
        categories=categories,
        destinations=tuple(d["destinations"]),
        destination_lookup=_lookup(d["destinations"]),
        title_similarity=float(_fraction(d["claims"]["title_similarity"])),
        same_outlet_required=d["claims"]["same_outlet_required"],
        limits=limits,
        proof_required=d["ledger"]["proof_required"],
        max_proof_mb=float(_fraction(d["ledger"]["max_proof_mb"])),
    )


def _fraction(value: Any) -> Fraction:
    got = _number(value)
    assert got is not None, value  # validate() passed it
    return got


def flatten(data: dict, prefix: str = "") -> list[tuple[str, Any]]:
    """The merged rules as (dotted key, value) rows, in file order."""
    rows: list[tuple[str, Any]] = []
    for key, value in data.items():
        here = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            rows.extend(flatten(value, here))
        else:
            rows.append((here, value))
    return rows


# ---------------------------------------------------------------------------
# What every key and choice is called in Chinese (the summary's 计分口径 sheet shows the label first and the
# key beside it). One entry per key of FIXED_KEYS and CATEGORY_KEYS: tests/test_summary.py checks that each
# has one, so a new key gets its label here.

KEY_LABELS: dict[str, str] = {
    "levels": "媒体级别（从低到高）",
    "multiplier.factor": "加倍积分的倍数",
    "multiplier.forms": "可加倍的录用形式",
    "multiplier.text_chars_over": "文字稿超过多少字加倍",
    "multiplier.video_minutes_over": "影像报道超过多少分钟加倍",
    "district.adopters": "区级采用计分的媒体",
    "outlets.unknown_media": "媒体不在目录中时",
    "flags.not_org_work_points": "非组织工作稿件的分值",
    "flags.serious_problem": "严重失实或政治性问题的处理",
    "liaison.section_category": "对口处室所属类别",
    "liaison.credit_fraction": "对口处室积分比例",
    "liaison.negative_credit": "倒扣稿件对口处室是否同样倒扣",
    "liaison.submissions_count_for_section": "注明对口处室的报送是否也计入该科室",
    "duplicates.event_key": "录用去重依据",
    "duplicates.endorsement_key": "批示去重依据",
    "duplicates.warn_same_title_outlet_other_date": "同标题同媒体不同日期是否提示",
    "duplicates.submission_key": "报送去重依据",
    "versions.supersede": "旧文件何时视为被替代",
    "versions.time_source": "文件新旧以何时间为准",
    "versions.resend_share": "重报认定比例（旧文件的行出现在新文件中的比例）",
    "targets.prorate_before_year_end": "年底前按序时进度显示",
    "targets.as_of_month_elapsed": "截止日所在月是否计为已过",
    "period.judge_incomplete_month": "是否判断未满的截止月",
    "rounding.places": "显示保留的小数位数",
    "bulletin.issuer": "通报落款单位",
    "bulletin.addressees": "通报主送单位",
    "bulletin.method_name": "考核办法名称",
    "bulletin.district": "通报中的地区称谓",
    "bulletin.praise_top": "每类表扬前几名",
    "bulletin.praise_rise": "名次上升几位列为进步明显",
    "bulletin.seal": "通报.docx 是否加盖印章版式",
    "bulletin.font_title": "通报标题字体",
    "bulletin.font_body": "通报正文字体",
    "bulletin.font_heading1": "通报一级标题字体",
    "bulletin.font_heading2": "通报二级标题字体",
    "remind.deadline_days": "催报补报期限（天）",
    "claims.title_similarity": "不同单位同一稿件的标题相似度",
    "claims.same_outlet_required": "同一稿件是否要求同一媒体",
    "ledger.proof_required": "市级以上录用缺少台帐证明材料是否计0分",
    "ledger.max_proof_mb": "单个台帐证明材料大小上限（MB）",
    "intake.max_file_mb": "单个文件大小上限（MB）",
    "intake.max_uncompressed_mb": "解压后大小上限（MB）",
    "intake.max_ratio": "压缩比上限",
    "intake.max_cells": "单元格数上限",
    "intake.timeout_s": "读取单个文件的时限（秒）",
    "intake.memory_mb": "读取进程内存上限（MB）",
    "intake.workers": "并行读取进程数",
}
# Labels of the user-named tables: {0} is the name (录用形式, 级别, 类别, 报送对象).
TABLE_LABELS: dict[str, str] = {
    "points": "分值：{0}",
    "forms": "录用形式“{0}”的别名",
    "level_aliases": "级别“{0}”的别名",
    "destinations": "报送对象“{0}”的别名",
}
CATEGORY_KEY_LABELS: dict[str, str] = {
    "annual_points": "全年积分目标",
    "monthly_submissions": "每月报送条数下限",
    "yearly_submissions": "全年报送条数下限",
    "counts_destinations": "计入报送条数的报送对象",
    "provincial_adoptions": "全年省级刊物录用条数下限",
    "provincial_outlets": "省级刊物",
    "provincial_forms": "省级刊物计入的录用形式",
}
# Chinese of every choice value and of the fields a duplicates key may list.
VALUE_LABELS: dict[str, str] = {
    "exclude": "排除（不计分，列为错误）",
    "declared_level": "按填报级别计分",
    "negate": "倒扣",
    "zero": "计0分",
    "months_subset": "月份被更新文件包含即替代",
    "none": "不替代（全部合并）",
    "saved_time": "工作簿保存时间",
    "file_time": "文件修改时间",
    "unit": "单位",
    "title": "标题",
    "outlet": "媒体",
    "form": "录用形式",
    "date": "日期",
    "level": "级别",
    "destination": "报送对象",
}
