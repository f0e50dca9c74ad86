"""Read articles from files, directories, feeds, JSON Lines or stdin into `Document` records.

Whatever cannot be read becomes a `Problem` naming the input and the reason, and
reading goes on with the rest: bad input never raises out of `read_inputs`.
Publication dates come from the input's own metadata or from the caller, never
from the day of ingestion.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import json
import os
import re
import stat
import sys
import time
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlparse

import charset_normalizer
import dateparser
import feedparser
import lxml.html
import trafilatura

from vigil.model import Document, Problem

# Which reader produced a document; stored in Document.metadata under "reader".
RULE_TEXT = "ingest.text_header@1"
RULE_HTML = "ingest.html_trafilatura@1"
RULE_FEED = "ingest.feed_entry@1"
RULE_JSONL = "ingest.jsonl_record@1"

HEADER_KEYS = frozenset(
    {"url", "date", "published", "title", "source", "outlet", "extent", "author", "language"}
)
KINDS = ("text", "html", "feed", "jsonl")

_KIND_BY_SUFFIX = {
    ".txt": "text",
    ".text": "text",
    ".md": "text",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".xml": "feed",
    ".rss": "feed",
    ".atom": "feed",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
# UTF-32 before UTF-16: the UTF-32-LE mark starts with the UTF-16-LE one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Undeclared legacy bytes are read as windows-1252 (the WHATWG default, a superset of
# latin-1 for text) when that reads cleanly; charset-normalizer alone misjudges short texts.
_WESTERN_MAX_CHAOS = 0.1
_MAX_NON_TEXT = 0.1
_MAX_DATE_LEN = 100
# Absolute dates only, all three parts: "today" or "2 days ago" must never become a date.
_DATEPARSER_SETTINGS = {
    "PARSERS": ["custom-formats", "absolute-time"],
    "REQUIRE_PARTS": ["day", "month", "year"],
    "STRICT_PARSING": True,
    "RETURN_AS_TIMEZONE_AWARE": False,
}
# htmldate without its free-text guessing (which turns "Copyright 2019" into 2019-01-01).
_HTML_DATE_PARAMS = {"extensive_search": False, "original_date": True}

_KEY_LINE = re.compile(r"[ \t]*([A-Za-z]+)[ \t]*:[ \t]*(.*?)[ \t\r]*")
_BARE_DATE = re.compile(r"[ \t]*date[ \t]+(\d{4}-\d{2}-\d{2})(?:[ \t]+(?=\S)|[ \t\r]*$)", re.IGNORECASE)
_FEED_START = re.compile(r"<(rss|feed|rdf:rdf)\b")
_HTML_START = re.compile(r"<(!doctype html|html|head|body|article|div|p)\b")
# A folder's own notes (README.md, LICENSE, ...) are not articles; named explicitly, they are read.
_FOLDER_NOTES = re.compile(r"(?i)^(?:readme|licen[cs]e|notice|changelog|provenance)(?:\.[a-z]+)?$")
_BLOCK_TAGS = frozenset(
    {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "section"}
)


@dataclass(frozen=True, kw_only=True)
class IngestOptions:
    """How to read inputs: the caller's publication date and a size limit per input."""

    published: date | None = None  # the caller's publication date (--published), used when metadata has none
    max_bytes: int = 10_000_000  # larger inputs are skipped with a reason, without reading them whole


@dataclass(frozen=True, kw_only=True)
class Header:
    """The metadata lines at the top of a plain-text article, and where its body starts."""

    fields: tuple[tuple[str, str], ...] = ()  # (lower-case key, value) in file order
    body_offset: int = 0

    def get(self, key: str) -> str | None:
        """The first value given for `key`, or None."""
        return next((value for k, value in self.fields if k == key), None)


class _Unreadable(Exception):
    """Raised inside the readers for input that becomes a Problem."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- public helpers -------------------------------------------------------------


def normalise_text(text: str) -> str:
    """The stored form of a text: "\\n" line endings, Unicode NFC and no NUL (no database keeps one)."""
    return unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", ""))


def content_hash(text: str) -> str:
    """sha256 hex of the text with line endings, Unicode form and whitespace runs normalised."""
    canonical = " ".join(normalise_text(text).split())
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def make_document(
    text: str,
    *,
    name: str,
    source: str,
    title: str | None = None,
    url: str | None = None,
    outlet: str | None = None,
    published: date | None = None,
    published_from: str | None = None,
    language: str = "en",
    metadata: tuple[tuple[str, str], ...] = (),
) -> Document:
    """A Document whose id is the first 16 hex digits of the text's content hash."""
    text = normalise_text(text)
    digest = content_hash(text)
    if published is not None and published_from is None:
        published_from = "metadata"
    return Document(
        id=digest[:16],
        content_hash=digest,
        text=text,
        name=name,
        source=source,
        title=title,
        url=url,
        outlet=outlet,
        published=published,
        published_from=published_from if published is not None else None,
        language=language,
        metadata=metadata,
    )


def parse_header(raw: str) -> Header:
    """Read `key: value` lines (keys in HEADER_KEYS) or a bare `date YYYY-MM-DD [title]` line
    at the top of `raw`. A blank line ends the header and is skipped; any other line ends it
    and starts the body. The title after a bare date stays in the body as its first line."""
    fields: list[tuple[str, str]] = []
    offset = 0
    for start, line in _lines(raw):
        end = start + len(line)
        if not fields:
            if not line.strip():
                continue
            bare = _BARE_DATE.match(line)
            if bare:
                fields.append(("date", bare[1]))
                title = line[bare.end() :].strip()
                if title:
                    fields.append(("title", title))
                    return Header(fields=tuple(fields), body_offset=start + bare.end())
                offset = end + 1
                continue
        keyed = _KEY_LINE.fullmatch(line)
        if keyed and keyed[1].lower() in HEADER_KEYS:
            fields.append((keyed[1].lower(), keyed[2]))
            offset = end + 1
            continue
        if fields and not line.strip():
            offset = end + 1
        break
    if not fields:
        return Header()
    return Header(fields=tuple(fields), body_offset=min(offset, len(raw)))


def parse_date(value: str) -> date | None:
    """A calendar date written in full (ISO, "22 March 2025", RFC 822 ...), else None.
    The date is taken as written, not shifted to UTC; relative words never parse."""
    value = value.strip()
    if not value or len(value) > _MAX_DATE_LEN:
        return None
    try:
        return datetime.fromisoformat(value).date()
    except ValueError:
        pass
    try:
        parsed = dateparser.parse(value, languages=["en"], settings=_DATEPARSER_SETTINGS)
    except Exception:  # dateparser can fail in many ways on odd strings; unparseable is the answer
        return None
    return parsed.date() if parsed is not None else None


# --- entry points ---------------------------------------------------------------


def read_inputs(
    inputs: Sequence[str | Path],
    *,
    options: IngestOptions = IngestOptions(),
    stdin: BinaryIO | None = None,
) -> Iterator[Document | Problem]:
    """Documents from files, directories (recursive, sorted, hidden entries skipped) and `-`
    (stdin, format sniffed), with a Problem for each input or part that cannot be read."""
    for item in inputs:
        if isinstance(item, str) and item == "-":
            stream = stdin if stdin is not None else sys.stdin.buffer
            yield from _read_stream(stream, options)
        else:
            yield from _read_path(Path(item), options, seen=set())


def read_bytes(
    data: bytes,
    *,
    source: str,
    name: str | None = None,
    kind: str | None = None,
    options: IngestOptions = IngestOptions(),
) -> Iterator[Document | Problem]:
    """Documents from one input's bytes; `kind` is one of KINDS, or None to sniff it."""
    name = name or Path(source).name or source
    try:
        text = _decode(data)
        kind = kind or sniff(text)
        if kind == "html":
            yield _html_document(text, name=name, source=source, options=options)
        elif kind == "feed":
            yield from _feed_documents(data, name=name, source=source, options=options)
        elif kind == "jsonl":
            yield from _jsonl_documents(text, name=name, source=source, options=options)
        else:
            yield _text_document(text, name=name, source=source, options=options)
    except _Unreadable as unreadable:
        yield Problem(source=source, reason=unreadable.reason)


def sniff(text: str) -> str:
    """The kind of a decoded input: JSON Lines, feed, HTML, else plain text."""
    first = next((line for _, line in _lines(text) if line.strip()), "")
    if first.lstrip().startswith("{"):
        try:
            record = json.loads(first)
        except (ValueError, RecursionError):
            record = None
        if isinstance(record, dict) and "text" in record:
            return "jsonl"
    head = text.lstrip()[:2048].lower()
    if not head.startswith("<"):
        return "text"
    if head.startswith(("<!doctype html", "<html")):
        return "html"
    if _FEED_START.search(head):
        return "feed"
    if _HTML_START.search(head):
        return "html"
    return "text"


# --- paths and streams ----------------------------------------------------------


def _read_path(
    path: Path, options: IngestOptions, *, seen: set[tuple[int, int]]
) -> Iterator[Document | Problem]:
    source = str(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        reason = "broken symlink" if path.is_symlink() else "no such file or directory"
        yield Problem(source=source, reason=reason)
        return
    except PermissionError:
        yield Problem(source=source, reason="permission denied")
        return
    except OSError as error:
        yield Problem(source=source, reason=f"cannot read: {error.strerror or error}")
        return
    if stat.S_ISDIR(info.st_mode):
        yield from _read_directory(path, info, options, seen=seen)
    elif not stat.S_ISREG(info.st_mode):
        yield Problem(source=source, reason="not a regular file")
    elif info.st_size > options.max_bytes:
        yield Problem(source=source, reason=f"too large: {info.st_size} bytes > limit {options.max_bytes}")
    else:
        try:
            with path.open("rb") as handle:
                data = handle.read(options.max_bytes + 1)
        except PermissionError:
            yield Problem(source=source, reason="permission denied")
            return
        except OSError as error:
            yield Problem(source=source, reason=f"cannot read: {error.strerror or error}")
            return
        if len(data) > options.max_bytes:  # it grew after stat
            yield Problem(source=source, reason=f"too large: more than {options.max_bytes} bytes")
            return
        kind = _KIND_BY_SUFFIX.get(path.suffix.lower())
        yield from read_bytes(data, source=source, name=path.name, kind=kind, options=options)


def _read_directory(
    path: Path, info: os.stat_result, options: IngestOptions, *, seen: set[tuple[int, int]]
) -> Iterator[Document | Problem]:
    key = (info.st_dev, info.st_ino)
    if key in seen:
        yield Problem(source=str(path), reason="directory already read (symlink loop)")
        return
    seen.add(key)
    try:
        entries = sorted(path.iterdir(), key=lambda entry: entry.name)
    except PermissionError:
        yield Problem(source=str(path), reason="permission denied")
        return
    except OSError as error:
        yield Problem(source=str(path), reason=f"cannot read: {error.strerror or error}")
        return
    for entry in entries:
        if not entry.name.startswith(".") and not _FOLDER_NOTES.match(entry.name):
            yield from _read_path(entry, options, seen=seen)


def _read_stream(stream: BinaryIO, options: IngestOptions) -> Iterator[Document | Problem]:
    try:
        data = stream.read(options.max_bytes + 1)
    except OSError as error:
        yield Problem(source="stdin", reason=f"cannot read: {error.strerror or error}")
        return
    if len(data) > options.max_bytes:
        yield Problem(source="stdin", reason=f"too large: more than {options.max_bytes} bytes")
        return
    yield from read_bytes(data, source="stdin", name="stdin", options=options)


# --- decoding -------------------------------------------------------------------


def _decode(data: bytes) -> str:
    """Bytes to stored-form text: BOM, else UTF-8, else windows-1252 if clean, else
    charset-normalizer's best guess; binary, undecodable and blank input raise."""
    text = None
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                raise _Unreadable("cannot decode") from None
            break
    if text is None:
        if b"\x00" in data:
            raise _Unreadable("binary file (NUL bytes)")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = _decode_legacy(data)
    text = normalise_text(text.removeprefix("\ufeff"))
    if not text.strip():
        raise _Unreadable("empty")
    if _non_text_share(text) > _MAX_NON_TEXT:
        raise _Unreadable("binary file (mostly non-text)")
    return text


def _decode_legacy(data: bytes) -> str:
    western = charset_normalizer.from_bytes(data, cp_isolation=["cp1252"]).best()
    if western is not None and western.chaos <= _WESTERN_MAX_CHAOS:
        return str(western)
    guess = charset_normalizer.from_bytes(data).best()
    if guess is None:
        raise _Unreadable("cannot decode")
    try:  # charset-normalizer can fall back to an encoding the bytes do not decode in
        return data.decode(guess.encoding)
    except (UnicodeDecodeError, LookupError):
        raise _Unreadable("cannot decode") from None


def _non_text_share(text: str) -> float:
    sample = text[:100_000]
    odd = sum(
        1
        for char in sample
        if char == "\ufffd"
        or (unicodedata.category(char) in ("Cc", "Cn", "Co", "Cs") and char not in "\t\n\f\v")
    )
    return odd / len(sample)


def _lines(text: str) -> Iterator[tuple[int, str]]:
    """(offset, line without its "\\n") for each line; only "\\n" splits, unlike str.splitlines."""
    start = 0
    while start <= len(text):
        end = text.find("\n", start)
        if end < 0:
            end = len(text)
        yield start, text[start:end]
        start = end + 1


# --- readers --------------------------------------------------------------------


def _text_document(text: str, *, name: str, source: str, options: IngestOptions) -> Document:
    header = parse_header(text)
    body = text[header.body_offset :]
    if not body.strip():
        raise _Unreadable("empty")
    published = _first_date(header.get("date"), header.get("published"))
    return make_document(
        body,
        name=name,
        source=source,
        title=header.get("title") or None,
        url=_url_or_none(header.get("url")),
        outlet=header.get("outlet") or header.get("source") or None,
        language=header.get("language") or "en",
        metadata=(*header.fields, ("reader", RULE_TEXT)),
        **_dated(published, options),
    )


def _html_document(text: str, *, name: str, source: str, options: IngestOptions) -> Document:
    try:
        extracted = trafilatura.bare_extraction(
            text,
            with_metadata=True,
            include_comments=False,
            date_extraction_params=dict(_HTML_DATE_PARAMS),
        )
    except Exception as error:  # a parser failure on bad markup is a Problem, not a crash
        raise _Unreadable(f"malformed HTML: {type(error).__name__}") from None
    body = getattr(extracted, "text", None) if extracted is not None else None
    if not body or not body.strip():
        raise _Unreadable("malformed or empty HTML: no main text")
    found = {
        key: value
        for key in ("title", "url", "sitename", "date", "author", "hostname")
        if isinstance(value := getattr(extracted, key, None), str) and value.strip()
    }
    return make_document(
        body,
        name=name,
        source=source,
        title=found.get("title"),
        url=_url_or_none(found.get("url")),
        outlet=found.get("sitename"),
        metadata=(*found.items(), ("reader", RULE_HTML)),
        **_dated(_first_date(found.get("date")), options),
    )


def _feed_documents(
    data: bytes, *, name: str, source: str, options: IngestOptions
) -> Iterator[Document | Problem]:
    try:
        feed = feedparser.parse(io.BytesIO(data))  # a stream: a str could be taken for a URL
    except Exception as error:  # feedparser's recovery has gaps on hostile input
        raise _Unreadable(f"malformed feed: {type(error).__name__}") from None
    entries = feed.get("entries") or []
    if not entries:
        if feed.get("bozo"):
            raise _Unreadable(f"malformed feed: {feed.get('bozo_exception')}")
        raise _Unreadable("feed has no entries")
    outlet = _clean_str(feed.get("feed", {}).get("title"))
    for number, entry in enumerate(entries, start=1):
        link = _url_or_none(_clean_str(entry.get("link")))
        entry_name = link or f"{name}#{number}"
        text = _entry_text(entry)
        if not text:
            yield Problem(source=f"{source}#{number}", reason="feed entry has no text")
            continue
        # dict.get: FeedParserDict.get maps "updated" to "published" with a deprecation warning
        raw_date = _clean_str(dict.get(entry, "published")) or _clean_str(dict.get(entry, "updated"))
        published = _first_date(raw_date) or _struct_date(dict.get(entry, "published_parsed"))
        published = published or _struct_date(dict.get(entry, "updated_parsed"))
        extra = {
            "feed": outlet,
            "id": _clean_str(entry.get("id")),
            "date": raw_date,
            "author": _clean_str(entry.get("author")),
        }
        yield make_document(
            text,
            name=entry_name,
            source=source,
            title=_clean_str(entry.get("title")),
            url=link,
            outlet=outlet,
            metadata=(*((k, v) for k, v in extra.items() if v), ("reader", RULE_FEED)),
            **_dated(published, options),
        )


def _jsonl_documents(
    text: str, *, name: str, source: str, options: IngestOptions
) -> Iterator[Document | Problem]:
    for number, (_, line) in enumerate(_lines(text), start=1):
        if not line.strip():
            continue
        where = f"{source}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            yield Problem(source=where, reason=f"malformed JSON: {error.msg} (column {error.colno})")
            continue
        except (ValueError, RecursionError):
            yield Problem(source=where, reason="malformed JSON")
            continue
        if not isinstance(record, dict):
            yield Problem(source=where, reason="malformed JSON: not an object")
            continue
        body = record.get("text")
        if not isinstance(body, str) or not body.strip():
            yield Problem(source=where, reason="record has no text")
            continue
        fields = {
            key: value
            for key in ("id", "url", "title", "published", "outlet", "source", "author", "language")
            if (value := _scalar(record.get(key)))
        }
        url = _url_or_none(fields.get("url"))
        yield make_document(
            body,
            name=fields.get("id") or fields.get("url") or f"{name}:{number}",
            source=source,
            title=fields.get("title"),
            url=url,
            outlet=fields.get("outlet") or fields.get("source"),
            language=fields.get("language") or "en",
            metadata=(*fields.items(), ("reader", RULE_JSONL)),
            **_dated(_first_date(fields.get("published")), options),
        )


# --- small helpers --------------------------------------------------------------


def _dated(published: date | None, options: IngestOptions) -> dict[str, Any]:
    """Metadata date, else the caller's, else none: never the day of ingestion."""
    if published is not None:
        return {"published": published, "published_from": "metadata"}
    if options.published is not None:
        return {"published": options.published, "published_from": "caller"}
    return {"published": None, "published_from": None}


def _first_date(*values: str | None) -> date | None:
    return next((parsed for value in values if value and (parsed := parse_date(value))), None)


def _struct_date(value: Any) -> date | None:
    if not isinstance(value, time.struct_time):
        return None
    try:
        return date(value.tm_year, value.tm_mon, value.tm_mday)
    except ValueError:
        return None


def _url_or_none(value: str | None) -> str | None:
    if not value or any(char.isspace() for char in value.strip()):
        return None
    parts = urlparse(value.strip())
    return value.strip() if parts.scheme in ("http", "https") and parts.netloc else None


def _clean_str(value: Any) -> str | None:
    return (value.strip() or None) if isinstance(value, str) else None


def _scalar(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    return str(value).strip() or None


def _entry_text(entry: Any) -> str | None:
    """The entry's content, else its summary, as plain text."""
    candidates = [part.get("value") for part in entry.get("content") or [] if isinstance(part, dict)]
    candidates.append(entry.get("summary"))
    for markup in candidates:
        if isinstance(markup, str) and markup.strip():
            text = _html_to_text(markup)
            if text:
                return text
    return None


def _html_to_text(markup: str) -> str:
    """Text of an HTML fragment, one line per block element."""
    try:
        root = lxml.html.fragment_fromstring(markup, create_parent="div")
    except Exception:  # lxml rejects some control characters and empty documents
        return " ".join(markup.split())
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag.lower() in _BLOCK_TAGS:
            element.tail = "\n" + (element.tail or "")
    lines = (" ".join(line.split()) for line in root.text_content().split("\n"))
    return "\n".join(line for line in lines if line)
