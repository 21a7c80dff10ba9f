"""What can be sent: the kinds of message, light enough for the command's ``--kind`` choices at start-up."""

from __future__ import annotations

KIND_SUMMARY = "summary"
KIND_TEMPLATE = "template"
KIND_REMIND = "remind"
KIND_BULLETIN = "bulletin"
KIND_LINKS = "links"  # each unit's personal link of ``zg-excel serve``
KINDS = (KIND_SUMMARY, KIND_TEMPLATE, KIND_REMIND, KIND_BULLETIN, KIND_LINKS)
KIND_ZH = {
    KIND_SUMMARY: "汇总表",
    KIND_TEMPLATE: "登记表",
    KIND_REMIND: "催报",
    KIND_BULLETIN: "通报",
    KIND_LINKS: "网页报送链接",
}
