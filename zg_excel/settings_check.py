"""Check a working folder's settings — rules file, roster and catalog — all at once.

The loaders stop at the first file with a problem; this joins the validators
they use (:func:`zg_excel.rules.rules_issues`, :func:`zg_excel.roster.validate_rows`)
over all three files, adds the checks that span two of them, and lists every
problem as an ``Issue`` naming the file, the row (or the rules key) and what to
do, so the office can fix all of them in one go (``zg-excel rules check``).
"""

from __future__ import annotations

from pathlib import Path

from .issues import ERROR, INFO, WARNING, Issue
from .roster import CATALOG, ROSTER, TableKind, split_aliases, table_rows, validate_rows
from .rules import RULES_FILE, ConfigError, Rules, load_rules, read_rules_data, rules_issues
from .values import normalize_key


def _table(workdir: Path, kind: TableKind, rules: Rules, issues: list[Issue]) -> list[tuple[int, dict[str, str]]]:
    try:
        rows, file, default = table_rows(workdir, kind)
    except ConfigError as exc:
        issues.append(Issue(ERROR, "table_unreadable", str(exc), file=kind.file,
                            fix=f"请用 Excel/WPS 打开{kind.what}，确认第一个工作表的表头含“{kind.columns[0]}”"))
        return []
    if default:
        issues.append(Issue(INFO, "default_used", f"工作目录中没有{kind.file}，使用内置的默认{kind.what}（上街区）",
                            file=kind.file, fix=f"运行 zg-excel init 可生成{kind.file}，按本区实际修改"))
    issues.extend(validate_rows(rows, kind, rules, file))
    return rows


def check_settings(workdir: Path) -> list[Issue]:
    """Every problem of the folder's rules file, roster and catalog (no error: the merge can run).

    Codes: ``rules_*`` (a rules key), ``roster_*`` / ``catalog_*`` (a row of the
    table), and the cross-checks ``section_category_unknown``,
    ``no_section_units``, ``provincial_outlet_unknown``,
    ``district_adopter_unknown`` / ``district_adopter_level``. ``default_used``
    (info) says a shipped default stands in for a missing file.
    """
    workdir = Path(workdir)
    rules_file = workdir / RULES_FILE
    issues = rules_issues(rules_file)
    try:
        rules = load_rules(rules_file)
    except ConfigError:
        rules = load_rules(None)
        issues.append(Issue(INFO, "rules_fallback", "规则文件有误，未能完整读取；下面检查名册和媒体目录时，类别和级别按内置默认规则识别",
                            file=RULES_FILE))
    if not rules_file.exists():
        issues.append(Issue(INFO, "default_used", f"工作目录中没有{RULES_FILE}，使用内置的默认计分规则",
                            file=RULES_FILE, fix="运行 zg-excel init 可生成 rules.toml"))
    roster_rows = _table(workdir, ROSTER, rules, issues)
    catalog_rows = _table(workdir, CATALOG, rules, issues)
    issues.extend(_cross_checks(workdir, rules, roster_rows, catalog_rows))
    return issues


def _cross_checks(workdir: Path, rules: Rules, roster_rows, catalog_rows) -> list[Issue]:
    """Names in one file that must exist in another (as written, even when the rules do not load)."""
    data, _, _ = read_rules_data(workdir / RULES_FILE)
    cats = data.get("categories") if isinstance(data.get("categories"), dict) else {}
    category_names = [str(c) for c in cats] or list(rules.categories)
    liaison = data.get("liaison") if isinstance(data.get("liaison"), dict) else {}
    section = liaison.get("section_category", rules.section_category)
    district = data.get("district") if isinstance(data.get("district"), dict) else {}
    adopters = district.get("adopters", rules.district_adopters)
    adopters = [a for a in adopters if isinstance(a, str)] if isinstance(adopters, (list, tuple)) else []
    issues: list[Issue] = []
    shown = "、".join(category_names)
    if not isinstance(section, str) or section not in category_names:
        issues.append(Issue(ERROR, "section_category_unknown",
                            f"对口处室类别 liaison.section_category = “{section}”不是考核类别（{shown}）",
                            file=RULES_FILE, column="liaison.section_category", value=str(section),
                            fix="请改为名册中对口处室（科室）所用的类别名称"))
    elif roster_rows and not any(rec.get("类别") == section for _, rec in roster_rows):
        issues.append(Issue(ERROR, "no_section_units",
                            f"单位名册中没有类别为“{section}”的单位，对口处室无人可选，经对口处室的积分和报送无法计入",
                            file=ROSTER.file, column="类别", value=section,
                            fix=f"请在名册中列出区委组织部各科室，类别填“{section}”"))
    outlets: dict[str, tuple[str, str | None]] = {}
    for _, rec in catalog_rows:
        name = rec.get("媒体名称", "")
        if name:
            level = rules.level_of(rec.get("级别", "")) if rec.get("级别") else None
            for n in (name, *split_aliases(rec.get("别名"))):
                outlets.setdefault(normalize_key(n), (name, level))
    for cat_name, c in cats.items():
        names = c.get("provincial_outlets", []) if isinstance(c, dict) else []
        for o in names if isinstance(names, list) else []:
            if isinstance(o, str) and normalize_key(o) not in outlets:
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
