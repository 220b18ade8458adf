"""A review reply as a message the list accepts, made by the standard library: an
`email.message.EmailMessage` under the SMTP policy, so that names are RFC 2047 encoded
words ("Philippe =?utf-8?q?Mathieu-Daud=C3=A9?="), long To/Cc lines are folded at 78
columns, and the body says its charset and transfer encoding."""
from __future__ import annotations

import email.policy
from email.errors import HeaderParseError
from email.message import EmailMessage

from ..sources.patches import Patch

# SMTP's header rules with LF line ends: the reply is written to a file or a pipe (an
# mbox, `git send-email`, a mail client's editor), not to a socket.
POLICY = email.policy.SMTP.clone(linesep="\n")
MAX_LINE = 998  # RFC 5322's limit on a line; a longer quoted line needs quoted-printable


def reply_message(patch: Patch, body: str) -> str:
    """The reply to PATCH (its headers from the patch's own) with BODY as text/plain."""
    message = EmailMessage(policy=POLICY)
    subject = _sendable(patch.subject)
    message["Subject"] = subject if subject.lower().startswith("re:") else f"Re: {subject}"
    _address(message, "To", patch.author)
    _address(message, "Cc", ", ".join(x for x in (patch.to, patch.cc) if x))
    if patch.message_id:  # without one the reply cannot be threaded; the mail client will say so
        message["In-Reply-To"] = _sendable(patch.message_id)
        message["References"] = _sendable(" ".join(x for x in (patch.references, patch.message_id) if x))
    text = _sendable(body)
    message.set_content(text, charset="utf-8", cte=transfer_encoding(text))
    return message.as_bytes().decode("utf-8")


def transfer_encoding(text: str) -> str:
    """7bit or 8bit while every line fits RFC 5322 (quoted patch lines are the author's and
    may pass 78 columns), else quoted-printable."""
    if any(len(line.encode("utf-8")) > MAX_LINE for line in text.splitlines()):
        return "quoted-printable"
    return "7bit" if text.isascii() else "8bit"


def _sendable(text: str) -> str:
    """Bytes that were not UTF-8 in the patch (kept as surrogates) cannot be sent as they were."""
    return text.encode("utf-8", "replace").decode("utf-8")


def _address(message: EmailMessage, name: str, value: str | None) -> None:
    """An address header from the patch's text; one the parser cannot take is left out
    rather than sent malformed (the reply still goes to the list through the others)."""
    if not value:
        return
    try:
        message[name] = _sendable(value)
        str(message[name])  # parsed when set; a value it cannot fold fails here, not in as_bytes()
    except (ValueError, IndexError, TypeError, HeaderParseError):
        del message[name]
