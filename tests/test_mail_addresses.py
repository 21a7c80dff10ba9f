"""Addresses and header-safe text (zg_excel.mail.addresses)."""

from __future__ import annotations

import pytest

from zg_excel.mail.addresses import header_text, parse_address, parse_address_list
from zg_excel.mail.errors import AddressError


@pytest.mark.parametrize(
    "text, addr, name",
    [
        ("zzb@example.cn", "zzb@example.cn", ""),
        ("  组织部 <zzb@example.gov.cn> ", "zzb@example.gov.cn", "组织部"),
        ("ｚｚｂ＠example．cn", "zzb@example.cn", ""),
        ("first.last+tag@mail.example.cn", "first.last+tag@mail.example.cn", ""),
    ],
)
def test_parse_address_accepts(text, addr, name):
    box = parse_address(text)
    assert (box.addr, box.name) == (addr, name)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "zzb@example.cn\r\nBcc: evil@x.com",
        "zzb@example.cn\nBcc: evil@x.com",
        "zzb@example.cn\x00",
        "a@example.cn, b@example.cn",
        "a@example.cn;b@example.cn",
        "a@example.cn，b@example.cn",
        "no-at-sign",
        "a@localhost",
        "a@@example.cn",
        ".a@example.cn",
        "a b@example.cn",
        "张三@example.cn",
        "a@example.cn <b@example.cn>",
        "a@example.cn (comment)",
        "<a@exam_ple.cn>",
    ],
)
def test_parse_address_rejects(text):
    with pytest.raises(AddressError):
        parse_address(text)


def test_parse_address_list_splits_roster_cells():
    good, bad = parse_address_list("a@example.cn；Ｂ@example.cn、 a@example.cn", name="峡窝镇")
    assert [b.addr for b in good] == ["a@example.cn", "B@example.cn"]
    assert all(b.name == "峡窝镇" for b in good)
    assert bad == []
    # one bad piece rejects the whole cell: a part of it is never used
    assert parse_address_list("a@example.cn；Ｂ@example.cn  oops") == ([], ["oops"])
    assert parse_address_list("a@x.cn Bcc: evil@attacker.example") == ([], ["Bcc:"])
    assert parse_address_list("a@example.cn\r\nBcc: evil@x.com") == ([], ["a@example.cnBcc: evil@x.com"])
    assert parse_address_list("") == ([], [])
    (box,), bad = parse_address_list("张三 <zs@example.cn>", name="峡窝镇")
    assert (box.addr, box.name, bad) == ("zs@example.cn", "张三", [])


def test_header_text_removes_line_breaks_and_nul():
    assert header_text("峡窝镇\r\nBcc: evil@x.com\x00\u2028") == "峡窝镇Bcc: evil@x.com"
