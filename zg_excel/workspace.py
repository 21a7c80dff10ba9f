"""The working folder of one assessment year: paths, ``init``, and loading its settings.

Layout (created by ``zg-excel init``)::

    单位名册.xlsx  媒体目录.xlsx  rules.toml  templates/通报.txt.j2
    inbox/   (returns go here)   outbox/  (templates come out here)   output/
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from .roster import (
    CATALOG_COLUMNS,
    CATALOG_FILE,
    ROSTER_COLUMNS,
    ROSTER_FILE,
    Catalog,
    Roster,
    default_catalog_rows,
    default_roster_rows,
    load_catalog,
    load_roster,
)
from .rules import ConfigError, Rules, default_rules_text, load_rules

BULLETIN_TEMPLATE = "通报.txt.j2"
RULES_FILE = "rules.toml"


@dataclass(frozen=True)
class Workspace:
    root: Path

    @property
    def rules_file(self) -> Path:
        return self.root / RULES_FILE

    @property
    def roster_file(self) -> Path:
        return self.root / ROSTER_FILE

    @property
    def catalog_file(self) -> Path:
        return self.root / CATALOG_FILE

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def outbox(self) -> Path:
        return self.root / "outbox"

    @property
    def output(self) -> Path:
        return self.root / "output"

    @property
    def templates(self) -> Path:
        return self.root / "templates"

    def bulletin_template(self) -> str:
        """The user's bulletin template if the folder has one, else the shipped default."""
        user = self.templates / BULLETIN_TEMPLATE
        if user.exists():
            return user.read_text(encoding="utf-8-sig")
        return default_text(BULLETIN_TEMPLATE)

    def load(self) -> tuple[Rules, Roster, Catalog]:
        """Rules, roster and catalog of this folder (shipped defaults where a file is absent)."""
        if not self.root.exists():
            raise ConfigError(f"工作目录不存在：{self.root}（可先运行 zg-excel init {self.root}）")
        rules = load_rules(self.rules_file)
        return rules, load_roster(self.root, rules), load_catalog(self.root, rules)


def default_text(name: str) -> str:
    return resources.files("zg_excel").joinpath(f"defaults/{name}").read_text(encoding="utf-8")


def _public_mode() -> int:
    """The mode an ordinary new file gets (mkstemp's 0600 would hide outputs from colleagues)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write to a temporary name in the same folder, then rename over the target."""
    with atomic_open(path, binary=True) as fh:
        fh.write(data)


@contextlib.contextmanager
def atomic_open(path: Path, encoding: str = "utf-8", *, binary: bool = False):
    """A file written beside ``path`` (text, or bytes with ``binary``), on disk (fsync) and renamed
    over ``path`` when the block ends without error; removed otherwise."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".~" + path.name, suffix=".tmp", dir=path.parent)
    try:
        with (os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding=encoding, newline="\n")) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())  # on disk before it replaces the old file
        os.chmod(tmp, _public_mode())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_target(path: Path) -> str:
    """A temporary file name beside ``path`` for writers that take a file name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".~" + path.stem, suffix=path.suffix, dir=path.parent)
    os.close(fd)
    os.chmod(tmp, _public_mode())
    return tmp


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


def init_workspace(root: Path) -> list[tuple[Path, bool]]:
    """Create the working folder; never overwrite what exists. Returns (path, created) pairs."""
    ws = Workspace(Path(root))
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
    once(ws.templates / BULLETIN_TEMPLATE,
         lambda p: atomic_write_bytes(p, default_text(BULLETIN_TEMPLATE).encode("utf-8")))
    return done
