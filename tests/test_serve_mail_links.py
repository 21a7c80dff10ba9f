"""``zg-excel mail --kind links``: each unit is sent its own personal link of ``zg-excel serve``, and no other."""

from __future__ import annotations

import email
import email.policy

import pytest

from tests.serve_kit import UNIT_A, UNIT_B, make_workdir
from zg_excel.mail.errors import MailSetupError
from zg_excel.mail.plan import OutgoingMessage, plan_for_units, plan_links
from zg_excel.serve.tokens import ensure_links
from zg_excel.workspace import Workspace


def test_each_unit_gets_only_its_own_link(tmp_path):
    root = make_workdir(tmp_path / "w")
    units = list(Workspace(root).load()[1].units)
    links = ensure_links(root, [u.name for u in units], "http://10.0.0.8:8080")
    plan = plan_for_units(root, "links", units)
    messages = [m for m in plan.items if isinstance(m, OutgoingMessage)]
    assert [m.unit for m in messages] == [u.name for u in units]
    for m in messages:
        assert links.units[m.unit] in m.body
        assert all(url not in m.body for u, url in links.units.items() if u != m.unit)
        assert links.office not in m.body
        assert m.subject == f"组工信息网页报送链接（{m.unit}）"


def test_a_unit_without_a_valid_link_is_skipped_and_no_links_is_a_setup_error(tmp_path):
    root = make_workdir(tmp_path / "w")
    units = list(Workspace(root).load()[1].units)
    with pytest.raises(MailSetupError, match="zg-excel serve"):
        plan_links(root, units)
    ensure_links(root, [UNIT_A], "http://10.0.0.8:8080")
    plan = plan_links(root, units)
    sent = [m.unit for m in plan.items if isinstance(m, OutgoingMessage)]
    assert sent == [UNIT_A]
    skipped = {r.unit: r.message for r in plan.items if not isinstance(r, OutgoingMessage)}
    assert "没有该单位的网页报送链接" in skipped[UNIT_B]


def test_mail_command_drafts_the_links(tmp_path):
    from zg_excel.cli import main

    root = make_workdir(tmp_path / "w")
    links = ensure_links(root, [u.name for u in Workspace(root).load()[1].units], "http://10.0.0.8:8080")
    main(["mail", "-w", str(root), "--to", "roster", "--kind", "links", "-q"])  # drafts: returns normally
    drafts = sorted(Workspace(root).mail_dir.glob("*.eml"))
    assert len(drafts) == len(links.units)
    msg = email.message_from_bytes(drafts[0].read_bytes(), policy=email.policy.default)
    body = msg.get_body().get_content()
    unit = next(u for u in links.units if u in msg["Subject"])
    assert links.units[unit] in body
    with pytest.raises(SystemExit) as done:
        main(["mail", "-w", str(root), "--to", "x@example.cn", "--kind", "links"])
    assert done.value.code == 2
