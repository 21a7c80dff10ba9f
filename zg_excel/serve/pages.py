"""The HTML of the pages (Jinja, autoescaped). Plain forms, no script: works with JavaScript off."""

from __future__ import annotations

from jinja2 import DictLoader, Environment, select_autoescape

BASE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
{% if refresh %}<meta http-equiv="refresh" content="{{ refresh }}">{% endif %}
<title>{{ title }}</title>
<style nonce="{{ nonce }}">
body{font-family:"Microsoft YaHei","PingFang SC","Noto Sans CJK SC",sans-serif;margin:0;background:#f4f6f9;color:#222;font-size:15px}
header{background:#a8201a;color:#fff;padding:14px 24px}header h1{margin:0;font-size:20px}header p{margin:4px 0 0;font-size:13px;opacity:.9}
main{max-width:1100px;margin:0 auto;padding:16px 24px}
section{background:#fff;border:1px solid #dde2ea;border-radius:6px;padding:14px 18px;margin:14px 0}
h2{font-size:17px;margin:0 0 10px}h3{font-size:15px;margin:14px 0 6px}
table{border-collapse:collapse;width:100%;font-size:14px}th,td{border:1px solid #dde2ea;padding:5px 8px;text-align:left;vertical-align:top}
th{background:#eef2f7}.ok{color:#17692c;font-weight:bold}.bad{color:#b00020;font-weight:bold}.warn{color:#8a5a00}
.file{border-left:5px solid #17692c}.file.refused{border-left-color:#b00020}
.muted{color:#666;font-size:13px}.num{text-align:right;white-space:nowrap}
button{background:#a8201a;color:#fff;border:0;border-radius:4px;padding:8px 18px;font-size:15px;cursor:pointer}
input[type=file]{font-size:15px;margin-right:10px}.msg{background:#fff7e0;border-color:#e0c060}
ul{margin:4px 0;padding-left:22px}
</style></head><body>
<header><h1>{{ heading }}</h1><p>{{ subheading }}</p></header><main>
{% block body %}{% endblock %}
</main></body></html>"""

UPLOAD_FORM = """<section><h2>上传报表</h2>
<form method="post" action="{{ base }}upload" enctype="multipart/form-data">
<input type="hidden" name="csrf" value="{{ csrf }}">
<input type="file" name="files" multiple required accept=".xlsx,.xlsm,.xls,.et,.ods,.csv,.pdf,.png,.jpg,.jpeg,.gif,.bmp,.tif,.tiff,.webp,.doc,.docx,.wps,.ofd">
<button type="submit">上传并检查</button></form>
<p class="muted">可一次选择多个文件：报表，以及市级以上录用稿件的台帐证明材料（电子稿或扫描件：PDF、图片或Word/WPS文档，
文件名与报表“证明材料”一栏所填一致）；每个文件不超过 {{ max_mb }} MB。上传后立即显示读取、检查和计分结果；
能够合并的文件自动保存，供区委组织部汇总。发现问题可修改后随时重新上传，以最新的文件为准。</p></section>"""

UNIT = """{% extends "base" %}{% block body %}
""" + UPLOAD_FORM + """
<section><h2>本单位已报送的文件</h2>
{% if files %}<table><tr><th>文件</th><th>收到时间</th><th class="num">大小</th></tr>
{% for f in files %}<tr><td>{{ f.name }}</td><td>{{ f.time }}</td><td class="num">{{ f.size }}</td></tr>{% endfor %}
</table><p>按已收到的文件，本单位当前积分：<b>{{ points }}</b> 分（以区委组织部正式汇总为准）。</p>
{% else %}<p>还没有收到本单位的文件。</p>{% endif %}</section>
{% endblock %}"""

RESULT = """{% extends "base" %}{% block body %}
{% for o in outcomes %}
<section class="file{% if not o.accepted %} refused{% endif %}">
<h2>{{ loop.index }}. {{ o.name }}</h2>
{% if o.accepted and o.proof %}<p class="ok">已收到台帐证明材料（{{ o.proof }}），保存为：{{ o.stored_name }}。</p>
{% if o.proves %}<p>报表中填写了这个文件的行：</p><ul>{% for f, line, title in o.proves %}
<li>{{ f }} 录用登记第{{ line }}行“{{ title }}”</li>{% endfor %}</ul>
{% elif o.proof_waiting %}<p class="warn">还没有收到本单位的报表。请上传报表，并在对应录用行的“证明材料”中填写文件名“{{ o.stored_name.rsplit('/', 1)[-1] }}”。</p>
{% else %}<p class="warn">本单位报表中还没有哪一行的“证明材料”填写了“{{ o.stored_name.rsplit('/', 1)[-1] }}”。请在对应录用行填写该文件名后重新上传报表。</p>{% endif %}
{% elif o.accepted %}<p class="ok">已收到并保存（保存为：{{ o.stored_name }}）。</p>
{% else %}<p class="bad">未保存：{{ o.reason }}</p>{% endif %}
{% if o.accepted and o.check and o.check.unit %}
<p>填报单位：<b>{{ o.check.unit }}</b>{% if o.found_by %}（{{ o.found_by }}）{% endif %}；
涉及月份：{{ o.months or "（无日期）" }}</p>
<p>{{ o.events_line }}<br>{{ o.subs_line }}</p>
{% endif %}
{% if o.verdict %}<p>结论：{{ o.verdict }}</p>{% endif %}
{% if o.accepted and not o.proof %}<p>对本单位积分的影响：报送前 <b>{{ o.before }}</b> 分，加上本文件后 <b>{{ o.after }}</b> 分，{{ o.delta }}。</p>{% endif %}
{% for title, group in o.groups %}
<h3 class="{{ 'bad' if title == '需要修改' else 'warn' }}">{{ title }}（{{ group|length }}处）</h3>
<table><tr><th>位置</th><th>问题</th><th>修改方法</th></tr>
{% for i in group %}<tr><td>{{ i.where }}</td><td>{{ i.message }}</td><td>{{ i.fix }}</td></tr>{% endfor %}
</table>{% endfor %}
{% if o.rows %}<h3>录用登记逐行计分</h3>
<table><tr><th>行</th><th>稿件标题</th><th>结果</th><th class="num">积分</th><th>计分说明</th></tr>
{% for r in o.rows %}<tr><td>{{ r.line }}</td><td>{{ r.title }}</td><td>{{ r.outcome }}</td>
<td class="num">{{ r.points }}</td><td>{{ r.explanation }}</td></tr>{% endfor %}</table>{% endif %}
</section>
{% endfor %}
""" + UPLOAD_FORM + """
<p><a href="{{ base }}">返回本单位页面</a></p>
{% endblock %}"""

OFFICE = """{% extends "base" %}{% block body %}
{% if message %}<section class="msg"><p>{{ message }}</p></section>{% endif %}
<section><h2>合并与下载</h2>
<form method="post" action="{{ base }}merge"><input type="hidden" name="csrf" value="{{ csrf }}">
<button type="submit">合并汇总（生成汇总表和通报）</button></form>
{% if downloads %}<ul>{% for key, label, when in downloads %}
<li><a href="{{ base }}download/{{ key }}">{{ label }}</a> <span class="muted">（{{ when }}生成）</span></li>{% endfor %}</ul>
{% else %}<p class="muted">还没有合并结果。</p>{% endif %}</section>
{% if not snap %}<section><p>正在统计收件文件夹，请稍候（页面会自动刷新）……</p></section>{% else %}
<section><h2>{{ month_label }}报送情况</h2>
<p>本月已报送 <b>{{ sent|length }}</b> 个单位，未报送 <b>{{ unsent|length }}</b> 个单位。
<span class="muted">统计于 {{ snap_time }}，收件文件夹共 {{ nfiles }} 个文件{% if stale %}；有新文件，正在更新（页面会自动刷新）{% endif %}。</span></p>
<h3>未报送（催报名单）</h3>
<p>{% if unsent %}{{ unsent|join("、") }}{% else %}全部单位本月均已报送。{% endif %}</p>
<h3>已报送</h3>
<table><tr><th>单位</th><th>最近一次收到</th><th class="num">本月文件数</th></tr>
{% for u in sent %}<tr><td>{{ u.unit }}</td><td>{{ u.last }}</td><td class="num">{{ u.count }}</td></tr>{% endfor %}</table>
</section>
<section><h2>待单位修改的错误</h2>
{% if errors %}<table><tr><th>单位</th><th class="num">错误数</th><th>举例</th></tr>
{% for u, n, examples in errors %}<tr><td>{{ u }}</td><td class="num">{{ n }}</td><td><ul>{% for e in examples %}<li>{{ e }}</li>{% endfor %}</ul></td></tr>{% endfor %}
</table>{% else %}<p>没有待修改的错误。</p>{% endif %}</section>
<section><h2>当前排名（按已收到的文件）</h2>
{% for cat, rows in ranking %}<h3>{{ cat }}</h3>
<table><tr><th class="num">名次</th><th>单位</th><th class="num">积分</th><th class="num">计分条数</th></tr>
{% for t in rows %}<tr><td class="num">{{ t.rank }}</td><td>{{ t.unit }}</td><td class="num">{{ t.total }}</td><td class="num">{{ t.events }}</td></tr>{% endfor %}
</table>{% endfor %}</section>
{% endif %}
{% endblock %}"""

MESSAGE = """{% extends "base" %}{% block body %}<section><p>{{ message }}</p>
{% if back %}<p><a href="{{ back }}">返回</a></p>{% endif %}</section>{% endblock %}"""

ENV = Environment(loader=DictLoader({"base": BASE, "unit": UNIT, "result": RESULT, "office": OFFICE,
                                     "message": MESSAGE}),
                  autoescape=select_autoescape(default=True, default_for_string=True))


def render(name: str, **ctx) -> str:
    return ENV.get_template(name).render(**ctx)
