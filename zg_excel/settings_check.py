"""Check a working folder's settings — rules file, roster, catalog and 通报 template — all at once.

The loaders stop at the first file with a problem; this joins the validators
they use (:func:`zg_excel.rules.rules_issues`, :func:`zg_excel.roster.validate_rows`)
over all three files, adds the checks that span two of them, tries the folder's
通报 template on sample results (:func:`bulletin_template_issues`, which ``merge``
also calls before it reads any return), and lists every problem as an ``Issue``
naming the file, the row (or the rules key, or the template line) and what to do,
so the office can fix all of them in one go (``zg-excel rules check``).
"""

from __future__ import annotations

import datetime as dt
import re
import traceback
from pathlib import Path

from .issues import ERROR, INFO, WARNING, Issue
from .roster import (
    CATALOG,
    ROSTER,
    Catalog,
    Roster,
    TableKind,
    load_catalog,
    load_roster,
    split_aliases,
    table_rows,
    validate_rows,
)
from .rules import (
    RULES_FILE,
    ConfigError,
    Rules,
    load_rules,
    read_rules_data,
    rules_issues,
)
from .values import normalize_key
from .workspace import BULLETIN_TEMPLATE, ROSTER_FILE, Workspace


def _table(workdir: Path, kind: TableKind, rules: Rules, issues: list[Issue]) -> list[tuple[int, dict[str, str]]]:
    path = Workspace(workdir).table_file(kind)
    try:
        rows, file, default = table_rows(path, kind)
    except ConfigError as exc:
        issues.append(Issue(ERROR, "table_unreadable", str(exc), file=path.name,
                            fix=f"请用 Excel/WPS 打开{kind.what}，确认第一个工作表的表头含“{kind.columns[0]}”"))
        return []
    if default:
        issues.append(Issue(INFO, "default_used", f"工作目录中没有{path.name}，使用内置的默认{kind.what}（上街区）",
                            file=path.name, fix=f"运行 zg-excel init 可生成{path.name}，按本区实际修改"))
    issues.extend(validate_rows(rows, kind, rules, file))
    return rows


def check_settings(workdir: Path) -> list[Issue]:
    """Every problem of the folder's rules file, roster and catalog (no error: the merge can run).

    Codes: ``rules_*`` (a rules key), ``roster_*`` / ``catalog_*`` (a row of the
    table), and the cross-checks ``section_category_unknown``,
    ``no_section_units``, ``provincial_outlet_unknown``,
    ``district_adopter_unknown`` / ``district_adopter_level``, ``template_error`` /
    ``template_unreadable`` (the 通报 template). ``default_used``
    (info) says a shipped default stands in for a missing file.
    """
    workdir = Path(workdir)
    rules_file = Workspace(workdir).rules_file
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
    try:
        ws = Workspace(workdir)
        roster, catalog = load_roster(ws.roster_file, rules), load_catalog(ws.catalog_file, rules)
    except ConfigError:  # reported above; the template is tried on the shipped lists
        roster, catalog = load_roster(None, rules), load_catalog(None, rules)
    issues.extend(bulletin_template_issues(workdir, rules, roster, catalog))
    return issues


# ---------------------------------------------------------------------------
# The 通报 template (templates/通报.txt.j2), which users are told to edit.

TEMPLATE_SHOWN = f"templates/{BULLETIN_TEMPLATE}"
_TEMPLATE_FIX = (f"用记事本打开 {TEMPLATE_SHOWN} 改正这一处（可用的变量见 README“通报模板”一节）；"
                 f"改不好时可删除这个文件，zg-excel init 会重新生成默认模板")
_JINJA_ZH = (  # jinja2's words → Chinese (its messages are English)
    (re.compile(r"Unexpected end of template.*?looking for the following tags: (.+?)\.(?:.*?needs to be closed is '(\w+)')?"),
     lambda m: ("结尾处：" + (f"有一个 {{% {m.group(2)} %}} 没有结束，" if m.group(2) else "") + "缺少结束标记（应有 "
                + re.sub(r"'([^']+)'", r"{% \1 %}", m.group(1)).replace(" or ", " 或 ") + "）")),
    (re.compile(r"Unexpected end of template"), lambda m: "结尾处：缺少结束标记（如 {% endif %}、{% endfor %}）"),
    (re.compile(r"Encountered unknown tag '([^']+)'"), lambda m: f"无法识别的标记“{m.group(1)}”（标记写在 {{% %}} 中）"),
    (re.compile(r"unexpected end of template"), lambda m: "标记没有闭合（{{ 要配 }}，{% 要配 %}）"),
    (re.compile(r"unexpected '(.+?)'"), lambda m: f"多余或不配对的“{m.group(1)}”"),
    (re.compile(r"expected token '(.+?)', got '(.+?)'"), lambda m: f"此处应为“{m.group(1)}”，实际为“{m.group(2)}”"),
    (re.compile(r"no filter named '([^']+)'", re.IGNORECASE), lambda m: f"没有名为“{m.group(1)}”的过滤器"),
    (re.compile(r"'([^']+)' is undefined"), lambda m: f"变量“{m.group(1)}”不存在"),
    (re.compile(r"has no attribute '([^']+)'"), lambda m: f"没有“{m.group(1)}”这一项"),
)


def _jinja_zh(message: str) -> str:
    for pattern, words in _JINJA_ZH:
        m = pattern.search(message)
        if m:
            return words(m)
    return "写法不符合模板格式"


def _template_line(exc: BaseException) -> int | None:
    line = getattr(exc, "lineno", None)
    if line:
        return line
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == "<template>"]
    return frames[-1].lineno if frames else None


def bulletin_template_issues(workdir: Path, rules: Rules, roster: Roster, catalog: Catalog) -> list[Issue]:
    """The problems of the folder's 通报 template: it is compiled and rendered (undefined names are
    errors) against sample results, mid-year and at year end, before any return is read.

    The shipped template is not checked (tests do); a folder without its own has no problem here.
    """
    import jinja2

    from .merge import score_books
    from .outputs.bulletin import render_text

    path = Workspace(workdir).bulletin_template_file
    if not path.is_file():
        return []
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        return [Issue(ERROR, "template_unreadable", f"通报模板 {TEMPLATE_SHOWN} 不是 UTF-8 编码", file=TEMPLATE_SHOWN,
                      fix="请用记事本打开，另存为时编码选“UTF-8”")]
    except OSError as exc:
        return [Issue(ERROR, "template_unreadable", f"通报模板 {TEMPLATE_SHOWN} 无法读取：{exc.strerror or exc}",
                      file=TEMPLATE_SHOWN, fix="请确认文件没有被其他程序占用、有读取权限")]
    year = dt.date.today().year
    unknown = _unknown_names(text, score_books([], year=year, as_of=dt.date(year, 9, 30), rules=rules, roster=roster,
                                              catalog=catalog))
    if unknown:
        return [unknown]
    for as_of in (dt.date(year, 9, 30), dt.date(year, 12, 31)):
        sample = score_books([], year=year, as_of=as_of, rules=rules, roster=roster, catalog=catalog)
        try:
            render_text(sample, text, issued=as_of)
        except jinja2.TemplateError as exc:
            line = None if "Unexpected end of template" in str(exc) else _template_line(exc)  # jinja's line: the last
            where = f"第{line}行：" if line else ""  # one read, not the unclosed tag's
            return [Issue(ERROR, "template_error", f"通报模板 {TEMPLATE_SHOWN} {where}{_jinja_zh(str(exc))}",
                          file=TEMPLATE_SHOWN, row=line, fix=_TEMPLATE_FIX)]
        except Exception as exc:  # noqa: BLE001 - a filter or test of the template failed on the sample
            line = _template_line(exc)
            where = f"第{line}行：" if line else ""
            return [Issue(ERROR, "template_error", f"通报模板 {TEMPLATE_SHOWN} {where}这一处无法计算，请检查运算和比较的写法",
                          file=TEMPLATE_SHOWN, row=line, fix=_TEMPLATE_FIX)]
    return []


def _unknown_names(text: str, sample) -> Issue | None:
    """A name the template uses that the bulletin's context lacks, on any branch (rendering finds only
    those on the branches the sample takes)."""
    import jinja2
    from jinja2 import meta, nodes

    from .outputs.bulletin import build_context, cn

    env = jinja2.Environment()
    env.filters["cn"] = cn
    try:
        tree = env.parse(text)
        unknown = meta.find_undeclared_variables(tree) - set(build_context(sample)) - set(env.globals)
    except jinja2.TemplateError:
        return None  # rendering reports it, with its line
    if not unknown:
        return None
    first = min((n for n in tree.find_all(nodes.Name) if n.name in unknown and n.ctx == "load"),
                key=lambda n: n.lineno)
    return Issue(ERROR, "template_error", f"通报模板 {TEMPLATE_SHOWN} 第{first.lineno}行：变量“{first.name}”不存在",
                 file=TEMPLATE_SHOWN, row=first.lineno, fix=_TEMPLATE_FIX)


def bulletin_template_error(workdir: Path, rules: Rules, roster: Roster, catalog: Catalog) -> str | None:
    """The message for ``merge`` (before it reads any return) when the 通报 template has a problem."""
    found = [i for i in bulletin_template_issues(workdir, rules, roster, catalog) if i.severity == ERROR]
    return "\n".join(f"{i.message}\n修改方法：{i.fix}" for i in found) or None


def _cross_checks(workdir: Path, rules: Rules, roster_rows, catalog_rows) -> list[Issue]:
    """Names in one file that must exist in another (as written, even when the rules do not load)."""
    data, _, _ = read_rules_data(Workspace(workdir).rules_file)
    cats = data.get("categories") if isinstance(data.get("categories"), dict) else {}
    liaison = data.get("liaison") if isinstance(data.get("liaison"), dict) else {}
    district = data.get("district") if isinstance(data.get("district"), dict) else {}
    adopters = district.get("adopters", rules.district_adopters)
    outlets: list[tuple[str, tuple[str, ...], str | None]] = []
    for _, rec in catalog_rows:
        if rec.get("媒体名称", ""):
            level = rules.level_of(rec.get("级别", "")) if rec.get("级别") else None
            outlets.append((rec["媒体名称"], split_aliases(rec.get("别名")), level))
    provincial = {str(name): (c.get("provincial_outlets", []) if isinstance(c, dict) else []) for name, c in cats.items()}
    return cross_issues(
        category_names=[str(c) for c in cats] or list(rules.categories),
        section=liaison.get("section_category", rules.section_category),
        provincial=provincial,
        adopters=[a for a in adopters if isinstance(a, str)] if isinstance(adopters, (list, tuple)) else [],
        unit_categories=[rec.get("类别") for _, rec in roster_rows] if roster_rows else None,
        outlets=outlets,
        lowest=rules.levels[0],
    )


def loaded_settings_issues(rules: Rules, roster: Roster, catalog: Catalog) -> list[Issue]:
    """The cross-checks of :func:`check_settings` on settings that loaded (what every command that
    loads them runs, through ``commands.common.load_settings``, before any return is read)."""
    return cross_issues(
        category_names=list(rules.categories),
        section=rules.section_category,
        provincial={name: list(c.provincial_outlets) for name, c in rules.categories.items()},
        adopters=list(rules.district_adopters),
        unit_categories=[u.category for u in roster.units] if roster.units else None,
        outlets=[(o.name, o.aliases, o.level) for o in catalog.outlets],
        lowest=rules.levels[0],
    )


def settings_error(rules: Rules, roster: Roster, catalog: Catalog) -> str | None:
    """The message (each error with its fix, as ``rules check`` words it) when the loaded settings
    fail a cross-check; None when they pass."""
    found = sorted((i for i in loaded_settings_issues(rules, roster, catalog) if i.severity == ERROR),
                   key=lambda i: i.sort_key())
    if not found:
        return None
    lines = ["设置有误（可运行 zg-excel rules check 一次列出全部问题）："]
    for i in found:
        where = i.where()
        lines.append("  - " + (f"{where}：" if where else "") + i.message + (f"\n    修改方法：{i.fix}" if i.fix else ""))
    return "\n".join(lines)


def cross_issues(*, category_names: list[str], section, provincial: dict[str, object], adopters: list[str],
                 unit_categories: list | None, outlets: list[tuple[str, tuple[str, ...], str | None]],
                 lowest: str) -> list[Issue]:
    """The checks that span two settings files, on plain values (as written, or as loaded):
    the 对口处室 category exists and has units, every 省级刊物 and district adopter is in the catalog."""
    by_name: dict[str, tuple[str, str | None]] = {}
    for name, aliases, level in outlets:
        for n in (name, *aliases):
            by_name.setdefault(normalize_key(n), (name, level))
    issues: list[Issue] = []
    shown = "、".join(category_names)
    if not isinstance(section, str) or section not in category_names:
        issues.append(Issue(ERROR, "section_category_unknown",
                            f"对口处室类别 liaison.section_category = “{section}”不是考核类别（{shown}）",
                            file=RULES_FILE, column="liaison.section_category", value=str(section),
                            fix="请改为名册中对口处室（科室）所用的类别名称"))
    elif unit_categories and section not in unit_categories:
        issues.append(Issue(ERROR, "no_section_units",
                            f"单位名册中没有类别为“{section}”的单位，对口处室无人可选，经对口处室的积分和报送无法计入",
                            file=ROSTER_FILE, column="类别", value=section,
                            fix=f"请在名册中列出区委组织部各科室，类别填“{section}”"))
    for cat_name, names in provincial.items():
        for o in names if isinstance(names, list) else []:
            if isinstance(o, str) and normalize_key(o) not in by_name:
                key = f"categories.{cat_name}.provincial_outlets"
                issues.append(Issue(ERROR, "provincial_outlet_unknown",
                                    f"{key} 中的“{o}”不在媒体目录中，该项考核永远无法达到",
                                    file=RULES_FILE, column=key, value=o,
                                    fix=f"请在媒体目录中增加“{o}”，或把 rules.toml 中的名称改成目录中的名称"))
    for o in adopters:
        found = by_name.get(normalize_key(o))
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
