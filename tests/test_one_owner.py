"""One owner per convention (issue 11): Chinese dates/months only in text.py (period labels in period.py),
output file names and paths only in workspace.py.

The package source is parsed (``ast``) and every f-string is reduced to its shape, each placeholder
written ``{}``: ``f"{d.month}月{d.day}日"`` → ``{}月{}日``. A shape that writes a number as a month or
a day (``{}月``, ``{}日``), a year before another value (``{}年{}``) or a year prefix to be joined
(``{}年`` at the end) builds a date or month text, and belongs in ``zg_excel.text`` (or
``zg_excel.period``). A path joined with ``/`` to a literal holding Chinese or a user-facing file
extension, or to one of workspace.py's file-name constants, builds an output name, and belongs in
``zg_excel.workspace``. A new copy elsewhere fails here; the fix is to call the owner.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import zg_excel
from zg_excel import workspace

PKG = Path(zg_excel.__file__).resolve().parent

DATE_OWNERS = {"text.py", "period.py", "workspace.py"}  # workspace.py: 2026年…xlsx is a file name, not a date
PATH_OWNERS = {"workspace.py"}

# A placeholder written as a month or a day number, a year followed by another value, a trailing year prefix.
# ``{}日期`` ("date" as a word, as in 填{}日期) is not a day.
DATE_SHAPE = re.compile(r"\{\}月|\{\}日(?!期)|\{\}年\{\}|\{\}年$")

# Chinese texts that match DATE_SHAPE but are not dates this package formats — each with why:
DATE_ALLOWED = {
    # ``--as-of 2026-02-30`` refused: echoes the user's own numbers to say which day does not exist.
    ("commands/common.py", "日期不存在：{}（{}年{}月没有{}日）"),
}

CJK = re.compile(r"[\u3400-\u9fff]")
OUTPUT_EXT = re.compile(r"\.(xlsx|xls|docx|txt|json|jsonl|toml|zip|pdf|csv|j2)$", re.IGNORECASE)
NAME_CONSTANTS = {name for name, value in vars(workspace).items()
                  if name.isupper() and isinstance(value, str) and value}

# Path joins with a literal that are not output names — each with why:
PATH_ALLOWED: set[tuple[str, str]] = set()


def _shape(node: ast.JoinedStr) -> str:
    return "".join(str(v.value) if isinstance(v, ast.Constant) else "{}" for v in node.values)


def _sources():
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(PKG).as_posix()
        yield rel, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def date_copies(sources) -> list[str]:
    found = []
    for rel, tree in sources:
        if rel in DATE_OWNERS:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr):
                shape = _shape(node)
                if DATE_SHAPE.search(shape) and (rel, shape) not in DATE_ALLOWED:
                    found.append(f"{rel}:{node.lineno}: {shape!r}")
    return found


def path_copies(sources) -> list[str]:
    found = []
    for rel, tree in sources:
        if rel in PATH_OWNERS:
            continue
        for node in ast.walk(tree):
            if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div)):
                continue
            right = node.right
            if isinstance(right, ast.Constant) and isinstance(right.value, str):
                text = right.value
            elif isinstance(right, ast.JoinedStr):
                text = _shape(right)
            elif isinstance(right, ast.Name) and right.id in NAME_CONSTANTS:
                found.append(f"{rel}:{node.lineno}: / {right.id}")
                continue
            else:
                continue
            if (CJK.search(text) or OUTPUT_EXT.search(text)) and (rel, text) not in PATH_ALLOWED:
                found.append(f"{rel}:{node.lineno}: / {text!r}")
    return found


def test_dates_and_months_are_written_only_by_text_and_period():
    assert date_copies(list(_sources())) == []


def test_output_names_and_paths_are_built_only_by_workspace():
    assert path_copies(list(_sources())) == []


def test_the_guards_catch_a_new_copy():
    """Each kind of copy the guards exist for is found (so the two tests above can fail)."""
    code = '''
def f(d, m, y, workdir, root):
    a = f"{d.month}月{d.day}日"
    b = f"{m}月"
    c = f"{y}年{m}"
    e = f"{y}年" + "、".join(["x"])
    p = workdir / "mail.toml"
    q = root / f"{y}年组工信息考核汇总表.xlsx"
    r = workdir / RULES_FILE
    ok = (f"{y}年度", f"第{m}行", f"填{d}日期", f"{y}年不一致", root / ".cache", root / f"{d}.pickle")
'''
    sources = [("outputs/new_view.py", ast.parse(code))]
    dates = date_copies(sources)
    assert [line.split(": ", 1)[1] for line in dates] == ["'{}月{}日'", "'{}月'", "'{}年{}'", "'{}年'"]
    paths = path_copies(sources)
    assert [line.split(": ", 1)[1] for line in paths] == ["/ 'mail.toml'", "/ '{}年组工信息考核汇总表.xlsx'",
                                                          "/ RULES_FILE"]
    # the owners themselves are not flagged
    assert date_copies([("text.py", ast.parse(code))]) == []
    assert path_copies([("workspace.py", ast.parse(code))]) == []
