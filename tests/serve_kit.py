"""A working folder with personal links, and good / bad returns made with the project's own generators."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tests.fill import fill_return
from zg_excel.template import write_template
from zg_excel.workspace import Workspace, init_workspace

YEAR = 2026
AS_OF = dt.date(2026, 9, 30)
UNIT_A = "峡窝镇党委"
UNIT_B = "中心路街道党工委"


def make_workdir(root: Path) -> Path:
    init_workspace(root)
    return root


def template_for(root: Path, unit: str) -> Path:
    rules, roster, catalog = Workspace(root).load()
    out = Workspace(root).template_path(unit, YEAR)
    if not out.exists():
        write_template(out, unit=roster.find(unit), year=YEAR, roster=roster, catalog=catalog, rules=rules)
    return out


def good_return(root: Path, unit: str, out: Path, *, month: int = 8, n: int = 3, title: str = "稿件") -> Path:
    """A filled template: ``n`` adoptions in 郑州日报 and two submissions, all in ``month``."""
    events = [{"稿件标题": f"{unit}{title}{k}", "录用形式": "采用", "媒体名称": "郑州日报",
               "录用日期": dt.date(YEAR, month, 3 + k)} for k in range(n)]
    subs = [{"稿件标题": f"{unit}报送{k}", "报送日期": dt.date(YEAR, month, 2 + k), "报送对象": "市委组织部"}
            for k in range(2)]
    return fill_return(template_for(root, unit), out, events=events, submissions=subs,
                       saved=dt.datetime(YEAR, month + 1, 2, 9, 0))


def bad_return(root: Path, unit: str, out: Path) -> Path:
    """A return whose rows have an unreadable date and an unknown outlet."""
    events = [{"稿件标题": f"{unit}坏日期", "录用形式": "采用", "媒体名称": "郑州日报", "录用日期": "八月某日"},
              {"稿件标题": f"{unit}怪媒体", "录用形式": "采用", "媒体名称": "火星日报",
               "录用日期": dt.date(YEAR, 8, 9)}]
    return fill_return(template_for(root, unit), out, events=events, saved=dt.datetime(YEAR, 9, 1, 9, 0))
