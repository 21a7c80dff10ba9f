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

from .rules import ConfigError, Rules
from .values import clean_text, normalize_header, normalize_key

ROSTER_FILE = "单位名册.xlsx"
CATALOG_FILE = "媒体目录.xlsx"
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
        from rapidfuzz import fuzz, process

        choices = {normalize_key(n): o.name for o in self.outlets for n in (o.name, *o.aliases)}
        found = process.extract(normalize_key(text), list(choices), scorer=fuzz.WRatio, limit=limit * 3)
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
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_path(str(path))
        rows = wb.get_sheet_by_index(0).to_python(skip_empty_area=False)
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
        rec = {c: (clean_text(row[i]) if i < len(row) else None) or "" for c, i in index.items()}
        if any(rec.values()):
            out.append((r + 1, rec))
    return out


def _default_rows(name: str) -> list[tuple[int, dict[str, str]]]:
    text = resources.files("zg_excel").joinpath(f"defaults/{name}").read_text(encoding="utf-8")
    reader = csv.DictReader(io.StringIO(text))
    return [(i + 2, {k: (v or "").strip() for k, v in row.items()}) for i, row in enumerate(reader)]


def default_roster_rows() -> list[dict[str, str]]:
    return [r for _, r in _default_rows("roster.csv")]


def default_catalog_rows() -> list[dict[str, str]]:
    return [r for _, r in _default_rows("media.csv")]


def load_roster(workdir: Path | None, rules: Rules) -> Roster:
    path = Path(workdir) / ROSTER_FILE if workdir else None
    if path is not None and path.exists():
        rows, source = _read_table(path, ROSTER_COLUMNS, "单位名册"), str(path.name)
    else:
        rows, source = _default_rows("roster.csv"), "默认名册（上街区）"
    errors: list[str] = []
    units: list[Unit] = []
    seen: dict[str, str] = {}
    for r, rec in rows:
        name = rec.get("单位名称", "")
        if not name:
            errors.append(f"第{r}行：单位名称为空")
            continue
        cat = rec.get("类别", "")
        if cat not in rules.categories:
            errors.append(f"第{r}行“{name}”：类别“{cat}”不在规则文件的类别中（{'、'.join(rules.categories)}）")
            continue
        unit = Unit(name=name, category=cat, aliases=split_aliases(rec.get("别名")),
                    contact=rec.get("联系人", ""), email=rec.get("邮箱", ""), note=rec.get("备注", ""),
                    order=len(units))
        for n in (unit.name, *unit.aliases):
            k = normalize_key(n)
            if k in seen and seen[k] != name:
                errors.append(f"第{r}行：名称或别名“{n}”已属于“{seen[k]}”")
            seen[k] = name
        units.append(unit)
    if errors:
        raise ConfigError(f"单位名册（{source}）有误：\n" + "\n".join(f"  - {e}" for e in errors))
    return Roster(units=units, source=source)


def load_catalog(workdir: Path | None, rules: Rules) -> Catalog:
    path = Path(workdir) / CATALOG_FILE if workdir else None
    if path is not None and path.exists():
        rows, source = _read_table(path, CATALOG_COLUMNS, "媒体目录"), str(path.name)
    else:
        rows, source = _default_rows("media.csv"), "默认媒体目录（上街区）"
    errors: list[str] = []
    outlets: list[Outlet] = []
    seen: dict[str, str] = {}
    for r, rec in rows:
        name = rec.get("媒体名称", "")
        level = rules.level_of(rec.get("级别", "")) if rec.get("级别") else None
        if not name:
            errors.append(f"第{r}行：媒体名称为空")
            continue
        if level is None:
            errors.append(f"第{r}行“{name}”：级别“{rec.get('级别', '')}”无法识别（{'/'.join(rules.levels)}）")
            continue
        outlet = Outlet(name=name, level=level, group=rec.get("类别", ""),
                        aliases=split_aliases(rec.get("别名")), note=rec.get("备注", ""))
        for n in (outlet.name, *outlet.aliases):
            k = normalize_key(n)
            if k in seen and seen[k] != name:
                errors.append(f"第{r}行：名称或别名“{n}”同时属于“{seen[k]}”和“{name}”")
            seen[k] = name
        outlets.append(outlet)
    if errors:
        raise ConfigError(f"媒体目录（{source}）有误：\n" + "\n".join(f"  - {e}" for e in errors))
    return Catalog(outlets=outlets, source=source)
