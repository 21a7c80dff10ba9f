"""Check a working folder's settings — rules file, roster and catalog — all at once.

``load_rules`` / ``load_roster`` / ``load_catalog`` stop at the first file
with a problem; this module reads every row itself and lists *every* problem
as an ``Issue`` naming the file, the row (or the rules key) and what to do,
so the office can fix all of them in one go (``zg-excel rules check``).
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

from .issues import ERROR, INFO, WARNING, Issue
from .roster import (
    CATALOG_COLUMNS,
    CATALOG_FILE,
    ROSTER_COLUMNS,
    ROSTER_FILE,
    _default_rows,
    _read_table,
    split_aliases,
)
from .rules import ConfigError, Rules, _merge, default_rules_text, load_rules
from .values import normalize_key
from .workspace import RULES_FILE

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

_RULE_CODES = (  # (pattern of a load_rules message line, code)
    (re.compile(r"未知的键"), "rules_unknown_key"),
    (re.compile(r"缺少级别|缺少录用形式"), "rules_missing_points"),
    (re.compile(r"级别不在 levels"), "rules_unknown_level"),
    (re.compile(r"未知的报送对象"), "rules_unknown_destination"),
    (re.compile(r"未知的录用形式|录用形式不在"), "rules_unknown_form"),
    (re.compile(r"别名"), "rules_alias_conflict"),
    (re.compile(r"格式错误"), "rules_syntax"),
)
_KEY_RE = re.compile(r"^([A-Za-z_][\w.\"\u4e00-\u9fff]*)[：:]")


def _rule_issues(exc: ConfigError, file: str) -> list[Issue]:
    text = str(exc)
    lines = [ln.strip()[2:].strip() for ln in text.splitlines() if ln.strip().startswith("- ")]
    if not lines:  # one message (e.g. a TOML syntax error)
        lines = [text]
    out = []
    for line in lines:
        code = next((c for p, c in _RULE_CODES if p.search(line)), "rules_invalid")
        m = _KEY_RE.match(line)
        key = m.group(1) if m else ""
        if code == "rules_unknown_key":
            key = line.replace("未知的键", "").strip().split("（")[0]
        out.append(Issue(ERROR, code, f"规则文件：{line}", file=file, column=key, value=key,
                         fix="请对照内置默认规则（zg-excel init 新建的 rules.toml）改正这个键；不需要改的键可以删掉"))
    return out


def _rows(workdir: Path, name: str, columns: tuple[str, ...], what: str, default: str,
          issues: list[Issue]) -> tuple[list[tuple[int, dict[str, str]]], str]:
    path = workdir / name
    if path.exists():
        try:
            return _read_table(path, columns, what), name
        except ConfigError as exc:
            issues.append(Issue(ERROR, "table_unreadable", str(exc), file=name,
                                fix=f"请用 Excel/WPS 打开{what}，确认第一个工作表的表头含“{columns[0]}”"))
            return [], name
    issues.append(Issue(INFO, "default_used", f"工作目录中没有{name}，使用内置的默认{what}（上街区）",
                        file=name, fix=f"运行 zg-excel init 可生成{name}，按本区实际修改"))
    return _default_rows(default), f"{default}（内置）"


def _alias_clashes(rows: list[tuple[int, dict[str, str]]], name_col: str, file: str, what: str,
                   code: str) -> list[Issue]:
    issues: list[Issue] = []
    owner: dict[str, tuple[str, int]] = {}
    for r, rec in rows:
        name = rec.get(name_col, "")
        if not name:
            continue
        for n in dict.fromkeys((name, *split_aliases(rec.get("别名")))):
            k = normalize_key(n)
            if not k:
                continue
            if k in owner and owner[k][0] != name:
                other, other_row = owner[k]
                column = name_col if n == name else "别名"
                issues.append(Issue(ERROR, code, f"“{n}”同时是“{other}”（第{other_row}行）和“{name}”的名称或别名",
                                    file=file, row=r, column=column, value=n,
                                    fix=f"一个名称或别名只能属于一个{what}，请删掉其中一处"))
            elif k in owner and owner[k][1] != r:
                issues.append(Issue(ERROR, code, f"“{name}”在第{owner[k][1]}行已经出现过",
                                    file=file, row=r, column=name_col, value=n, fix="请删掉重复的一行"))
            else:
                owner.setdefault(k, (name, r))
    return issues


def _merged_data(rules_file: Path) -> dict | None:
    """The rules table as the user wrote it over the defaults, even when it does not load."""
    try:
        data = tomllib.loads(default_rules_text())
        if rules_file.exists():
            user = tomllib.loads(rules_file.read_text(encoding="utf-8-sig"))
            data = _merge(data, user, "", set(), [])
        return data
    except Exception:  # noqa: BLE001 - unreadable rules are reported by load_rules already
        return None


def _names(value) -> list[str]:
    return [str(v) for v in value] if isinstance(value, (list, tuple)) else []


def check_rules(workdir: Path) -> list[Issue]:
    """Every problem of the folder's rules file, roster and catalog (empty list: all good).

    Reports each with its own code: ``rules_*`` (a rules key, as ``load_rules``
    words it), ``roster_*`` and ``catalog_*`` (a row of the table), and the
    cross-checks: ``no_section_units``, ``section_category_unknown``,
    ``provincial_outlet_unknown``, ``district_adopter_unknown`` /
    ``district_adopter_level``. ``default_used`` (info) says a shipped default
    stands in for a missing file.
    """
    workdir = Path(workdir)
    issues: list[Issue] = []
    rules_file = workdir / RULES_FILE
    rules: Rules
    try:
        rules = load_rules(rules_file)
    except ConfigError as exc:
        issues.extend(_rule_issues(exc, RULES_FILE))
        rules = load_rules(None)
        issues.append(Issue(INFO, "rules_fallback", "规则文件有误，未能完整读取；下面检查媒体目录时，级别按内置默认规则识别",
                            file=RULES_FILE))
    if not rules_file.exists():
        issues.append(Issue(INFO, "default_used", f"工作目录中没有{RULES_FILE}，使用内置的默认计分规则",
                            file=RULES_FILE, fix="运行 zg-excel init 可生成 rules.toml"))

    # The names the rules file uses, read from the table itself so that they are
    # checked as written even when the rules do not load.
    data = _merged_data(rules_file) or rules.data
    raw_cats = data.get("categories") if isinstance(data.get("categories"), dict) else {}
    category_names = [str(c) for c in raw_cats] or list(rules.categories)
    liaison = data.get("liaison") if isinstance(data.get("liaison"), dict) else {}
    section = str(liaison.get("section_category", rules.section_category))
    district = data.get("district") if isinstance(data.get("district"), dict) else {}
    adopters = _names(district.get("adopters", rules.district_adopters))
    provincial = {str(c): _names(v.get("provincial_outlets", [])) for c, v in raw_cats.items() if isinstance(v, dict)}

    # Roster: every row, every problem.
    roster_rows, roster_file = _rows(workdir, ROSTER_FILE, ROSTER_COLUMNS, "单位名册", "roster.csv", issues)
    cats = "、".join(category_names)
    categories: dict[str, list[str]] = defaultdict(list)
    for r, rec in roster_rows:
        name, cat = rec.get("单位名称", ""), rec.get("类别", "")
        if not name:
            issues.append(Issue(ERROR, "roster_no_name", "单位名称为空", file=roster_file, row=r, column="单位名称",
                                fix="请填写单位全称，或删除这一行"))
            continue
        if cat not in category_names:
            issues.append(Issue(ERROR, "roster_unknown_category",
                                f"“{name}”的类别“{cat}”不是规则文件中的考核类别（{cats}）",
                                file=roster_file, row=r, column="类别", value=cat,
                                fix=f"请把类别改为 {cats} 之一；要增加类别，请在 rules.toml 中增加 [categories.\"{cat}\"]"))
            continue
        categories[cat].append(name)
    issues.extend(_alias_clashes(roster_rows, "单位名称", roster_file, "单位", "roster_alias_conflict"))

    # Liaison sections: the category must exist and have at least one unit.
    if section not in category_names:
        issues.append(Issue(ERROR, "section_category_unknown",
                            f"对口处室类别 liaison.section_category = “{section}”不是考核类别（{cats}）",
                            file=RULES_FILE, column="liaison.section_category", value=section,
                            fix="请改为名册中对口处室（科室）所用的类别名称"))
    elif roster_rows and not categories.get(section):
        issues.append(Issue(ERROR, "no_section_units",
                            f"单位名册中没有类别为“{section}”的单位，对口处室无人可选，经对口处室的积分和报送无法计入",
                            file=roster_file, column="类别", value=section,
                            fix=f"请在名册中列出区委组织部各科室，类别填“{section}”"))

    # Catalog: every row, every problem.
    catalog_rows, catalog_file = _rows(workdir, CATALOG_FILE, CATALOG_COLUMNS, "媒体目录", "media.csv", issues)
    levels = "/".join(rules.levels)
    outlets: dict[str, tuple[str, str]] = {}  # normalized name or alias -> (name, level)
    for r, rec in catalog_rows:
        name, level_text = rec.get("媒体名称", ""), rec.get("级别", "")
        if not name:
            issues.append(Issue(ERROR, "catalog_no_name", "媒体名称为空", file=catalog_file, row=r, column="媒体名称",
                                fix="请填写媒体名称，或删除这一行"))
            continue
        level = rules.level_of(level_text) if level_text else None
        if level is None:
            issues.append(Issue(ERROR, "catalog_unknown_level",
                                f"“{name}”的级别“{level_text}”无法识别（应为 {levels}）",
                                file=catalog_file, row=r, column="级别", value=level_text,
                                fix=f"请把级别改为 {levels} 之一"))
            continue
        for n in (name, *split_aliases(rec.get("别名"))):
            outlets.setdefault(normalize_key(n), (name, level))
    issues.extend(_alias_clashes(catalog_rows, "媒体名称", catalog_file, "媒体", "catalog_alias_conflict"))

    # Rules that name outlets: they must be in the catalog.
    for cat_name, names in provincial.items():
        for o in names:
            if normalize_key(o) not in outlets:
                key = f"categories.{cat_name}.provincial_outlets"
                issues.append(Issue(ERROR, "provincial_outlet_unknown",
                                    f"{key} 中的“{o}”不在媒体目录中，该项考核永远无法达到",
                                    file=RULES_FILE, column=key, value=o,
                                    fix=f"请在媒体目录中增加“{o}”，或把 rules.toml 中的名称改成目录中的名称"))
    lowest = rules.levels[0]
    for o in adopters:
        found = outlets.get(normalize_key(o))
        if found is None:
            issues.append(Issue(ERROR, "district_adopter_unknown",
                                f"district.adopters 中的“{o}”不在媒体目录中，它的采用无法计分",
                                file=RULES_FILE, column="district.adopters", value=o,
                                fix=f"请在媒体目录中增加“{o}”（级别：{lowest}），或改正 rules.toml 中的名称"))
        elif found[1] != lowest:
            issues.append(Issue(WARNING, "district_adopter_level",
                                f"district.adopters 中的“{o}”在媒体目录中是{found[1]}，不是{lowest}，这一设置对它不起作用",
                                file=RULES_FILE, column="district.adopters", value=o,
                                fix=f"请核对“{o}”的级别，或从 district.adopters 中删去"))
    return issues
