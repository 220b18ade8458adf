"""Reading patches from mail: a `git format-patch` file, an mbox holding a series (as
`b4 am` writes it), a single message, or a bare diff.

The mail is parsed with the standard `email` package (an mbox is cut into messages as
the standard `mailbox` does), so quoted-printable, base64 and 8bit bodies and RFC 2047
headers are decoded as mail clients do; CRLF line ends
are dropped as `git am` does.  Only the parsing lives here: applying is in sources/apply.py.
"""
from __future__ import annotations

import email
import email.errors
import email.header
import email.message
import os
import re
import sys
from dataclasses import dataclass, field

from ..errors import InputError

NUMBER = re.compile(r"\[[^\]]*?(\d+)/(\d+)\s*\]")
HUNK_HEADER = re.compile(r"@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
HEADER_LINE = re.compile(rb"[A-Za-z0-9-]+:[ \t]")
MBOX_FROM_LINE = re.compile(rb"^From ", re.MULTILINE)


@dataclass
class Hunk:
    old_start: int
    old_count: int
    new_start: int
    new_count: int
    header: str  # "@@ -830,7 +830,6 @@ static const ..." as in the patch
    lines: list[tuple[str, str]]  # (" ", "-" or "+", text with its newline unless the file lacks one)
    raw: list[str]  # the hunk's lines as in the mail, "\ No newline at end of file" included

    @property
    def range(self) -> str:
        """'@@ -830,7 +830,6 @@': the header without git's function-name hint."""
        return self.header[:self.header.index("@@", 2) + 2]


@dataclass
class FileDiff:
    old_path: str | None  # None: a new file
    new_path: str | None  # None: a deleted file
    header: list[str]  # "diff --git ...", "index ...", "--- ...", "+++ ..." as in the mail
    hunks: list[Hunk] = field(default_factory=list)
    copy: bool = False  # "copy from/to": the old file stays
    binary: bool = False

    @property
    def path(self) -> str:
        return self.new_path or self.old_path or ""


@dataclass
class Patch:
    number: int  # position in the series, from 1
    total: int
    subject: str  # the whole Subject, "[PATCH v2 2/3] hw/char/serial: ..."
    author: str | None
    date: str | None
    message_id: str | None
    references: str | None
    to: str | None
    cc: str | None
    message: str  # the commit message (what precedes the diff)
    files: list[FileDiff]
    body: str = ""  # the whole text, for what git writes around the diff (base-commit:)

    @property
    def name(self) -> str:
        return f"patch {self.number}/{self.total}"


@dataclass
class Mail:
    subject: str
    author: str | None
    date: str | None
    message_id: str | None
    references: str | None
    to: str | None
    cc: str | None
    body: str


# -- mail -------------------------------------------------------------------------------

def read_series(source: str) -> tuple[list[Patch], Mail | None]:
    """The patches of SOURCE (a file, or "-" for standard input) in series order, and the
    cover letter if there is one.  Messages without a diff are left out."""
    data = _read_input(source)
    try:
        mails = [_mail(message) for message in _messages(data)]
    except RecursionError:  # MIME parts nested thousands deep
        raise InputError(f"{_name(source)}: not a mail this tool reads (parts nested too deeply)") from None
    cover = next((m for m in mails if _number(m.subject) == 0 or (len(mails) > 1 and not _has_diff(m.body)
                                                                  and m is mails[0])), None)
    with_diff = [m for m in mails if m is not cover and _has_diff(m.body)]
    if not with_diff:
        raise InputError(f"{_name(source)}: no patch found (no 'diff --git' in any message)")
    with_diff.sort(key=lambda m: _number(m.subject) or 0)  # stable: file order without numbers
    total = len(with_diff)
    return [_patch(m, n, total) for n, m in enumerate(with_diff, 1)], cover


def _name(source: str) -> str:
    return "standard input" if source == "-" else source


def _read_input(source: str) -> bytes:
    if source == "-":
        data = sys.stdin.buffer.read()
    else:
        if os.path.isdir(source):
            raise InputError(f"{source}: is a directory, not a patch or mbox file")
        with open(source, "rb") as fh:
            data = fh.read()
    if not data.strip():
        raise InputError(f"{_name(source)}: empty input")
    return data


# Messages are parsed with the compat32 policy: it leaves header values as written (the
# default policy rewrites a Date as "Fri, 02 Jan ..."), and _header() decodes RFC 2047.

def _messages(data: bytes) -> list[email.message.Message]:
    """An mbox ("From " separators), a single message, or a bare diff as one message."""
    if data.startswith(b"From "):
        return _mbox_messages(data)
    if HEADER_LINE.match(data):
        return [email.message_from_bytes(data)]
    bare = email.message.Message()
    bare.set_payload(data.decode("utf-8", "surrogateescape"))
    return [bare]


def _mbox_messages(data: bytes) -> list[email.message.Message]:
    """The messages of an mbox, cut as the standard mailbox.mbox cuts them (a message
    starts at each line beginning "From "; the blank line before the next one is not
    part of it), but in memory: mailbox.mbox wants a file, which would be a copy of
    the user's input left in the temporary directory by a killed run."""
    starts = [match.start() for match in MBOX_FROM_LINE.finditer(data)]
    messages = []
    for start, stop in zip(starts, starts[1:] + [len(data)]):
        if data.endswith(b"\n\n", start, stop):
            stop -= 1
        body = data.find(b"\n", start, stop) + 1 or stop  # after the "From " line
        messages.append(email.message_from_bytes(data[body:stop]))
    return messages


def _mail(message: email.message.Message) -> Mail:
    def header(name: str) -> str | None:
        value = message.get(name)
        return _header(value) if value is not None else None

    return Mail(header("Subject") or "", header("From"), header("Date"), header("Message-Id"),
                header("References"), header("To"), header("Cc"), _body(message))


MAX_HEADER = 65536  # characters of a header decoded: a References line of a long thread fits


def _header(value) -> str:
    """A header's text: RFC 2047 words decoded, folding and runs of blanks made one space.
    A longer header is cut first (at a blank): decode_header() takes time quadratic in
    the number of encoded words (a 4 MB Subject: a minute)."""
    # raw 8-bit bytes in a header (git format-patch writes Cc: names so) come as a Header
    # of unknown-8bit chunks: they are UTF-8, what git writes (str() would replace them)
    raw = value if isinstance(value, email.header.Header) else None
    value = _cut(str(value))
    try:
        parts = [(chunk, "utf-8" if charset == "unknown-8bit" else charset)
                 for chunk, charset in email.header.decode_header(raw if raw is not None else value)]
        text = str(email.header.make_header(parts))
    except (UnicodeError, LookupError, email.errors.HeaderParseError):
        text = value
    return " ".join(text.split())


def _cut(value: str) -> str:
    if len(value) <= MAX_HEADER:
        return value
    blank = value.rfind(" ", 0, MAX_HEADER)
    return value[:blank if blank > 0 else MAX_HEADER] + " [...]"


def _body(message: email.message.Message) -> str:
    """The text parts, transfer encoding undone, in their charset; CRLF made LF."""
    parts = [p for p in message.walk() if p.get_content_maintype() == "text"] or [message]
    texts = []
    for part in parts:
        payload = part.get_payload(decode=True)
        if payload is None:  # a bare diff set as a str payload
            payload = str(part.get_payload()).encode("utf-8", "surrogateescape")
        texts.append(_decode(payload, part.get_content_charset() or "utf-8"))
    return "\n".join(texts).replace("\r\n", "\n")


def _decode(payload: bytes, charset: str) -> str:
    try:
        return payload.decode(charset, "surrogateescape")
    except (LookupError, UnicodeError):  # an unknown charset, or bytes it cannot hold: UTF-8 is what git writes
        return payload.decode("utf-8", "surrogateescape")


def _number(subject: str) -> int | None:
    match = NUMBER.search(subject)
    return int(match.group(1)) if match else None


def _has_diff(body: str) -> bool:
    return _diff_start(body.split("\n")) is not None


def _patch(mail: Mail, number: int, total: int) -> Patch:
    lines = mail.body.split("\n")
    start = _diff_start(lines)
    where = f"patch {number}/{total}"
    return Patch(number, total, mail.subject, mail.author, mail.date, mail.message_id, mail.references,
                 mail.to, mail.cc, _commit_message(lines[:start]), parse_diff(lines[start:], where), mail.body)


def _commit_message(lines: list[str]) -> str:
    """What precedes the diff, without the "---" line and the diffstat git puts after it."""
    if "---" in lines:
        lines = lines[:lines.index("---")]
    return "\n".join(lines).strip()


def _diff_start(lines: list[str]) -> int | None:
    for i, line in enumerate(lines):
        if line.startswith("diff --git "):
            return i
        if line.startswith("--- ") and i + 2 < len(lines) and lines[i + 1].startswith("+++ ") \
                and lines[i + 2].startswith("@@ "):
            return i
    return None


# -- diff -------------------------------------------------------------------------------

def parse_diff(lines: list[str], where: str) -> list[FileDiff]:
    """Unified diffs, git's extended headers included.  Lines between files that are none
    of these (the "-- " signature, a diffstat) are skipped, as `git apply` does."""
    files: list[FileDiff] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("diff --git ") or (line.startswith("--- ") and i + 1 < len(lines)
                                              and lines[i + 1].startswith("+++ ")):
            i = _file_header(lines, i, files, where)
        elif line.startswith("@@ ") and files:
            i = _hunk(lines, i, files[-1], where)
        else:
            i += 1
    return files


def _file_header(lines: list[str], i: int, files: list[FileDiff], where: str) -> int:
    """Read one file's header lines from i; append the FileDiff; return the next index."""
    header = [lines[i]]
    names: dict[str, str | None] = {}
    flags: set[str] = set()
    if lines[i].startswith("diff --git "):
        names["git"] = lines[i][len("diff --git "):]
        i += 1
        while i < len(lines) and not lines[i].startswith(("diff --git ", "@@ ")) and _extended(lines[i]):
            _header_fact(lines[i], names, flags)
            header.append(lines[i])
            i += 1
    else:  # a plain unified diff: "--- old" then "+++ new"
        _header_fact(lines[i], names, flags)
        _header_fact(lines[i + 1], names, flags)
        header.append(lines[i + 1])
        i += 2
    old, new = _paths(names, flags, where)
    files.append(FileDiff(old, new, header, copy="copy" in flags, binary="binary" in flags))
    return i


EXTENDED = ("old mode ", "new mode ", "deleted file mode ", "new file mode ", "copy from ", "copy to ",
            "rename from ", "rename to ", "similarity index ", "dissimilarity index ", "index ",
            "--- ", "+++ ", "Binary files ", "GIT binary patch")


def _extended(line: str) -> bool:
    return line.startswith(EXTENDED)


def _header_fact(line: str, names: dict, flags: set) -> None:
    for prefix, key in (("--- ", "minus"), ("+++ ", "plus"), ("rename from ", "from"), ("rename to ", "to"),
                        ("copy from ", "from"), ("copy to ", "to")):
        if line.startswith(prefix):
            names[key] = line[len(prefix):]
    if line.startswith("new file mode "):
        flags.add("new")
    elif line.startswith("deleted file mode "):
        flags.add("deleted")
    elif line.startswith("copy from "):
        flags.add("copy")
    elif line.startswith(("Binary files ", "GIT binary patch")):
        flags.add("binary")


def _paths(names: dict, flags: set, where: str) -> tuple[str | None, str | None]:
    """(old path, new path) inside the tree, None for /dev/null; hostile paths refused."""
    if "from" in names and "to" in names:  # rename and copy names carry no a/ b/ prefix
        old, new = safe_path(unquote(names["from"]), where), safe_path(unquote(names["to"]), where)
    elif "minus" in names and "plus" in names:
        old, new = _diff_name(names["minus"], where), _diff_name(names["plus"], where)
    else:  # a mode change or a binary file: only the "diff --git a/P b/P" line names it
        old, new = _git_line_names(names.get("git", ""), where)
    if "new" in flags:
        old = None
    if "deleted" in flags:
        new = None
    if old is None and new is None:
        raise InputError(f"{where}: a file diff names no file")
    return old, new


def _diff_name(text: str, where: str) -> str | None:
    if not text.startswith('"'):
        text = text.split("\t")[0]  # plain diffs may append a timestamp after a tab
    name = unquote(text.rstrip())
    if name == "/dev/null":
        return None
    return safe_path(_strip_prefix(name, where), where, raw=name)


def _git_line_names(text: str, where: str) -> tuple[str, str]:
    if text.startswith('"'):
        first, rest = _split_quoted(text)
        return _diff_name(first, where), _diff_name(rest.strip(), where)
    half = (len(text) - 1) // 2  # "a/P b/P": both halves name the same path
    first, second = text[:half], text[half + 1:]
    if first[2:] != second[2:]:
        raise InputError(f"{where}: cannot read the file names of 'diff --git {text}'")
    return _diff_name(first, where), _diff_name(second, where)


def _split_quoted(text: str) -> tuple[str, str]:
    i = 1
    while i < len(text) and text[i] != '"':
        i += 2 if text[i] == "\\" else 1
    return text[:i + 1], text[i + 1:]


def _strip_prefix(name: str, where: str) -> str:
    """Drop the first path component (git's a/ and b/), as `git apply -p1` does."""
    if name.startswith("/"):  # absolute: keep it so that safe_path refuses it
        return name
    if "/" not in name:
        raise InputError(f"{where}: '{name}' has no a/ or b/ prefix to strip")
    return name.split("/", 1)[1]


ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}


def unquote(text: str) -> str:
    """git's C-style quoting of unusual file names: "a/tab\\there" -> a/tab<TAB>here."""
    if not (len(text) >= 2 and text[0] == text[-1] == '"'):
        return text
    out = bytearray()
    body = text[1:-1]
    i = 0
    while i < len(body):
        if body[i] == "\\" and i + 1 < len(body):
            if body[i + 1] in ESCAPES:
                out.append(ESCAPES[body[i + 1]])
                i += 2
                continue
            if body[i + 1:i + 4].isdigit():
                out.append(int(body[i + 1:i + 4], 8) & 0xFF)
                i += 4
                continue
        out.extend(body[i].encode("utf-8", "surrogateescape"))
        i += 1
    return out.decode("utf-8", "surrogateescape")


def safe_path(path: str, where: str, raw: str | None = None) -> str:
    """PATH if it stays inside the tree: never absolute, no '..', nothing in a .git
    directory (the in-memory tree could not be harmed, but such a patch is hostile)."""
    parts = path.split("/")
    if (raw or path).startswith("/") or path.startswith("/") or "\0" in path \
            or any(p in ("", ".", "..") for p in parts) or any(p.lower() == ".git" for p in parts):
        raise InputError(f"{where}: refusing the path '{raw or path}': it is absolute, leaves the tree "
                         f"or reaches into .git")
    return path


def _hunk(lines: list[str], i: int, target: FileDiff, where: str) -> int:
    match = HUNK_HEADER.match(lines[i])
    if not match:
        raise InputError(f"{where} '{target.path}': malformed hunk header '{lines[i]}'")
    old_start, old_count, new_start, new_count = (int(g) if g is not None else 1 for g in match.groups())
    hunk = Hunk(old_start, old_count, new_start, new_count, lines[i], [], [])
    old_left, new_left = old_count, new_count
    i += 1
    while old_left > 0 or new_left > 0 or (i < len(lines) and lines[i].startswith("\\")):
        if i >= len(lines):
            raise InputError(f"{where} '{target.path}': hunk #{len(target.hunks) + 1} ({hunk.range}) is truncated")
        line = lines[i]
        tag = line[:1] or " "  # mailers strip the space of an empty context line; git apply accepts that
        if tag == "\\" and hunk.lines:  # "\ No newline at end of file": the previous line has none
            previous_tag, previous_text = hunk.lines[-1]
            hunk.lines[-1] = (previous_tag, previous_text[:-1])
        elif tag in " -+" and (tag != "-" or old_left) and (tag != "+" or new_left) \
                and (tag != " " or (old_left and new_left)):
            hunk.lines.append((tag, line[1:] + "\n"))
            old_left -= tag != "+"
            new_left -= tag != "-"
        else:
            raise InputError(f"{where} '{target.path}': hunk #{len(target.hunks) + 1} ({hunk.range}) "
                             f"is corrupt at '{line[:40]}'")
        hunk.raw.append(line)
        i += 1
    target.hunks.append(hunk)
    return i
