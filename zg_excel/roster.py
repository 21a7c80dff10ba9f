"""The roster (单位名册) and the media catalog (媒体目录): names, aliases, categories, levels.

Both are data the user edits in Excel. The shipped defaults (``defaults/*.csv``)
describe 上街区; a working folder's ``单位名册.xlsx`` / ``媒体目录.xlsx`` replace them.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from .issues import ERROR, Issue
from .rules import ConfigError, Rules
from .text import safe_filename
from .values import clean_text, normalize_header, normalize_key

ROSTER_COLUMNS = ("单位名称", "类别", "别名", "联系人", "邮箱", "备注")
CATALOG_COLUMNS = ("媒体名称", "级别", "类别", "别名", "备注")

_ALIAS_SPLIT = re.compile(r"[;；,，、/\n]+")


def split_aliases(text: str | None) -> tuple[str, ...]:
    if not text:
        return ()
    return tuple(a.strip() for a in _ALIAS_SPLIT.split(text) if a.strip())


@dataclass(frozen=True)
class Unit:
    name: str
    category: str
    aliases: tuple[str, ...] = ()
    contact: str = ""
    email: str = ""
    note: str = ""
    order: int = 0  # position in the roster: the order of every listing


@dataclass(frozen=True)
class Outlet:
    name: str
    level: str
    group: str = ""  # 七报 / 三刊 / 六台 / 一社 / …
    aliases: tuple[str, ...] = ()
    note: str = ""


@dataclass
class Roster:
    units: list[Unit]
    source: str = "默认名册"
    _lookup: dict[str, Unit] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for u in self.units:
            for n in (u.name, *u.aliases):
                self._lookup.setdefault(normalize_key(n), u)

    def find(self, text: str | None) -> Unit | None:
        """The unit named (or aliased) exactly by ``text``, after normalization."""
        if not text:
            return None
        return self._lookup.get(normalize_key(text))

    def find_in(self, text: str) -> Unit | None:
        """The unit whose name or alias occurs inside ``text`` (a file name); longest wins.

        Returns None when nothing matches or when two different units match
        equally well (the name is ambiguous and must not be guessed).
        """
        key = normalize_key(text)
        best: list[tuple[int, Unit]] = []
        for alias, unit in self._lookup.items():
            if alias and alias in key:
                best.append((len(alias), unit))
        if not best:
            return None
        best.sort(key=lambda t: -t[0])
        top = best[0][0]
        winners = {u.name for n, u in best if n == top}
        return best[0][1] if len(winners) == 1 else None

    def closest(self, text: str, limit: int = 3) -> list[str]:
        """The roster names closest to ``text`` (by name or alias), for a "unit not found" message."""
        from rapidfuzz import fuzz, process

        if not normalize_key(text):
            return []
        choices = {normalize_key(n): u.name for u in self.units for n in (u.name, *u.aliases)}
        found = process.extract(normalize_key(text), list(choices), scorer=fuzz.WRatio, limit=limit * 3)
        top = found[0][1] if found else 0
        names: list[str] = []
        for key, score, _ in found:
            name = choices[key]
            if score >= 60 and score >= top - 10 and name not in names:  # only names about as close as the best
                names.append(name)
        return names[:limit]

    def sections(self, category: str) -> list[Unit]:
        return [u for u in self.units if u.category == category]

    def __iter__(self):
        return iter(self.units)


@dataclass
class Catalog:
    outlets: list[Outlet]
    source: str = "默认媒体目录"
    _lookup: dict[str, Outlet] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for o in self.outlets:
            for n in (o.name, *o.aliases):
                self._lookup.setdefault(normalize_key(n), o)

    def find(self, text: str | None) -> Outlet | None:
        if not text:
            return None
        return self._lookup.get(normalize_key(text))

    def suggest(self, text: str, limit: int = 3) -> list[str]:
        """The closest catalog names, for an unknown outlet's message."""
        from .fuzzy import extract

        choices = {normalize_key(n): o.name for o in self.outlets for n in (o.name, *o.aliases)}
        found = extract(normalize_key(text), list(choices), "wratio", limit=limit * 3)
        names: list[str] = []
        for key, score, _ in found:
            name = choices[key]
            if score >= 50 and name not in names:
                names.append(name)
        return names[:limit]


def _read_table(path: Path, columns: tuple[str, ...], what: str) -> list[tuple[int, dict[str, str]]]:
    """Rows of the first sheet of a small user-edited workbook, by header name.

    calamine, not openpyxl: the roster is read on every run, and openpyxl's
    import alone costs a third of a second (``zg-excel check`` on one file).
    """
    from .intake.readers import first_sheet_rows

    try:
        rows = first_sheet_rows(str(path))
    except Exception as exc:  # any failure to open is a set-up error for this file
        raise ConfigError(f"{what} {path.name} 无法打开（请用 Excel/WPS 另存为 .xlsx）：{exc}") from None
    return _rows_by_header(rows, columns, what, path.name)


def _rows_by_header(rows, columns, what, name) -> list[tuple[int, dict[str, str]]]:
    wanted = {normalize_header(c): c for c in columns}
    header_at = None
    index: dict[str, int] = {}
    for r, row in enumerate(rows[:10]):
        found = {wanted[normalize_header(v)]: i for i, v in enumerate(row) if v is not None
                 and normalize_header(v) in wanted}
        if columns[0] in found:
            header_at, index = r, found
            break
    if header_at is None:
        raise ConfigError(f"{what} {name}：前10行中找不到表头“{columns[0]}”")
    out = []
    for r in range(header_at + 1, len(rows)):
        row = rows[r]
        rec = {c: (_cell_text(c, row[i]) if i < len(row) else None) or "" for c, i in index.items()}
        if any(rec.values()):
            out.append((r + 1, rec))
    return out


_RAW_COLUMNS = ("邮箱",)  # kept as typed: a line break there must be refused, not joined into a space


def _cell_text(column: str, value) -> str | None:
    if column in _RAW_COLUMNS and isinstance(value, str):
        return value.strip() or None
    return clean_text(value)


def _default_rows(name: str) -> list[tuple[int, dict[str, str]]]:
    text = resources.files("zg_excel").joinpath(f"defaults/{name}").read_text(encoding="utf-8")
    reader = csv.DictReader(io.StringIO(text))
    return [(i + 2, {k: (v or "").strip() for k, v in row.items()}) for i, row in enumerate(reader)]


def default_roster_rows() -> list[dict[str, str]]:
    return [r for _, r in _default_rows("roster.csv")]


def default_catalog_rows() -> list[dict[str, str]]:
    return [r for _, r in _default_rows("media.csv")]


_EMAIL_SPLIT = re.compile(r"[,，;；、\s]+")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = re.compile(r"[^<>,，;；、]*<([^<>]+)>")
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>.]+$")


def _bad_addresses(text: str) -> list[str]:
    """The pieces of an 邮箱 cell that are not an address (several may be given, separated by ; , 、 or spaces)."""
    text = _NAMED.sub(r"\1", text.strip())  # 张三 <a@b.cn> → a@b.cn
    return [piece for piece in _EMAIL_SPLIT.split(text) if piece and not _EMAIL.match(piece)]


@dataclass(frozen=True)
class TableKind:
    """What sets a settings table apart: its columns, what the office calls it, its issue codes' prefix.

    Its file (name and path) is the working folder's business: ``Workspace.table_file(kind)``."""

    columns: tuple[str, ...]
    what: str  # 单位名册 / 媒体目录
    item: str  # 单位 / 媒体
    code: str  # roster / catalog
    default: str  # the shipped csv


ROSTER = TableKind(ROSTER_COLUMNS, "单位名册", "单位", "roster", "roster.csv")
CATALOG = TableKind(CATALOG_COLUMNS, "媒体目录", "媒体", "catalog", "media.csv")


def validate_rows(rows: list[tuple[int, dict[str, str]]], kind: TableKind, rules: Rules,
                  file: str | None = None) -> list[Issue]:
    """Every problem of the rows of a roster or catalog (empty: all good), each naming its row and column.

    A table with a header and no row, a row without a name, a unit without a
    valid 类别 (one of the rules' categories) or with an 邮箱 that is not an
    address, an outlet whose 级别 is not a level, the same name listed twice,
    and a name or alias given to two different entries are errors.
    """
    file = file or kind.what  # the caller names the file it read
    name_col = kind.columns[0]
    issues: list[Issue] = []
    if not rows:
        issues.append(Issue(ERROR, f"{kind.code}_empty", f"{kind.what}只有表头，没有任何{kind.item}", file=file,
                            fix=f"请在表头下逐行填写{kind.item}（可参照 zg-excel init 新建的{kind.what}）"))
        return issues
    categories = "、".join(rules.categories)
    levels = "/".join(rules.levels)
    for r, rec in rows:
        name = rec.get(name_col, "")
        if not name:
            issues.append(Issue(ERROR, f"{kind.code}_no_name", f"{name_col}为空", file=file, row=r, column=name_col,
                                fix=f"请填写{name_col}，或删除这一行"))
            continue
        if kind is ROSTER:
            cat = rec.get("类别", "")
            if not cat:
                issues.append(Issue(ERROR, "roster_no_category", f"“{name}”没有填写类别（应为 {categories} 之一）",
                                    file=file, row=r, column="类别", fix=f"请填写类别：{categories} 之一"))
            elif cat not in rules.categories:
                issues.append(Issue(ERROR, "roster_unknown_category",
                                    f"“{name}”的类别“{cat}”不是规则文件中的考核类别（{categories}）",
                                    file=file, row=r, column="类别", value=cat,
                                    fix=f"请把类别改为 {categories} 之一；要增加类别，请在 rules.toml 中增加 "
                                        f"[categories.\"{cat}\"]"))
            email = rec.get("邮箱", "")
            if _CONTROL.search(email):
                shown = _CONTROL.sub("↵", email)
                issues.append(Issue(ERROR, "roster_bad_email", f"“{name}”的邮箱“{shown}”中含有换行或控制字符，不能作为收件地址",
                                    file=file, row=r, column="邮箱", value=shown,
                                    fix="请删掉单元格中的换行，只写邮箱地址，多个地址用分号分隔；没有可留空"))
            elif _bad_addresses(email):
                issues.append(Issue(ERROR, "roster_bad_email", f"“{name}”的邮箱“{rec.get('邮箱', '')}”不是邮箱地址",
                                    file=file, row=r, column="邮箱", value=rec.get("邮箱", ""),
                                    fix="请写成 name@example.gov.cn 的形式，多个地址用分号分隔；没有可留空"))
        else:
            level_text = rec.get("级别", "")
            if (rules.level_of(level_text) if level_text else None) is None:
                issues.append(Issue(ERROR, "catalog_unknown_level",
                                    f"“{name}”的级别“{level_text}”无法识别（应为 {levels}）",
                                    file=file, row=r, column="级别", value=level_text,
                                    fix=f"请把级别改为 {levels} 之一"))
    issues.extend(_alias_clashes(rows, kind, file))
    if kind is ROSTER:
        issues.extend(_file_name_clashes(rows, file))
    return issues


def _file_name_clashes(rows: list[tuple[int, dict[str, str]]], file: str) -> list[Issue]:
    """Two units whose names make the same file name (登记表, 退回单, 催报 are named after the unit):
    ``甲/乙`` and ``甲:乙`` both become ``甲_乙``; Windows does not tell ``ab`` from ``AB``."""
    issues: list[Issue] = []
    owner: dict[str, tuple[str, int]] = {}
    for r, rec in rows:
        name = rec.get("单位名称", "")
        if not name:
            continue
        shown = safe_filename(name, "")
        key = shown.casefold()
        other = owner.setdefault(key, (name, r))
        if other[0] != name and normalize_key(other[0]) != normalize_key(name):  # else reported as a duplicate
            issues.append(Issue(ERROR, "roster_filename_clash",
                                f"“{other[0]}”（第{other[1]}行）和“{name}”作为文件名是同一个（“{shown}”），"
                                f"两个单位的登记表、退回单会互相覆盖",
                                file=file, row=r, column="单位名称", value=name,
                                fix="请修改其中一个单位名称，使两者去掉 \\ / : * ? \" < > | 等符号、不分大小写后仍然不同"))
    return issues


def _alias_clashes(rows: list[tuple[int, dict[str, str]]], kind: TableKind, file: str) -> list[Issue]:
    name_col = kind.columns[0]
    code = f"{kind.code}_alias_conflict"
    issues: list[Issue] = []
    owner: dict[str, tuple[str, int]] = {}
    for r, rec in rows:
        name = rec.get(name_col, "")
        if not name:
            continue
        first = owner.get(normalize_key(name))
        if first is not None and first[0] == name and first[1] != r:
            issues.append(Issue(ERROR, f"{kind.code}_duplicate", f"“{name}”在第{first[1]}行已经出现过",
                                file=file, row=r, column=name_col, value=name, fix="请删掉重复的一行"))
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
                                    fix=f"一个名称或别名只能属于一个{kind.item}，请删掉其中一处"))
            elif k in owner and owner[k][1] != r:
                issues.append(Issue(ERROR, f"{kind.code}_duplicate", f"“{name}”在第{owner[k][1]}行已经出现过",
                                    file=file, row=r, column=name_col, value=n, fix="请删掉重复的一行"))
            else:
                owner.setdefault(k, (name, r))
    return issues


def table_rows(path: Path | None, kind: TableKind) -> tuple[list[tuple[int, dict[str, str]]], str, bool]:
    """The rows of the table in ``path`` (or the shipped default when there is no such file), the name to show,
    and whether it is the default.

    Raises :class:`ConfigError` when the file cannot be opened or has no header.
    """
    path = Path(path) if path else None
    if path is not None and path.exists():
        return _read_table(path, kind.columns, kind.what), path.name, False
    return _default_rows(kind.default), f"{kind.default}（内置）", True


def _raise_on_errors(issues: list[Issue], what: str, source: str) -> None:
    errors = [i for i in issues if i.severity == ERROR]
    if errors:
        lines = []
        for i in errors:
            where = " / ".join(p for p in (f"第{i.row}行" if i.row else "", i.column) if p)
            lines.append(f"  - {where}：{i.message}" if where else f"  - {i.message}")
        raise ConfigError(f"{what}（{source}）有误：\n" + "\n".join(lines), errors)


def load_roster(path: Path | None, rules: Rules) -> Roster:
    """The roster in ``path`` (``Workspace.roster_file``); the shipped one when None or absent."""
    rows, file, default = table_rows(path, ROSTER)
    source = "默认名册（上街区）" if default else file
    _raise_on_errors(validate_rows(rows, ROSTER, rules, file), "单位名册", source)
    units = [Unit(name=rec["单位名称"], category=rec["类别"], aliases=split_aliases(rec.get("别名")),
                  contact=rec.get("联系人", ""), email=rec.get("邮箱", ""), note=rec.get("备注", ""), order=i)
             for i, (_, rec) in enumerate(rows)]
    return Roster(units=units, source=source)


def load_catalog(path: Path | None, rules: Rules) -> Catalog:
    """The catalog in ``path`` (``Workspace.catalog_file``); the shipped one when None or absent."""
    rows, file, default = table_rows(path, CATALOG)
    source = "默认媒体目录（上街区）" if default else file
    _raise_on_errors(validate_rows(rows, CATALOG, rules, file), "媒体目录", source)
    outlets = []
    for _, rec in rows:
        level = rules.level_of(rec["级别"])
        assert level is not None  # validate_rows passed it
        outlets.append(Outlet(name=rec["媒体名称"], level=level, group=rec.get("类别", ""),
                              aliases=split_aliases(rec.get("别名")), note=rec.get("备注", "")))
    return Catalog(outlets=outlets, source=source)
