"""The working folder of one assessment year: every path and output file name, ``init``, settings.

Layout (created by ``zg-excel init``)::

    zg-excel.toml  (the folder's record: its assessment year)
    单位名册.xlsx  媒体目录.xlsx  rules.toml  templates/通报.txt.j2
    inbox/   (returns go here)
    outbox/  <year>年组工信息报送登记表-<单位>.xlsx   (templates come out here)
    output/  <year>年组工信息考核汇总表.xlsx  通报.txt  通报.docx  result.json
             退回/退回单-<单位>.xlsx  催报/<单位>.txt  催报/催报汇总.txt
             mail/已发送记录.jsonl

``Workspace`` is the one owner of these names: writers and the mailer ask it for
a path (``ws.summary_path(2026)``, ``ws.reminder_path(unit)``) and never build
one themselves. Atomic writing lives in ``files``.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import unicodedata
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import tomllib

from .files import atomic_target, atomic_write_bytes
from .roster import (
    CATALOG,
    CATALOG_COLUMNS,
    ROSTER_COLUMNS,
    Catalog,
    Roster,
    TableKind,
    default_catalog_rows,
    default_roster_rows,
    load_catalog,
    load_roster,
)
from .rules import RULES_FILE, ConfigError, Rules, default_rules_text, load_rules
from .text import safe_filename

BULLETIN_TEMPLATE = "通报.txt.j2"
# RULES_FILE (rules.toml) is named once, in rules.py, whose messages say it; its path is Workspace.rules_file
ROSTER_FILE = "单位名册.xlsx"
CATALOG_FILE = "媒体目录.xlsx"
MAIL_SETTINGS = "mail.toml"  # [smtp] of ``zg-excel mail`` (never a password)
FOLDER_FILE = "zg-excel.toml"  # the working folder's record: ``year = 2026`` (its assessment year)

# Output file names (stable: users, mail rules and tests refer to them).
TEMPLATE_STEM = "组工信息报送登记表"  # <year>年组工信息报送登记表-<单位>.xlsx
SUMMARY_STEM = "组工信息考核汇总表"  # <year>年组工信息考核汇总表.xlsx
BULLETIN_TXT = "通报.txt"
BULLETIN_DOCX = "通报.docx"
RESULT_JSON = "result.json"
RETURNSLIPS_DIR = "退回"
RETURNSLIP_PREFIX = "退回单-"
REMINDERS_DIR = "催报"
LEDGER_DIR = "台帐"  # output/台帐/<2026年第三季度>/<单位>/: copies of the proof files (zg_excel.ledger)
LEDGER_INDEX = "台帐索引.xlsx"
REMINDERS_COMBINED = "催报汇总.txt"
MAIL_DIR = "mail"
SENT_LOG = "已发送记录.jsonl"
WEB_DIR = "网页报送"  # zg-excel serve's own folder (never read by a merge)
WEB_SETTINGS = "serve.toml"
WEB_TOKENS = "令牌.json"
WEB_LINKS_TXT = "网页报送链接.txt"
WEB_LINKS_XLSX = "网页报送链接.xlsx"
WEB_OFFICE_TXT = "办公室入口.txt"
WEB_AUDIT_LOG = "报送日志.jsonl"
WEB_UPLOAD_MARK = "网页报送"  # inbox/<单位>/<单位>-网页报送-<stamp>-<sha8>.xlsx: a return uploaded on the unit's page
UNNAMED_UNIT = "未命名单位"
UNKNOWN_UNIT = "未识别单位"  # 退回单 of files whose unit was not recognised

_TEMPLATE_NAME = re.compile(rf"^(\d{{4}})年{TEMPLATE_STEM}-(.+)\.xlsx$", re.IGNORECASE)


def inbox_unit_folder(unit: str) -> str:
    """The unit's folder name in ``inbox`` (roster names are trusted, but never a path)."""
    return safe_filename(unit).lstrip(".") or "_"


def template_filename(unit_name: str, year: int) -> str:
    """``2026年组工信息报送登记表-<单位>.xlsx``, safe on Windows, macOS and Linux."""
    return f"{year}年{TEMPLATE_STEM}-{safe_filename(unit_name, UNNAMED_UNIT)}.xlsx"


def _name_forms(names: list[str]) -> list[set[str]]:
    """Per name (in order), the stems a file made from it may carry: safe as written and NFKC."""
    out = []
    for name in names:
        forms = set()
        for text in (str(name), unicodedata.normalize("NFKC", str(name))):
            if text.strip():
                forms.add(safe_filename(text, ""))
                forms.add(unicodedata.normalize("NFKC", safe_filename(text, "")))
        out.append(forms - {""})
    return out


@dataclass(frozen=True)
class Workspace:
    """The folder ``root``; ``output_dir``/``outbox_dir`` when a caller writes elsewhere."""

    root: Path
    output_dir: Path | None = None
    outbox_dir: Path | None = None

    @classmethod
    def for_output(cls, outdir: Path) -> Workspace:
        """The workspace whose output folder is ``outdir`` (writers given a folder use it)."""
        outdir = Path(outdir)
        return cls(root=outdir.parent, output_dir=outdir)

    @classmethod
    def for_outbox(cls, outbox: Path) -> Workspace:
        """The workspace whose outbox is ``outbox``."""
        outbox = Path(outbox)
        return cls(root=outbox.parent, outbox_dir=outbox)

    @property
    def rules_file(self) -> Path:
        return self.root / RULES_FILE

    @property
    def roster_file(self) -> Path:
        return self.root / ROSTER_FILE

    @property
    def catalog_file(self) -> Path:
        return self.root / CATALOG_FILE

    def table_file(self, kind: TableKind) -> Path:
        """The roster's or the catalog's file (``roster.ROSTER`` / ``roster.CATALOG``)."""
        return self.catalog_file if kind is CATALOG else self.roster_file

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def outbox(self) -> Path:
        return Path(self.outbox_dir) if self.outbox_dir is not None else self.root / "outbox"

    @property
    def output(self) -> Path:
        return Path(self.output_dir) if self.output_dir is not None else self.root / "output"

    def launcher_path(self, name: str, suffix: str) -> Path:
        """``<root>/<name>.bat`` or ``.sh``: the double-click launchers ``init`` writes."""
        return self.root / f"{name}{suffix}"

    # ------------------------------------------------------------- outputs

    def summary_path(self, year: int) -> Path:
        return self.output / f"{year}年{SUMMARY_STEM}.xlsx"

    @property
    def bulletin_txt(self) -> Path:
        return self.output / BULLETIN_TXT

    @property
    def bulletin_docx(self) -> Path:
        return self.output / BULLETIN_DOCX

    @property
    def result_json(self) -> Path:
        return self.output / RESULT_JSON

    @property
    def returnslips_dir(self) -> Path:
        return self.output / RETURNSLIPS_DIR

    def returnslip_path(self, unit: str) -> Path:
        """``output/退回/退回单-<单位>.xlsx``."""
        return self.returnslips_dir / f"{RETURNSLIP_PREFIX}{safe_filename(unit, UNKNOWN_UNIT)}.xlsx"

    def returnslips(self) -> list[Path]:
        """The 退回单 now in ``returnslips_dir`` (for removing stale ones)."""
        folder = self.returnslips_dir
        return sorted(folder.glob(f"{RETURNSLIP_PREFIX}*.xlsx")) if folder.is_dir() else []

    @property
    def ledger_dir(self) -> Path:
        return self.output / LEDGER_DIR

    def ledger_period_dir(self, label: str) -> Path:
        """``output/台帐/<2026年第三季度>/``: one folder a quarter, handed over as a whole."""
        return self.ledger_dir / safe_filename(label)

    def ledger_unit_dir(self, label: str, unit: str) -> Path:
        """``output/台帐/<2026年第三季度>/<单位>/``."""
        return self.ledger_period_dir(label) / safe_filename(unit, UNNAMED_UNIT)

    def ledger_index(self, label: str) -> Path:
        """``output/台帐/<2026年第三季度>/台帐索引.xlsx``."""
        return self.ledger_period_dir(label) / LEDGER_INDEX

    def ledger_copy_path(self, label: str, unit: str, stem: str, suffix: str, n: int = 1) -> Path:
        """``output/台帐/<2026年第三季度>/<单位>/<stem>.pdf``: a proof file's copy; the ``n``-th copy of that
        name (``n`` > 1) is ``<stem>（n）.pdf``."""
        base = safe_filename(stem, limit=60)
        return self.ledger_unit_dir(label, unit) / (f"{base}{suffix}" if n == 1 else f"{base}（{n}）{suffix}")

    def ledger_zip(self, label: str) -> Path:
        """``output/台帐/<2026年第三季度>.zip``: the quarter's 台帐 folder as one file to hand over."""
        folder = self.ledger_period_dir(label)
        return folder.with_name(folder.name + ".zip")

    def ledger_files(self, label: str) -> list[Path]:
        """The files now in the quarter's 台帐 folder (for removing stale copies)."""
        folder = self.ledger_period_dir(label)
        return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []

    @property
    def reminders_dir(self) -> Path:
        return self.output / REMINDERS_DIR

    def reminder_path(self, unit: str) -> Path:
        """``output/催报/<单位>.txt``."""
        return self.reminders_dir / f"{safe_filename(unit, UNNAMED_UNIT)}.txt"

    @property
    def reminders_combined(self) -> Path:
        return self.reminders_dir / REMINDERS_COMBINED

    def template_path(self, unit_name: str, year: int) -> Path:
        """``outbox/<year>年组工信息报送登记表-<单位>.xlsx``."""
        return self.outbox / template_filename(unit_name, year)

    def find_template(self, names: list[str], year: int | None = None) -> Path | None:
        """The unit's template in ``outbox`` by its name, then its aliases (``names`` in that order).

        The whole unit part of the file name must match, so 峡窝镇 never picks
        峡窝镇中心校's file. Of several, the newest year wins (only ``year`` when
        given), then files at the top of ``outbox`` over those in sub-folders.
        """
        outbox = self.outbox
        if not outbox.is_dir():
            return None
        forms = _name_forms(names)
        best: tuple | None = None
        for path in outbox.rglob("*.xlsx"):
            if path.name.startswith(("~$", ".")):
                continue
            match = _TEMPLATE_NAME.match(unicodedata.normalize("NFKC", path.name))
            if not match or (year is not None and int(match.group(1)) != int(year)):
                continue
            stem = match.group(2).strip()
            for rank, group in enumerate(forms):
                if stem in group:
                    key = (-rank, int(match.group(1)), -len(path.relative_to(outbox).parts), path.name, path)
                    best = key if best is None or key > best else best
                    break
        return best[-1] if best else None

    def find_reminder(self, names: list[str]) -> Path | None:
        """``output/催报/<单位>.txt`` by the unit's name, then its aliases."""
        folder = self.reminders_dir
        if not folder.is_dir():
            return None
        by_stem = {unicodedata.normalize("NFKC", p.stem).strip(): p for p in sorted(folder.glob("*.txt"))
                   if p.name != REMINDERS_COMBINED}
        for group in _name_forms(names):
            for form in sorted(group):
                if form in by_stem:
                    return by_stem[form]
        return None

    @property
    def mail_settings(self) -> Path:
        """``<root>/mail.toml``: the mailer's ``[smtp]`` settings."""
        return self.root / MAIL_SETTINGS

    @property
    def mail_dir(self) -> Path:
        return self.output / MAIL_DIR

    @property
    def sent_log(self) -> Path:
        return self.mail_dir / SENT_LOG

    # ------------------------------------------------ zg-excel serve (网页报送)
    @property
    def web_dir(self) -> Path:
        return self.root / WEB_DIR

    @property
    def web_settings(self) -> Path:
        return self.root / WEB_SETTINGS

    @property
    def web_tokens(self) -> Path:
        return self.web_dir / WEB_TOKENS

    @property
    def web_links_txt(self) -> Path:
        return self.web_dir / WEB_LINKS_TXT

    @property
    def web_links_xlsx(self) -> Path:
        return self.web_dir / WEB_LINKS_XLSX

    @property
    def web_office_txt(self) -> Path:
        return self.web_dir / WEB_OFFICE_TXT

    @property
    def web_audit_log(self) -> Path:
        return self.web_dir / WEB_AUDIT_LOG

    def web_upload_relpath(self, unit: str, stamp: str, sha8: str, ext: str) -> str:
        """``<单位>/<单位>-网页报送-<stamp>-<sha8>.xlsx``: where (below ``inbox``) a return uploaded on the
        unit's page is stored (``ext`` with its dot)."""
        folder = inbox_unit_folder(unit)
        return f"{folder}/{folder}-{WEB_UPLOAD_MARK}-{stamp}-{sha8}{ext}"

    @property
    def web_cache(self) -> Path:
        return self.web_dir / ".cache"

    @property
    def web_staging(self) -> Path:
        return self.web_dir / ".staging"

    @property
    def templates(self) -> Path:
        return self.root / "templates"

    @property
    def bulletin_template_file(self) -> Path:
        """``templates/通报.txt.j2``: the user's bulletin template (may be absent)."""
        return self.templates / BULLETIN_TEMPLATE

    def bulletin_template(self) -> str:
        """The user's bulletin template if the folder has one, else the shipped default."""
        user = self.bulletin_template_file
        if user.exists():
            return user.read_text(encoding="utf-8-sig")
        return default_text(BULLETIN_TEMPLATE)

    # ------------------------------------------------------------- the folder itself

    @property
    def folder_file(self) -> Path:
        """``zg-excel.toml``: the folder's record (its assessment year)."""
        return self.root / FOLDER_FILE

    def _shown(self) -> str:
        return "当前文件夹" if str(self.root) in (".", "") else f"“{self.root}”"

    def require(self) -> None:
        """Raise ``ConfigError`` unless ``root`` is a working folder holding its roster and catalog.

        A folder with none of a working folder's files is not one (the user ran a
        command in the wrong folder); one missing 单位名册.xlsx or 媒体目录.xlsx is
        refused naming the file (the shipped lists are only ``init``'s starting
        point, never a silent fallback). rules.toml may be absent: the shipped
        rules are the method's, not a district's.
        """
        if not self.root.is_dir():
            raise ConfigError(f"工作目录不存在：{self.root}（可先运行 zg-excel init {self.root} 创建）")
        marks = (self.folder_file, self.roster_file, self.catalog_file, self.rules_file, self.inbox)
        if not any(p.exists() for p in marks):
            where = f"{self._shown()}（{self.root.resolve()}）"
            raise ConfigError(f"{where}不是工作目录：其中没有单位名册.xlsx、媒体目录.xlsx、inbox 等。"
                              f"请用 -w 指定工作目录，如 -w 2026组工信息；还没有工作目录时先运行 zg-excel init 2026组工信息")
        missing = [p.name for p in (self.roster_file, self.catalog_file) if not p.exists()]
        if missing:
            raise ConfigError(f"工作目录 {self.root} 缺少{'、'.join(missing)}。运行 zg-excel init {self.root} "
                              f"可重新生成缺少的文件（已有的文件不会改动），然后按本区实际核对修改；"
                              f"如有备份，也可把原来的文件放回工作目录")

    def load(self) -> tuple[Rules, Roster, Catalog]:
        """Rules, roster and catalog of this folder (shipped rules when rules.toml is absent).

        Commands call :meth:`require` first (``commands.common.load_settings``), so a user never gets
        the shipped roster or catalog; library callers (tests, ``check_files``) may load a bare folder.
        """
        if not self.root.exists():
            raise ConfigError(f"工作目录不存在：{self.root}（可先运行 zg-excel init {self.root}）")
        rules = load_rules(self.rules_file)
        return rules, load_roster(self.roster_file, rules), load_catalog(self.catalog_file, rules)

    def recorded_year(self) -> int | None:
        """The assessment year recorded in ``zg-excel.toml``; None when the folder has no record."""
        path = self.folder_file
        if not path.exists():
            return None
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"工作目录记录文件 {path} 无法读取（{exc}）：可删除它，再用 --year 指定考核年度") from None
        year = data.get("year")
        if not isinstance(year, int) or isinstance(year, bool) or not 1990 <= year <= 2100:
            raise ConfigError(f"工作目录记录文件 {path} 中的 year 应为 1990—2100 的年份（实际为 {year!r}）："
                              f"请改正，或删除它再用 --year 指定考核年度")
        return year

    def record_year(self, year: int) -> Path:
        """Write ``zg-excel.toml`` with ``year``."""
        text = (f"# zg-excel 工作目录记录，请勿删除。year 为本工作目录的考核年度：合并、催报、检查都按这一年度统计，\n"
                f"# 截止日期晚于该年12月31日时按该年度全年统计。新的年度请用 zg-excel init 新建工作目录。\n"
                f"year = {int(year)}\n")
        atomic_write_bytes(self.folder_file, text.encode("utf-8"))
        return self.folder_file

    def template_years(self) -> list[int]:
        """The years in the names of the templates in ``outbox`` (sorted, distinct)."""
        if not self.outbox.is_dir():
            return []
        years = set()
        for path in self.outbox.rglob("*.xlsx"):
            match = _TEMPLATE_NAME.match(unicodedata.normalize("NFKC", path.name))
            if match and not path.name.startswith(("~$", ".")):
                years.add(int(match.group(1)))
        return sorted(years)

    def resolve_year(self, given: int | None, *, default: int | None = None) -> YearChoice | None:
        """The folder's assessment year, recording it when the folder has no record yet.

        The record wins; ``given`` (``--year``) that contradicts it raises
        ``ConfigError`` naming both. Without a record: ``given``, else the
        newest year of the templates in ``outbox``, else ``default`` — written to
        ``zg-excel.toml`` and said in ``note``. None when nothing names a year
        (the caller takes the as-of date's year and records nothing).
        """
        recorded = self.recorded_year()
        if recorded is not None:
            if given is not None and int(given) != recorded:
                raise ConfigError(f"--year {given} 与工作目录记录的考核年度{recorded}年不一致（见 {self.folder_file}）。"
                                  f"统计{recorded}年请去掉 --year；新的年度请用 zg-excel init 新建工作目录")
            return YearChoice(recorded, "")
        years = self.template_years()
        if given is not None:
            year, why = int(given), f"按 --year 记为{given}年"
        elif years:
            year = years[-1]
            why = f"按 outbox 中模板文件名上的年份记为{year}年" + (
                f"（模板有{'、'.join(map(str, years))}年，取最新）" if len(years) > 1 else "")
        elif default is not None:
            year, why = int(default), f"记为{default}年"
        else:
            return None
        self.record_year(year)
        return YearChoice(year, f"本工作目录还没有记录考核年度，已{why}，写入 {self.folder_file}")


@dataclass(frozen=True)
class YearChoice:
    """The working folder's year and, when it was recorded just now, a Chinese note saying so."""

    year: int
    note: str


def default_text(name: str) -> str:
    return resources.files("zg_excel").joinpath(f"defaults/{name}").read_text(encoding="utf-8")


def _write_table(path: Path, title: str, columns: tuple[str, ...], rows: list[dict[str, str]],
                 widths: dict[str, int], help_text: str) -> None:
    import xlsxwriter

    tmp = atomic_target(path)
    try:
        wb = xlsxwriter.Workbook(tmp, {"strings_to_formulas": False, "strings_to_urls": False})
        ws = wb.add_worksheet(title)
        head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "font_name": "宋体",
                              "align": "center", "valign": "vcenter"})
        cell = wb.add_format({"border": 1, "font_name": "宋体", "valign": "vcenter", "text_wrap": True})
        note = wb.add_format({"font_name": "宋体", "text_wrap": True, "valign": "top"})
        for c, name in enumerate(columns):
            ws.write_string(0, c, name, head)
            ws.set_column(c, c, widths.get(name, 14))
        for r, rec in enumerate(rows, start=1):
            for c, name in enumerate(columns):
                ws.write_string(r, c, rec.get(name, "") or "", cell)
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, max(len(rows), 1), len(columns) - 1)
        ws.set_landscape()
        ws.set_paper(9)
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(0)
        # The help goes on its own sheet: every row of the first sheet is data.
        help_ws = wb.add_worksheet("填写说明")
        help_ws.set_column(0, 0, 100)
        help_ws.write_string(0, 0, help_text, note)
        wb.close()
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def init_workspace(root: Path, year: int | None = None) -> list[tuple[Path, bool]]:
    """Create the working folder of assessment ``year`` (default: the templates' year in an old folder,
    else the current year); never overwrite what exists. Returns (path, created) pairs. A ``year``
    that contradicts the folder's record raises ``ConfigError`` before anything is made."""
    ws = Workspace(Path(root))
    recorded = ws.recorded_year() if ws.root.is_dir() else None
    if recorded is not None and year is not None and int(year) != recorded:
        raise ConfigError(f"--year {year} 与工作目录记录的考核年度{recorded}年不一致（见 {ws.folder_file}）。"
                          f"新的年度请另建工作目录，如 zg-excel init {year}组工信息 --year {year}")
    done: list[tuple[Path, bool]] = []
    for d in (ws.root, ws.inbox, ws.outbox, ws.output, ws.templates):
        created = not d.exists()
        d.mkdir(parents=True, exist_ok=True)
        done.append((d, created))

    def once(path: Path, make) -> None:
        if path.exists():
            done.append((path, False))
        else:
            make(path)
            done.append((path, True))

    once(ws.roster_file, lambda p: _write_table(
        p, "单位名册", ROSTER_COLUMNS, default_roster_rows(),
        {"单位名称": 34, "类别": 12, "别名": 30, "联系人": 12, "邮箱": 28, "备注": 30},
        "说明：类别须为规则文件中的类别（镇街/其他党工委/科室）；别名用分号分隔；标注“示例”的单位请按本区实际修改。"))
    once(ws.catalog_file, lambda p: _write_table(
        p, "媒体目录", CATALOG_COLUMNS, default_catalog_rows(),
        {"媒体名称": 28, "级别": 10, "类别": 16, "别名": 40, "备注": 30},
        "说明：级别须为 区级/市级/省级/中央级；别名用分号分隔，一个别名只能属于一个媒体。"))
    once(ws.rules_file, lambda p: atomic_write_bytes(p, default_rules_text().encode("utf-8")))
    once(ws.folder_file, lambda p: ws.resolve_year(year, default=dt.date.today().year))
    once(ws.bulletin_template_file,
         lambda p: atomic_write_bytes(p, default_text(BULLETIN_TEMPLATE).encode("utf-8")))
    return done
