"""Text of an e-mail: HTML to plain text, and the new text split from quotes, signature and
forwarded mail. Pure functions used by ``normalizer.email``; any input gives an answer.

Reply and forward headers are matched in English and Indonesian as Gmail, Outlook, Apple Mail,
Thunderbird and Yahoo write them ("On … wrote:", "Pada … menulis:", "-----Original Message-----",
"Dari: … Dikirim: … Kepada: … Subjek:", "---------- Forwarded message ---------").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import PreformattedString

from pengaduan.normalizer.text import clean_text

# --- HTML to text -----------------------------------------------------------------------------

_SKIPPED = frozenset(
    {"script", "style", "head", "title", "noscript", "template", "svg", "object", "iframe"}
)
_BLOCKS = frozenset(
    {
        "address", "article", "aside", "blockquote", "center", "dd", "details", "dialog", "div",
        "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "header", "hr", "li",
        "main", "nav", "ol", "pre", "section", "summary", "table", "tbody", "thead", "tfoot",
        "tr", "ul", "caption", "h1", "h2", "h3", "h4", "h5", "h6", "p",
    }
)
_PARAGRAPHS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "table"})
_WHITESPACE = re.compile(r"\s+")
_DATA_URI = re.compile(r"data:[^\"'\s>]{256,}")


class _Lines:
    """Collects text runs into lines; blockquote depth becomes a "> " prefix per line."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.parts: list[str] = []
        self.quote = 0
        self.line_quote = 0

    def write(self, text: str) -> None:
        if not self.parts:
            self.line_quote = self.quote
        self.parts.append(text)

    def end_line(self, force: bool = False) -> None:
        line = " ".join("".join(self.parts).split())
        self.parts = []
        if not line and not force:
            return
        depth = self.line_quote if line else self.quote
        if depth:
            line = ">" * depth + (" " + line if line else "")
        self.lines.append(line)

    def blank(self) -> None:
        self.end_line()
        if self.lines and self.lines[-1] != "":
            self.lines.append("")


def html_to_text(html: str) -> str:
    """Readable plain text from an HTML body (script, style and head dropped).

    Block elements and ``<br>`` end lines, a table row becomes one line with cells joined by
    " | ", list items start with "- ", a blockquote's lines start with "> " so the reply
    splitter can find them. Walks the tree with an explicit stack: deep nesting is no danger.
    """
    html = _DATA_URI.sub("data:", html)  # inline base64 images are megabytes of no text
    soup = BeautifulSoup(html, "html.parser")
    out = _Lines()
    cells: list[int] = []  # cells written so far in each open table row
    pre = 0
    stack: list[tuple[object, bool]] = [(soup, False)]
    while stack:
        node, closing = stack.pop()
        if isinstance(node, NavigableString):
            if isinstance(node, PreformattedString):  # comments, doctype, CDATA
                continue
            text = str(node)
            if pre:
                first, *rest = text.split("\n")
                out.write(first)
                for line in rest:
                    out.end_line(force=True)
                    out.write(line)
            elif text.strip() or out.parts:
                out.write(_WHITESPACE.sub(" ", text))
            continue
        if not isinstance(node, Tag):
            continue
        name = (node.name or "").lower()
        if closing:
            if name == "blockquote":
                out.end_line()
                out.quote -= 1
            elif name == "tr" and cells:
                cells.pop()
            elif name == "pre":
                pre -= 1
            if name in _PARAGRAPHS:
                out.blank()
            elif name in _BLOCKS:
                out.end_line()
            continue
        if name in _SKIPPED or _hidden(node):
            continue
        if name == "br":
            out.end_line(force=True)
            continue
        if name in _PARAGRAPHS:
            out.blank()
        elif name in _BLOCKS:
            out.end_line()
        if name == "blockquote":
            out.quote += 1
        elif name == "tr":
            cells.append(0)
        elif name in ("td", "th") and cells:
            if cells[-1] and out.parts:
                out.write(" | ")
            cells[-1] += 1
        elif name == "li":
            out.write("- ")
        elif name == "pre":
            pre += 1
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(node.contents))
    out.end_line()
    return clean_text("\n".join(out.lines))


def _hidden(tag: Tag) -> bool:
    style = tag.get("style")
    return isinstance(style, str) and "display:none" in style.replace(" ", "").lower()


def unflow(text: str, delsp: bool) -> str:
    """Join the soft line breaks of ``format=flowed`` text (RFC 3676); "-- " stays a line."""
    out: list[str] = []
    paragraph: list[str] = []  # pieces of one flowed line, joined once (no quadratic concat)
    for line in text.split("\n"):
        if line.endswith(" ") and line != "-- ":
            paragraph.append(line[:-1] if delsp else line)
            continue
        paragraph.append(line)
        out.append("".join(paragraph))
        paragraph = []
    if paragraph:
        out.append("".join(paragraph))
    return "\n".join(out)


# --- replies, signatures, forwards ------------------------------------------------------------

_QUOTE_LINE = re.compile(r"^[ \t]{0,3}>(?!\d)")  # ">3 bulan" is text, not a quote
_ATTRIBUTION_START = re.compile(r"^[ \t]*(?:on|pada)\s", re.IGNORECASE)
_ATTRIBUTION_END = re.compile(r"\b(?:wrote|menulis)\s*:\s*$", re.IGNORECASE)
_ORIGINAL_MESSAGE = re.compile(
    r"^[ \t]*-{2,}\s*(?:original message|pesan asli|pesan awal)\s*-{2,}\s*$", re.IGNORECASE
)
_FORWARD_SEPARATOR = re.compile(
    r"^[ \t]*[-=_ ]*(?:forwarded message|forwarded e-?mail|begin forwarded message"
    r"|pesan (?:yang )?diteruskan|awal pesan yang diteruskan|pesan terusan)\s*:?[-=_ ]*$",
    re.IGNORECASE,
)
_UNDERSCORES = re.compile(r"^[ \t]*_{8,}\s*$")
_FIELD = re.compile(
    r"^[ \t]*\*?(from|dari|sent|dikirim|date|tanggal|to|kepada|cc|subject|subjek|perihal"
    r"|reply-to|balas ke)\*?\s*:\*?\s*(.*)$",
    re.IGNORECASE,
)
_FIELD_NAMES = {
    "from": "from", "dari": "from",
    "sent": "date", "dikirim": "date", "date": "date", "tanggal": "date",
    "to": "to", "kepada": "to", "cc": "cc",
    "subject": "subject", "subjek": "subject", "perihal": "subject",
    "reply-to": "reply_to", "balas ke": "reply_to",
}
_MOBILE_SIGNATURE = re.compile(
    r"^(?:sent from (?:my )?\S.*|sent via \S.*|get outlook for \S.*|dapatkan outlook untuk \S.*"
    r"|dikirim dari \S.*|dikirim melalui \S.*)$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Reply:
    """A message text split into what is new, what it quotes, and the sender's signature."""

    new: str
    quoted: str = ""
    signature: str = ""


@dataclass(frozen=True)
class Forward:
    """An inline forwarded message: the forwarder's note, the header lines, the content."""

    note: str
    fields: dict[str, str] = field(default_factory=dict)
    content: str = ""


def split_reply(text: str) -> Reply:
    """Split quoted replies and the signature off the new text.

    Top-posting (new text, then "On … wrote:" / "Pada … menulis:" and the quote), bottom and
    interleaved posting (unquoted lines between "> " lines are new) and Outlook's unquoted
    history ("-----Original Message-----", "From:/Sent:/To:/Subject:" in either language) are
    all handled; everything from an Outlook header block on is quoted.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    new: list[str] = []
    quoted: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        cut = _history_start(lines, index)
        if cut is not None:
            if new and _UNDERSCORES.match(new[-1]):
                new.pop()
            quoted.extend(lines[index:])
            break
        end = _attribution_end(lines, index)
        if end is not None:
            following = _next_filled(lines, end + 1)
            if following is not None and _QUOTE_LINE.match(lines[following]):
                quoted.extend(lines[index:following])
                index = following
                continue
            quoted.extend(lines[index:])  # an attribution over an unquoted history
            break
        if _QUOTE_LINE.match(line):
            quoted.append(line)
        else:
            new.append(line)
        index += 1
    body, signature = _split_signature(new)
    return Reply(clean_text(body), clean_text("\n".join(quoted)), clean_text(signature))


def find_forward(text: str, forward_subject: bool) -> Forward | None:
    """The inline forwarded message in ``text``, when one comes before any quoted history.

    Gmail, Apple Mail and Thunderbird separators (English and Indonesian) always count;
    Outlook's "-----Original Message-----" and bare "From:/Sent:" blocks count only when the
    subject says it is a forward (``forward_subject``), since replies use the same lines.
    A forward needs a "From:"/"Dari:" line, or the original sender could not be told.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for index, line in enumerate(lines):
        if _QUOTE_LINE.match(line) or _attribution_end(lines, index) is not None:
            return None
        if _FORWARD_SEPARATOR.match(line) or (
            forward_subject and _ORIGINAL_MESSAGE.match(line)
        ):
            start = index + 1
        elif forward_subject and _history_start(lines, index) is not None:
            start = index
        elif _history_start(lines, index) is not None:
            return None
        else:
            continue
        fields, content_start = _read_fields(lines, start)
        if "from" not in fields:
            return None
        note_lines = lines[:index]
        if note_lines and _UNDERSCORES.match(note_lines[-1]):
            note_lines.pop()
        return Forward(
            note=clean_text("\n".join(note_lines)),
            fields=fields,
            content="\n".join(lines[content_start:]),
        )
    return None


def _read_fields(lines: list[str], start: int) -> tuple[dict[str, str], int]:
    """The header lines of a forwarded or quoted message from ``start``; and where text starts."""
    fields: dict[str, str] = {}
    last: str | None = None
    index = start
    while index < len(lines) and not lines[index].strip():
        index += 1
    while index < len(lines):
        line = lines[index]
        if not line.strip():
            index += 1
            break
        found = _FIELD.match(line)
        if found:
            last = _FIELD_NAMES[found.group(1).lower()]
            fields.setdefault(last, found.group(2).strip())
        elif last is not None and len(fields) < 8:  # a wrapped header line
            fields[last] = f"{fields[last]} {line.strip()}"
        else:
            break
        index += 1
    return fields, index


def _history_start(lines: list[str], index: int) -> int | None:
    """``index`` when an Outlook-style quoted history starts at that line."""
    line = lines[index]
    if _ORIGINAL_MESSAGE.match(line):
        return index
    found = _FIELD.match(line)
    if not found or _FIELD_NAMES[found.group(1).lower()] != "from":
        return None
    names: set[str] = set()
    words: set[str] = set()
    for following in lines[index + 1 : index + 7]:
        field_match = _FIELD.match(following)
        if field_match:
            names.add(_FIELD_NAMES[field_match.group(1).lower()])
            words.add(field_match.group(1).lower())
    if not names & {"to", "subject", "cc"}:
        return None
    if words & {"sent", "dikirim"}:  # Outlook's own words
        return index
    if "date" in names and "@" in found.group(2):
        return index
    return None


def _attribution_end(lines: list[str], index: int) -> int | None:
    """The last line of an "On … wrote:" / "Pada … menulis:" header starting at ``index``.

    Gmail wraps long ones ("… I Wayan Sudarma <" / "wayan@example.id> menulis:"), so up to
    four lines are joined. It must hold a digit (its date) and either an address or be
    followed by "> " lines, so "Pada tanggal 3 … petugas menulis:" in a letter is not one.
    """
    if not _ATTRIBUTION_START.match(lines[index]):
        return None
    joined = ""
    for end in range(index, min(index + 4, len(lines))):
        if end > index and not lines[end].strip():
            return None
        joined = f"{joined} {lines[end].strip()}"
        if len(joined) > 400:
            return None
        if _ATTRIBUTION_END.search(joined):
            if not any(ch.isdigit() for ch in joined):
                return None
            following = _next_filled(lines, end + 1)
            quoted_next = following is not None and _QUOTE_LINE.match(lines[following])
            return end if "@" in joined or quoted_next else None
    return None


def _next_filled(lines: list[str], start: int) -> int | None:
    for index in range(start, min(start + 50, len(lines))):
        if lines[index].strip():
            return index
    return None


def _split_signature(lines: list[str]) -> tuple[str, str]:
    """(text, signature): a "-- " line starts a signature (a bare "--" only before at most ten
    filled lines); so does a short "Sent from my …" / "Dikirim dari …" line among the last
    three filled lines."""
    filled_after = 0
    for index in range(len(lines) - 1, -1, -1):
        line = lines[index]
        if line == "-- " or (line.strip() == "--" and filled_after <= 10):
            return "\n".join(lines[:index]), "\n".join(lines[index + 1 :])
        if line.strip():
            filled_after += 1
    filled = [index for index, line in enumerate(lines) if line.strip()][-3:]
    for index in filled:
        line = lines[index].strip()
        if len(line) <= 70 and _MOBILE_SIGNATURE.match(line) and not line.endswith("."):
            return "\n".join(lines[:index]), "\n".join(lines[index:])
    return "\n".join(lines), ""
