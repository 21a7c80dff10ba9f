"""The errors of the mail package; ``str(exc)`` is always a Chinese message for the user."""

from __future__ import annotations


class MailError(Exception):
    """Base class; ``str(exc)`` is a Chinese message for the user."""


class MailConfigError(MailError):
    """mail.toml or the ZG_SMTP_* environment variables are wrong."""


class MailSetupError(MailError):
    """A file the message needs is missing, or a mail template is broken."""


class AddressError(MailError, ValueError):
    """An email address is unusable."""


class MailConnectionError(MailError):
    """The mail server could not be reached or refused the login before any message went out."""
