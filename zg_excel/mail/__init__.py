"""Email the summary, the bulletin, the units' templates and reminders.

The package plans messages from plain data (a list of units with ``name``,
``aliases``, ``contact`` and ``email`` attributes, or a list of addresses),
then either writes each message as an Outlook draft (``.eml`` with
``X-Unsent: 1``) under ``output/mail/`` or sends it over SMTP. It never prints
and never exits: every outcome is a :class:`~zg_excel.mail.plan.MessageResult`
with a Chinese message saying what was and was not sent.

Imports point down, one concern per module::

    addresses  (header-safe text, Mailbox, parse_address)
    settings   (mail.toml [smtp])      sources  (which files, via Workspace)
    compose    (subject/body from the .j2 templates, MIME)
    plan       (OutgoingMessage, MailPlan, plan_*)
    send       (drafts, sent-log, SMTP)

Safety rules kept here rather than in the command:

* Nothing that comes from a workbook, a roster or a template reaches a header
  with CR, LF, NUL or another control character in it
  (:func:`~zg_excel.mail.addresses.header_text`), and every address passes
  :func:`~zg_excel.mail.addresses.parse_address` (one address, ASCII,
  conservative syntax), so a crafted unit name cannot add a header or a
  recipient.
* The SMTP password is a parameter only: it is never read from ``mail.toml``,
  never stored in a result, a log line or an error message.
* TLS always verifies the server certificate (``ssl.create_default_context``);
  ``cafile`` adds a trusted CA, it never turns verification off.
* A sent-log (``output/mail/已发送记录.jsonl``) remembers, per recipient, the
  subject and attachment hashes already delivered, so a re-run does not send
  the same thing twice.
"""
