"""The failure catalogue: one TOML file per finding type under the top-level `rules/`.

`rules/<slug>.toml` is the single source of a type's name, severity, directions, message
template, explanation, the errors QEMU prints, examples and fix recipes. `vmsd-lint rules`,
`vmsd-lint explain` and docs/catalogue.md all read it through `load_catalogue()`.

Installed, the files are the package `vmsd_lint.rules_data` (pyproject.toml maps it to
`rules/`); in a source checkout whose install does not know that package, they are read
from `rules/` beside `vmsd_lint/`.
"""
from __future__ import annotations

import functools
import hashlib
import importlib.resources
import os
import re
import string
import tomllib
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError
from .model import Direction, Severity

RULES_PACKAGE = "vmsd_lint.rules_data"
SEVERITIES = tuple(Severity)  # most severe first
DIRECTIONS = tuple(Direction)
ERROR_DIRECTIONS = (*DIRECTIONS, "both")  # a QEMU error printed in either direction

_KEYS = ("slug", "title", "severity", "directions", "summary", "message", "explanation",
         "related", "qemu_error", "example", "recipe")
# optional: the other severities and direction sets a finding of the type may carry
_OPTIONAL_KEYS = ("severities", "direction_sets")
_QEMU_ERROR_KEYS = {"text": True, "source": True, "direction": True, "note": False, "values": False, "id": False}
_EXAMPLE_KEYS = {"bad": True, "good": True}
_RECIPE_KEYS = {"title": True, "body": True}
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*\Z")


@dataclass(frozen=True, slots=True)
class QemuError:
    """An error QEMU prints when this failure happens: its printf format and where it is."""
    text: str  # the format as in the C source, string literals joined ("%"PRIu32" kept)
    source: str  # "migration/savevm.c: check_section_footer()"
    direction: str  # "forward", "backward" or "both"
    note: str | None = None
    values: tuple[str, ...] = ()  # what the conversions print in this failure ("" = anything)
    id: str | None = None  # how detection code names the error a finding shows (qemu_prints)


@dataclass(frozen=True, slots=True)
class Recipe:
    title: str
    body: str


@dataclass(frozen=True, slots=True)
class Rule:
    slug: str
    title: str
    severity: str  # default severity: error, warning or info
    directions: tuple[str, ...]  # the migration directions it breaks; empty for info-only types
    summary: str
    message: str  # str.format_map template over the finding's arguments
    explanation: str
    related: tuple[str, ...]
    qemu_errors: tuple[QemuError, ...]
    example_bad: str
    example_good: str
    recipes: tuple[Recipe, ...]
    # every severity and every (sorted) direction set a finding of this type may carry;
    # the first of each is `severity` and `directions`
    severities: tuple[str, ...] = ()
    direction_sets: tuple[tuple[str, ...], ...] = ()

    def allows(self, severity: str, directions: tuple[str, ...]) -> bool:
        """Whether a finding of this type may carry SEVERITY and DIRECTIONS. An info finding
        has no directions, and any finding may be downgraded to info (a machine-type verdict)."""
        if severity == "info":
            return directions == ()
        return severity in self.severities and bool(directions) and directions in self.direction_sets


def load_catalogue() -> dict[str, Rule]:
    """Every rule of the installed catalogue by slug, sorted by slug (read once per process)."""
    return dict(_installed())


@functools.cache
def _installed() -> tuple[tuple[str, Rule], ...]:
    return tuple(load_rules(rules_location()).items())


def catalogue_version() -> str:
    """The catalogue's version: the first 12 hex digits of the SHA-256 of its rule files,
    each hashed as its name, a NUL, its bytes and a NUL, in name order.  Any change to a
    rule -- its severity, directions, message, a QEMU error -- changes it; nothing else does."""
    return _catalogue_digest()


@functools.cache
def _catalogue_digest() -> str:
    digest = hashlib.sha256()
    for entry in sorted(rules_location().iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            digest.update(entry.name.encode() + b"\0" + entry.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def rules_location():
    """The directory (a Path or an importlib Traversable) holding the rule files."""
    try:
        files = importlib.resources.files(RULES_PACKAGE)
        if any(entry.name.endswith(".toml") for entry in files.iterdir()):
            return files
    except (ModuleNotFoundError, FileNotFoundError, NotADirectoryError):
        pass
    checkout = Path(__file__).resolve().parent.parent / "rules"
    if checkout.is_dir():
        return checkout
    raise InputError(f"the rule catalogue is missing: neither the package {RULES_PACKAGE} "
                     f"nor {checkout} holds rules/*.toml (reinstall vmsd-lint)")


def load_rules(directory) -> dict[str, Rule]:
    """Read and validate every `*.toml` in directory; a bad file raises InputError naming it."""
    raw: dict[str, tuple[str, dict]] = {}
    for entry in sorted(directory.iterdir(), key=lambda e: e.name.rsplit(".", 1)[0]):
        if not entry.name.endswith(".toml"):
            continue
        where = str(entry) if isinstance(entry, os.PathLike) else f"{RULES_PACKAGE}/{entry.name}"
        try:
            data = tomllib.loads(entry.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise InputError(f"{where}: invalid TOML: {exc}") from None
        except (OSError, UnicodeError) as exc:
            raise InputError(f"{where}: cannot read: {exc}") from None
        raw[entry.name[:-len(".toml")]] = (where, data)
    if not raw:
        raise InputError(f"{directory}: no rule files (*.toml)")
    rules = {stem: _rule(where, stem, data) for stem, (where, data) in raw.items()}
    for rule in rules.values():
        where = raw[rule.slug][0]
        for other in rule.related:
            if other not in rules:
                raise InputError(f"{where}: related rule '{other}' does not exist")
            if other == rule.slug:
                raise InputError(f"{where}: a rule cannot be related to itself")
    return rules


def _rule(where: str, stem: str, data: dict) -> Rule:
    def bad(problem: str) -> InputError:
        return InputError(f"{where}: {problem}")

    missing = [key for key in _KEYS if key not in data]
    if missing:
        raise bad(f"missing key{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
    unknown = sorted(set(data) - set(_KEYS) - set(_OPTIONAL_KEYS))
    if unknown:
        raise bad(f"unknown key{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}")
    text = {key: _text(bad, key, data[key]) for key in ("slug", "title", "severity", "summary",
                                                         "message", "explanation")}
    if text["slug"] != stem:
        raise bad(f"slug '{text['slug']}' differs from the file name '{stem}.toml'")
    if not _SLUG.match(stem):
        raise bad(f"slug '{stem}' is not lower-case words joined by '-'")
    if text["severity"] not in SEVERITIES:
        raise bad(f"severity '{text['severity']}' is not one of {', '.join(SEVERITIES)}")
    if "\n" in text["summary"].strip():
        raise bad("summary must be one line")
    directions = _strings(bad, "directions", data["directions"], allow_empty=True)
    for direction in directions:
        if direction not in DIRECTIONS:
            raise bad(f"direction '{direction}' is not one of {', '.join(DIRECTIONS)}")
    if text["severity"] != "info" and not directions:
        raise bad(f"a rule of severity {text['severity']} must name the directions it breaks")
    if text["severity"] == "info" and directions:
        raise bad("an info rule breaks no direction: its directions must be []")
    severities, direction_sets = _allowed(bad, text["severity"], directions, data)
    placeholders(text["message"], where)
    qemu_errors = tuple(_qemu_error(bad, n, fields) for n, fields in enumerate(
        _tables(bad, "qemu_error", data["qemu_error"], _QEMU_ERROR_KEYS), 1))
    named = [error.id for error in qemu_errors if error.id]
    if len(set(named)) != len(named):
        raise bad("two qemu_error entries have the same id")
    if not isinstance(data["example"], dict):
        raise bad("example must be a table with keys bad and good")
    example = _table(bad, "example", data["example"], _EXAMPLE_KEYS)
    recipes = tuple(Recipe(**fields) for fields in _tables(bad, "recipe", data["recipe"], _RECIPE_KEYS))
    return Rule(slug=stem, title=text["title"].strip(), severity=text["severity"],
                directions=directions, summary=text["summary"].strip(), message=text["message"],
                explanation=text["explanation"].strip(),
                related=_strings(bad, "related", data["related"], allow_empty=True),
                qemu_errors=qemu_errors, example_bad=example["bad"].strip("\n"),
                example_good=example["good"].strip("\n"), recipes=recipes,
                severities=severities, direction_sets=direction_sets)


def _allowed(bad, severity: str, directions: tuple[str, ...], data: dict):
    """(severities, direction sets) a finding may carry: the defaults first, then the
    optional `severities` and `direction_sets` lists."""
    severities = (severity,) + tuple(s for s in _strings(bad, "severities", data.get("severities", []),
                                                          allow_empty=True) if s != severity)
    for other in severities:
        if other not in SEVERITIES:
            raise bad(f"severities: '{other}' is not one of {', '.join(SEVERITIES)}")
    raw = data.get("direction_sets", [])
    if not isinstance(raw, list) or not all(isinstance(d, list) for d in raw):
        raise bad("direction_sets must be a list of lists of directions")
    sets = [tuple(sorted(directions))]
    for entry in raw:
        for direction in entry:
            if direction not in DIRECTIONS:
                raise bad(f"direction_sets: '{direction}' is not one of {', '.join(DIRECTIONS)}")
        if not entry and "info" not in severities:
            raise bad("direction_sets: [] (wire-compatible) needs severity info among the severities")
        if tuple(sorted(entry)) not in sets:
            sets.append(tuple(sorted(entry)))
    if any(s != "info" for s in severities) and not any(sets):
        raise bad("a rule with a severity above info must name a direction set it breaks")
    return severities, tuple(sets)


def _qemu_error(bad, n: int, fields: dict) -> QemuError:
    what = f"qemu_error #{n}"
    if fields["direction"] not in ERROR_DIRECTIONS:
        raise bad(f"{what}: direction '{fields['direction']}' is not one of {', '.join(ERROR_DIRECTIONS)}")
    values = fields.get("values", [])
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise bad(f"{what}: values must be a list of strings")
    if values and len(values) != conversions(fields["text"]):
        raise bad(f"{what}: values gives {len(values)} values, the format prints {conversions(fields['text'])}")
    return QemuError(**{**fields, "values": tuple(values)})


def _text(bad, key: str, value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise bad(f"{key} must be a non-empty string")
    return value


def _strings(bad, key: str, value, allow_empty: bool) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise bad(f"{key} must be a list of strings")
    if not value and not allow_empty:
        raise bad(f"{key} must not be empty")
    if len(set(value)) != len(value):
        raise bad(f"{key} lists an entry twice")
    return tuple(value)


def _tables(bad, key: str, value, keys: dict[str, bool]) -> list[dict]:
    if not isinstance(value, list) or not value or not all(isinstance(v, dict) for v in value):
        raise bad(f"{key} must be one or more [[{key}]] tables")
    return [_table(bad, f"{key} #{n}", table, keys) for n, table in enumerate(value, 1)]


def _table(bad, what: str, table: dict, keys: dict[str, bool]) -> dict:
    unknown = sorted(set(table) - set(keys))
    if unknown:
        raise bad(f"{what}: unknown key {', '.join(unknown)}")
    for key, required in keys.items():
        if key in table and key != "values":
            table = {**table, key: _text(bad, f"{what}: {key}", table[key])}
        elif required:
            raise bad(f"{what}: missing key {key}")
    verbatim = ("body", "bad", "good")  # code and prose keep their layout
    return {key: value if key in verbatim or not isinstance(value, str) else value.strip()
            for key, value in table.items()}


def placeholders(template: str, where: str = "message") -> tuple[str, ...]:
    """The argument names a message template uses; each must be a plain name like {field}."""
    names = []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise InputError(f"{where}: message template: {exc}") from None
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            shown = "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            raise InputError(f"{where}: message placeholder {shown} is not a plain name like {{field}}")
        names.append(name)
    return tuple(dict.fromkeys(names))


class _Shown(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def render_message(rule: Rule, args) -> str:
    """The rule's message with args filled in; a missing argument shows as {name}."""
    try:
        return rule.message.format_map(_Shown(args or {}))
    except (ValueError, IndexError, KeyError, AttributeError, TypeError):
        return rule.message


# --- matching a runtime error line to the rules that explain it -------------------------

_PRI_MACRO = re.compile(r'%\s*"?\s*PRI([diouxX])(?:8|16|32|64|MAX|PTR)\s*"?')
_SPEC = re.compile(r"%(?P<flags>[-+ #0']*)(?P<width>\*|\d+)?(?:\.(?:\*|\d+))?"
                   r"(?:hh|h|ll|l|j|z|t|L|q)?(?P<conv>[diouxXeEfFgGaAcspn%])")
_CONVERSIONS = {
    "d": r"[-+]?\d+", "i": r"[-+]?\d+", "u": r"\d+", "o": r"[0-7]+",
    "x": r"(?:0x)?[0-9a-f]+", "X": r"(?:0x)?[0-9a-f]+",
    "c": r".", "s": r".*?", "p": r"(?:0x[0-9a-f]+|\(nil\))",
}
_FLOAT = r"[-+]?(?:\d+\.?\d*(?:e[-+]?\d+)?|inf|nan)"
_QUOTES = {"'": "['‘’`]", '"': "[\"“”]"}


@dataclass(frozen=True, slots=True)
class _Token:
    regex: str
    weight: int  # literal characters it matches: how specific it is
    conversion: bool = False  # a printf conversion: its text is captured


def c_format(text: str) -> str:
    """A format as printf sees it: `%"PRIx32"` / `%" PRIx32 "` become `%x`."""
    return _PRI_MACRO.sub(lambda m: "%" + m.group(1), text)


def qemu_prints(slug: str, error_id: str, *values) -> str:
    """The line QEMU prints for a finding: the rule's qemu_error named ERROR_ID, its printf
    conversions filled with VALUES in order (an int under %x in hex, anything else as text,
    so that a placeholder such as '{section}' passes through)."""
    rule = load_catalogue()[slug]
    error = next((e for e in rule.qemu_errors if e.id == error_id), None)
    if error is None:
        raise ValueError(f"rules/{slug}.toml has no qemu_error with id '{error_id}'")
    pending = list(values)

    def fill(match: re.Match) -> str:
        if match.group("conv") == "%":
            return "%"
        if not pending:
            raise ValueError(f"rules/{slug}.toml: qemu_error '{error_id}' prints more values than given")
        value = pending.pop(0)
        return format(value, "x") if match.group("conv") in "xX" and isinstance(value, int) else str(value)

    line = _SPEC.sub(fill, c_format(error.text))
    if pending:
        raise ValueError(f"rules/{slug}.toml: qemu_error '{error_id}' prints fewer values than given")
    return line


def conversions(text: str) -> int:
    """How many values a format prints (%% and %n print none)."""
    return sum(1 for token in _tokens(text) if token.conversion)


@functools.lru_cache(maxsize=512)
def _tokens(text: str) -> tuple[_Token, ...]:
    fmt, tokens, pos = c_format(text), [], 0

    def literal(chunk: str) -> None:
        for word in chunk.split():
            tokens.append(_Token("".join(_QUOTES.get(ch, re.escape(ch)) for ch in word), len(word)))

    for spec in _SPEC.finditer(fmt):
        literal(fmt[pos:spec.start()])
        conv = spec.group("conv")
        if conv == "%":
            tokens.append(_Token("%", 1))
        elif conv != "n":
            tokens.append(_Token(_CONVERSIONS.get(conv, _FLOAT), 0, conversion=True))
        pos = spec.end()
    literal(fmt[pos:])
    return tuple(tokens)


def _pattern(tokens, whole: bool) -> str:
    parts = [f"({t.regex})" if t.conversion else t.regex for t in tokens]
    if whole and tokens and tokens[-1].regex == _CONVERSIONS["s"]:
        parts[-1] = "(.*)"  # a %s that ends the format takes the rest of the line
    return r"\s*".join(parts)


@functools.lru_cache(maxsize=512)
def _compiled(text: str) -> tuple[re.Pattern, tuple[tuple[re.Pattern, int], ...], int]:
    """The full pattern, the prefix patterns (longest first) with their weights, total weight."""
    tokens = _tokens(text)
    total = sum(t.weight for t in tokens)
    prefixes = []
    for k in range(len(tokens) - 1, 0, -1):
        weight = sum(t.weight for t in tokens[:k])
        if weight >= 12 and (weight >= 18 or 3 * weight >= total):
            # the pasted line ends here, possibly in the middle of the next word
            tail = r"(?:\s*\S{0,40})?[\s.…]*$"
            prefixes.append((re.compile(_pattern(tokens[:k], False) + tail, re.I), weight))
    return re.compile(_pattern(tokens, True), re.I), tuple(prefixes), total


def _values_agree(error: QemuError, match: re.Match) -> bool:
    for want, got in zip(error.values, match.groups()):
        if want and got is not None and " ".join(got.split()).lower() != want.lower():
            return False
    return True


def _score(error: QemuError, line: str) -> tuple[int, int, int] | None:
    """(tier, anchored, weight): tier 2 = the whole format matched, 1 = the line is cut short."""
    full, prefixes, total = _compiled(error.text)
    match = full.search(line)
    if match:
        if not _values_agree(error, match):
            return None
        # the values the entry pins ("cpu", "cpreg_vmstate_array_len") make it more specific
        pinned = sum(len(want) for want, got in zip(error.values, match.groups()) if want and got is not None)
        return 2, int(not line[match.end():].strip(" .\t")), total + pinned
    for prefix, weight in prefixes:
        match = prefix.search(line)
        if match:
            return (1, 1, weight) if _values_agree(error, match) else None
    return None


def match_error(text: str) -> list[tuple[Rule, QemuError]]:
    """The rules whose QEMU errors match a pasted runtime error (one or more lines), best first.

    One entry per rule, with the rule's best-matching error; see match_error_lines().
    """
    return [(rule, error) for rule, error, _ in match_error_lines(text)]


def match_error_lines(text: str) -> list[tuple[Rule, QemuError, int]]:
    """match_error() with the number of pasted lines each rule explains.

    One entry per rule, with the rule's best-matching error. Whole-format matches rank
    before lines that stop part-way through a format; then rules that explain more of the
    pasted lines; then lines explained up to their end; then more specific formats; then
    the rule's own ordering (its usual symptom first); then errors before warnings before
    infos; then the rule the other candidates name in `related` (the centre of the
    family); then the slug.
    """
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    catalogue = load_catalogue()
    best: dict[str, tuple[tuple[int, int, int], int]] = {}  # slug -> (score, error index)
    lines_hit: dict[str, set[int]] = {}
    for rule in catalogue.values():
        for index, error in enumerate(rule.qemu_errors):
            for number, line in enumerate(lines):
                score = _score(error, line)
                if score is None:
                    continue
                lines_hit.setdefault(rule.slug, set()).add(number)
                if rule.slug not in best or (score, -index) > (best[rule.slug][0], -best[rule.slug][1]):
                    best[rule.slug] = (score, index)
    named_by = {slug: sum(slug in catalogue[other].related for other in best) for slug in best}
    ranked = sorted(best, key=lambda slug: (
        -best[slug][0][0], -len(lines_hit[slug]), -best[slug][0][1], -best[slug][0][2], best[slug][1],
        SEVERITIES.index(catalogue[slug].severity), -named_by[slug], slug))
    return [(catalogue[slug], catalogue[slug].qemu_errors[best[slug][1]], len(lines_hit[slug]))
            for slug in ranked]


def error_values(error: QemuError, line: str) -> list[str]:
    """The values a line gives the format's conversions, in order (empty when it does not match)."""
    full, prefixes, _ = _compiled(error.text)
    match = full.search(line) or next((m for p, _ in prefixes if (m := p.search(line))), None)
    return [" ".join((value or "").split()) for value in match.groups()] if match else []
