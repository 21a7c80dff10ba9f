"""Planning: which files go to whom (zg_excel.mail.plan and .sources)."""

from __future__ import annotations

import json

import pytest

from zg_excel.mail.errors import MailSetupError
from zg_excel.mail.plan import FAILED, SKIPPED, plan_bulletin, plan_reminders, plan_summary, plan_templates
from zg_excel.mail.sources import find_output_files, read_bulletin_text
from zg_excel.workspace import Workspace
from tests.mail_support import (  # noqa: F401, F811 - fixtures are used by name
    BULLETIN_BYTES,
    BULLETIN_DOCX,
    BULLETIN_TXT,
    BULLETIN_TEXT,
    workdir,
    units,
)


def test_read_bulletin_text(workdir):
    text = read_bulletin_text(workdir / "output" / BULLETIN_TXT)
    assert text.title == "关于2026年第一季度组工信息报送情况的通报"
    assert text.overview == "第一季度，全区共报送组工信息120条，\n被市级以上采用30条。"
    gbk = workdir / "gbk.txt"
    gbk.write_bytes(BULLETIN_TEXT.encode("gbk"))
    assert read_bulletin_text(gbk) == text


def test_missing_summary_is_a_setup_error(tmp_path):
    with pytest.raises(MailSetupError):
        plan_summary(tmp_path, ["a@example.cn"])
    with pytest.raises(MailSetupError):
        plan_bulletin(tmp_path, to=["a@example.cn"])


def test_plan_templates_matches_exact_unit_name(workdir, units):
    plan = plan_templates(workdir, units)
    by_unit = {m.unit: m for m in plan.messages}
    assert by_unit["峡窝镇"].attachments[0].filename == "2026年组工信息报送登记表-峡窝镇.xlsx"
    assert by_unit["峡窝镇中心校"].attachments[0].filename == "2026年组工信息报送登记表-峡窝镇中心校.xlsx"
    assert [b.addr for b in by_unit["峡窝镇中心校"].to] == ["ZXX@example.cn", "second@example.cn"]
    assert by_unit["城关街道"].to == () and "没有" in by_unit["城关街道"].note
    (problem,) = plan.problems
    assert problem.unit == "新区管委会" and problem.status == FAILED and "找不到" in problem.message


def test_plan_reminders(workdir, units):
    plan = plan_reminders(workdir, units)
    by_unit = {m.unit: m for m in plan.messages}
    assert set(by_unit) == {"峡窝镇", "城关街道"}
    assert "5月10日前报送" in by_unit["峡窝镇"].body and by_unit["峡窝镇"].attachments == ()
    assert "请尽快报送" in by_unit["城关街道"].body  # GBK text file
    assert {p.unit: p.status for p in plan.problems} == {
        "峡窝镇中心校": SKIPPED,
        "新区管委会": SKIPPED,
    }


def test_summary_is_the_one_of_the_result_year(workdir):
    """The summary attached is the one of output/result.json's year, not merely the newest file."""
    out = workdir / "output"
    other = Workspace(workdir).summary_path(2025)
    other.write_bytes(b"last year")
    (out / "result.json").write_text(json.dumps({"year": 2025}), encoding="utf-8")
    (message,) = plan_summary(workdir, ["a@example.cn"]).messages
    assert [(a.filename, a.data) for a in message.attachments] == [(other.name, b"last year"), (BULLETIN_DOCX, BULLETIN_BYTES)]
    assert message.subject == "2025年组工信息汇总表及通报"
    other.unlink()  # the result's year has no summary: an error, never another year's file
    with pytest.raises(MailSetupError):
        plan_summary(workdir, ["a@example.cn"])


def test_bulletin_files_are_the_workspace_ones(workdir):
    files = find_output_files(workdir)
    ws = Workspace(workdir)
    assert (files.summary, files.bulletin_docx, files.bulletin_txt) == (
        ws.summary_path(2026), ws.bulletin_docx, ws.bulletin_txt
    )
    ws.bulletin_docx.unlink()
    (workdir / "output" / "旧通报.docx").write_bytes(b"old")  # a look-alike is not picked up
    with pytest.raises(MailSetupError):
        plan_bulletin(workdir, to=["a@example.cn"])
