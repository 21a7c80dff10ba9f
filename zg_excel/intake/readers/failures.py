"""Why a file was not read: the Chinese message of each failure code, and ``failure()``.
"""

from __future__ import annotations

from ..raw import FileFailure
from ..sniff import claims_spreadsheet

RESEND_XLSX = "请用 Excel 或 WPS 打开后“另存为” Excel 工作簿(.xlsx) 再报送。"
COPY_TO_NEW = "请把有效数据复制到新建的工作簿，另存为 .xlsx 后重新报送。"

MESSAGES: dict[str, str] = {
    "lock_file": "这是 Excel/WPS 打开文件时自动生成的临时锁定文件（通常以 ~$ 开头、只有一百多字节），不是报表，已跳过。",
    "empty": "文件是空的（0 字节），可能在保存或发送时出错。请重新保存后再报送。",
    "unreadable": "无法打开此文件（{error}）。请确认文件没有被其他程序占用后重试。",
    "too_large_file": "文件过大（{size:.1f} MB，上限 {limit:g} MB），未读取。"
                      "请删除无关的工作表、图片和大片空白格式后重新报送。",
    "too_large_unzipped": "文件解压后过大（约 {size:.0f} MB，上限 {limit:g} MB），疑似压缩炸弹或含有大量空白格式，未读取。"
                          + COPY_TO_NEW,
    "too_large_ratio": "文件内部的“{member}”压缩比异常（{ratio:.0f} 倍，上限 {limit:g} 倍），疑似压缩炸弹，未读取。"
                       + COPY_TO_NEW,
    "too_large_members": "文件内部包含的部件过多（{count} 个），疑似构造异常的文件，未读取。" + COPY_TO_NEW,
    "too_large_cells": "表格内容过多（非空单元格超过 {limit} 个），未读取。请确认没有误填或误粘贴大量数据，"
                       "删除无关内容后重新报送。",
    "too_large_shared": "文件中的长文字被大量单元格重复引用（{refs} 个单元格 × 每段约 {size:.0f} KB，展开后约 {total:.0f} MB，"
                        "上限 {limit:g} MB），疑似恶意构造，未读取。" + COPY_TO_NEW,
    "too_large_declared": "文件声明的表格范围大得不合理（{cells} 个单元格），疑似恶意构造，未读取。" + COPY_TO_NEW,
    "too_large_grid": "工作表“{sheet}”的使用范围过大（延伸到 {ref}），未读取。通常是远处的单元格误填了内容或格式。"
                      + COPY_TO_NEW,
    "encrypted": "文件已加密（设置了打开密码），无法读取。请取消密码后重新报送。",
    "numbers": "这是苹果 Numbers 表格文件，无法直接读取。请在 Numbers 中选择“文件 > 导出为 > Excel”，"
               "导出 .xlsx 文件后重新报送。",
    "html": "这是网页文件（HTML），只是扩展名为 {ext}，并不是真正的 Excel 工作簿（常见于从网页系统直接导出的表格）。"
            + RESEND_XLSX,
    "xml": "这是 XML 格式的表格（{what}），扩展名为 {ext}，并不是 Excel 工作簿。" + RESEND_XLSX,
    "not_spreadsheet": "文件内容不是电子表格（{what}），无法读取。请确认是否发错了文件，并以 Excel 工作簿(.xlsx) 格式重新报送。",
    "not_spreadsheet_skipped": "不是电子表格文件（{what}），已跳过。",
    "corrupt": "文件已损坏或格式不完整，无法打开。请用 Excel 或 WPS 打开，确认内容无误后“另存为” Excel 工作簿(.xlsx) 再重新报送。",
    "corrupt_xml_entities": "文件中含有不允许的 XML 实体声明（可能是恶意构造的文件），已拒绝读取。"
                            "请用 Excel 或 WPS 打开后“另存为”新的 Excel 工作簿(.xlsx) 再报送。",
    "needs_full": "本机安装的是 zg-excel 纯 Python 版（没有 python-calamine），不能读取 {fmt} 格式的文件。"
                  "请对方用 Excel 或 WPS 另存为 Excel 工作簿(.xlsx) 后重新报送，或请维护人员安装完整版（见 安装说明.txt）。",
    # set by worker.py when the reader process itself fails
    "crashed": "读取此文件时读取程序异常退出（文件可能已损坏或构造异常），其他文件不受影响。"
               "请用 Excel 或 WPS 打开后“另存为”新的 Excel 工作簿(.xlsx) 再报送。",
    "memory": "读取此文件所需内存超过上限（{limit} MB），文件可能含有超大内容或大片空白格式，未读取。" + COPY_TO_NEW,
    "timeout": "读取此文件超时（超过 {limit:g} 秒），文件可能过大或构造异常，未读取。" + COPY_TO_NEW,
}

WHAT = {
    "word": "Word 文档",
    "pdf": "PDF 文件",
    "image": "图片",
    "powerpoint": "PowerPoint 演示文稿",
    "opendocument": "OpenDocument 文字或演示文档",
    "zip": "压缩包",
    "cfb": "Office 复合文档，但其中没有工作簿",
    "binary": "无法识别的二进制数据",
    "text": "纯文本，不是以逗号或制表符分隔的表格",
    "spreadsheetml2003": "Excel 2003 XML 表格",
    "flat-ods": "LibreOffice 平面 XML 表格 .fods",
    "xml": "XML 文件",
}


def failure(path: str, code: str, key: str | None = None, *, skipped: bool = False, **fmt) -> FileFailure:
    """A ``FileFailure`` with the Chinese message ``MESSAGES[key or code]``."""
    msg = MESSAGES[key or code]
    if fmt:
        msg = msg.format(**fmt)
    return FileFailure(path=path, code=code, message=msg, skipped=skipped)


class Refused(Exception):
    """Raised inside a reader to abandon the file with a prepared failure."""

    def __init__(self, fail: FileFailure):
        super().__init__(fail.code)
        self.failure = fail

def not_spreadsheet(path: str, detail: str) -> FileFailure:
    what = WHAT.get(detail, WHAT["binary"])
    if claims_spreadsheet(path):
        return failure(path, "not_spreadsheet", what=what)
    return failure(path, "not_spreadsheet", "not_spreadsheet_skipped", skipped=True, what=what)

