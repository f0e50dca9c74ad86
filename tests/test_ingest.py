"""Ingest: every input kind becomes Documents with the right metadata, and every bad input a Problem."""

from __future__ import annotations

import io
import json
import os
import random
import shutil
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vigil import ingest
from vigil.ingest import (
    HEADER_KEYS,
    KINDS,
    RULE_FEED,
    RULE_HTML,
    RULE_JSONL,
    RULE_TEXT,
    Header,
    IngestOptions,
    content_hash,
    make_document,
    parse_date,
    parse_header,
    read_bytes,
    read_inputs,
    sniff,
)
from vigil.model import Document, Problem

FIXTURES = Path(__file__).parent / "fixtures" / "ingest"
CALLER_DAY = date(2025, 1, 5)


def read_one(path: Path | str, **kwargs) -> Document | Problem:
    results = list(read_inputs([path], **kwargs))
    assert len(results) == 1, results
    return results[0]


def document(path: Path | str, **kwargs) -> Document:
    result = read_one(path, **kwargs)
    assert isinstance(result, Document), result
    return result


def problem(path: Path | str, **kwargs) -> Problem:
    result = read_one(path, **kwargs)
    assert isinstance(result, Problem), result
    return result


def docs_and_problems(results) -> tuple[list[Document], list[Problem]]:
    results = list(results)
    assert all(isinstance(r, Document | Problem) for r in results)
    return [r for r in results if isinstance(r, Document)], [r for r in results if isinstance(r, Problem)]


def from_stdin(data: bytes, **kwargs) -> list[Document | Problem]:
    return list(read_inputs(["-"], stdin=io.BytesIO(data), **kwargs))


# --- plain text and its headers -------------------------------------------------


def test_plain_text_without_header_keeps_all_text():
    doc = document(FIXTURES / "plain.txt")
    assert doc.text == (FIXTURES / "plain.txt").read_text(encoding="utf-8")
    assert (doc.title, doc.url, doc.published, doc.published_from) == (None, None, None, None)
    assert doc.name == "plain.txt"
    assert doc.source == str(FIXTURES / "plain.txt")
    assert dict(doc.metadata)["reader"] == RULE_TEXT


def test_keyed_header_fills_metadata_and_is_cut_from_text():
    doc = document(FIXTURES / "keyed.txt")
    assert doc.text.startswith("Engineers restored the main pumping station")
    assert doc.url == "https://riverside-ledger.example/2025/04/02/pumping-station"
    assert doc.published == date(2025, 4, 2)
    assert doc.published_from == "metadata"
    assert doc.title == "Pumping station back in service"
    assert doc.outlet == "Riverside Ledger"
    assert ("author", "Dana Whitcombe") in doc.metadata
    assert doc.language == "en"


def test_bare_date_line_with_title_keeps_title_in_text():
    doc = document(FIXTURES / "bare_date.txt")
    assert doc.published == date(2025, 4, 14)
    assert doc.title == "Ferry service resumes after spring storm"
    assert doc.text.startswith("Ferry service resumes after spring storm\n")
    assert "date 2025" not in doc.text


def test_header_ended_by_first_non_header_line_and_long_date():
    doc = document(FIXTURES / "long_date.md")
    assert doc.published == date(2025, 5, 3)
    assert doc.outlet == "Harbour Gazette"  # `source:` stands in for a missing `outlet:`
    assert doc.text.startswith("A fire at a textile warehouse")
    assert ("date", "3 May 2025") in doc.metadata


def test_corpus_style_free_text_url_is_metadata_only():
    doc = document(FIXTURES / "corpus_style.txt")
    assert doc.url is None
    assert dict(doc.metadata)["url"].startswith("unknown (")
    assert dict(doc.metadata)["extent"] == "full text"
    assert doc.published == date(2025, 2, 10)
    assert doc.text.startswith("Heavy snow closed")


def test_unparseable_date_is_kept_and_published_stays_none():
    doc = document(FIXTURES / "vague_date.txt")
    assert doc.published is None and doc.published_from is None
    assert dict(doc.metadata)["date"] == "sometime in early spring"


def test_caller_date_fills_in_only_when_metadata_has_none():
    options = IngestOptions(published=CALLER_DAY)
    undated = document(FIXTURES / "vague_date.txt", options=options)
    assert (undated.published, undated.published_from) == (CALLER_DAY, "caller")
    dated = document(FIXTURES / "keyed.txt", options=options)
    assert (dated.published, dated.published_from) == (date(2025, 4, 2), "metadata")


def test_parse_header_forms():
    bare = parse_header(" date 2025-03-22 Some Title Here\n\nBody.\n")
    assert bare.fields == (("date", "2025-03-22"), ("title", "Some Title Here"))
    assert " date 2025-03-22 Some Title Here\n\nBody.\n"[bare.body_offset :].startswith("Some Title Here\n")
    bare_alone = parse_header("date 2025-03-22\nurl: https://a.example/x\n\nBody.")
    assert bare_alone.get("url") == "https://a.example/x"
    assert bare_alone.body_offset == len("date 2025-03-22\nurl: https://a.example/x\n\n")
    assert parse_header("Note: this is body text\nmore").fields == ()
    assert parse_header("Plain first line.\n").body_offset == 0
    assert parse_header("\n\nurl: https://a.example\n\nBody").body_offset == len(
        "\n\nurl: https://a.example\n\n"
    )
    assert parse_header("TITLE: Shouting\r\n\r\nBody").get("title") == "Shouting"
    # a date that is not at the top of the file is body text
    assert parse_header("Body first.\ndate 2025-03-22 Title").fields == ()


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2025-03-22", date(2025, 3, 22)),
        ("2025-03-22T23:30:00+03:00", date(2025, 3, 22)),  # as written, not shifted to UTC
        ("22 March 2025", date(2025, 3, 22)),
        ("March 22, 2025", date(2025, 3, 22)),
        ("Sat, 22 Mar 2025 01:00:00 +0300", date(2025, 3, 22)),
        ("today", None),
        ("yesterday", None),
        ("3 days ago", None),
        ("March 2025", None),
        ("unknown", None),
        ("", None),
    ],
)
def test_parse_date(written, expected):
    assert parse_date(written) == expected


# --- shared articles (read at run time, never copied) ---------------------------


def test_seed_bare_date_header(shared_dir):
    path = shared_dir / "seeds" / "002_98cedf641a602074.txt"
    raw_first_line = path.read_text(encoding="utf-8").split("\n", 1)[0]
    doc = document(path)
    assert doc.published == date(2025, 3, 22)
    assert doc.published_from == "metadata"
    assert doc.title and raw_first_line.strip().endswith(doc.title)
    assert doc.text.split("\n", 1)[0] == doc.title
    assert not doc.text.lstrip().startswith("date")


def test_corpus_header(shared_dir):
    path = shared_dir / "corpus" / "01_shafaq_2025-03-12_coastal_death_toll_1383.txt"
    doc = document(path)
    assert doc.published == date(2025, 3, 12)
    assert doc.url and doc.url.startswith("https://")
    assert "extent" in dict(doc.metadata)
    assert not doc.text.startswith(("url:", "date:", "extent:"))


def test_corpus_free_text_url(shared_dir):
    path = shared_dir / "corpus" / "16_aljazeera_2025-03-09_sharaa_calls_for_peace_fulltext.txt"
    doc = document(path)
    assert doc.url is None
    assert dict(doc.metadata)["url"].startswith("unknown")
    assert doc.published == date(2025, 3, 9)


# --- identity -------------------------------------------------------------------


def test_identical_text_in_two_files_is_one_id(tmp_path):
    body = "Two ferries collided in fog near the harbour mouth.\nNobody was hurt, the coast guard said.\n"
    (tmp_path / "one.txt").write_text(body, encoding="utf-8")
    (tmp_path / "two.txt").write_bytes(
        ("url: https://b.example/x\ndate: 2025-02-02\n\n" + body).replace("\n", "\r\n").encode()
    )
    (tmp_path / "three.txt").write_text(body.replace("fog", "rain"), encoding="utf-8")
    docs = {d.name: d for d in docs_and_problems(read_inputs([tmp_path]))[0]}
    one, two, three = docs["one.txt"], docs["two.txt"], docs["three.txt"]
    assert one.id == two.id and one.content_hash == two.content_hash
    assert one.id != three.id
    assert len(one.id) == 16 and one.content_hash.startswith(one.id)
    assert "\r" not in two.text


def test_content_hash_normalisation_and_stored_text():
    composed = "Caf\u00e9  owners\r\n said   so. "
    decomposed = "  Cafe\u0301 owners\n said so."
    assert content_hash(composed) == content_hash(decomposed)
    assert content_hash("a b") != content_hash("ab")
    doc = make_document(decomposed, name="n", source="s")
    assert doc.text == "  Caf\u00e9 owners\n said so."  # NFC only: spacing kept for character spans
    assert doc.id == content_hash(decomposed)[:16]


def test_make_document_dates():
    assert make_document("x", name="n", source="s", published=CALLER_DAY).published_from == "metadata"
    assert make_document("x", name="n", source="s", published_from="caller").published_from is None


def test_no_wall_clock_date_in_ingest():
    source = Path(ingest.__file__).read_text(encoding="utf-8")
    assert "today(" not in source and "now(" not in source


# --- HTML -----------------------------------------------------------------------


def test_html_article():
    doc = document(FIXTURES / "article.html")
    assert doc.title == "Volunteers rebuild village school"
    assert doc.url == "https://valleypost.example/news/village-school"
    assert doc.outlet == "Valley Post"
    assert doc.published == date(2025, 4, 2)
    assert "forty volunteers" in doc.text and "200 pupils" in doc.text
    assert "Sport" not in doc.text and "<p>" not in doc.text
    assert dict(doc.metadata)["reader"] == RULE_HTML


def test_html_without_date_is_not_guessed():
    # htmldate's extensive search would date this page 2019-01-01 from its copyright line
    doc = document(FIXTURES / "undated.html")
    assert doc.published is None and doc.published_from is None
    assert doc.title == "Library opens reading room"
    assert "forty desks" in doc.text
    assert (
        document(FIXTURES / "undated.html", options=IngestOptions(published=CALLER_DAY)).published
        == CALLER_DAY
    )


@pytest.mark.parametrize(
    "markup",
    [
        "<html><head><title>Only a title</title></head><body></body></html>",
        "<html><body><div></div>",
        "<<<>>>",
    ],
)
def test_html_without_main_text_is_a_problem(tmp_path, markup):
    path = tmp_path / "page.html"
    path.write_text(markup, encoding="utf-8")
    assert problem(path).reason == "malformed or empty HTML: no main text"


# --- feeds ----------------------------------------------------------------------


def test_rss_feed():
    path = FIXTURES / "news.rss"
    docs, problems = docs_and_problems(read_inputs([path]))
    first, second = docs
    assert first.name == first.url == "https://hillcourier.example/2025/05/01/water-convoy"
    assert first.title == "Water tanker convoy reaches mountain villages"
    assert first.outlet == "Hill Courier"
    assert first.published == date(2025, 5, 1)  # the local date written, 30 April in UTC
    assert first.text == (
        "A convoy of six water tankers reached three mountain villages on Wednesday night.\n"
        "Residents had relied on rainwater for two weeks."
    )
    assert dict(first.metadata)["reader"] == RULE_FEED
    assert second.name == "news.rss#2" and second.url is None
    assert second.published == date(2025, 5, 2)
    assert problems == [Problem(source=f"{path}#3", reason="feed entry has no text")]


def test_atom_feed_prefers_content_over_summary():
    doc = document(FIXTURES / "wire.atom")
    assert doc.outlet == "Ridge Wire"
    assert doc.url == "https://ridgewire.example/roads/northern-farms"
    assert doc.published == date(2025, 5, 4)
    assert doc.text.startswith("Road crews reopened")
    assert "summary" not in doc.text.lower()


def test_feed_date_falls_back_to_caller():
    feed = b'<rss version="2.0"><channel><title>T</title><item><description>Rain fell on the plain.</description></item></channel></rss>'
    (doc,) = from_stdin(feed, options=IngestOptions(published=CALLER_DAY))
    assert isinstance(doc, Document)
    assert (doc.published, doc.published_from, doc.name) == (CALLER_DAY, "caller", "stdin#1")


def test_malformed_feed_and_feed_without_items(tmp_path):
    broken = tmp_path / "broken.xml"
    broken.write_text("this is not <xml at all", encoding="utf-8")
    assert problem(broken).reason.startswith("malformed feed: ")
    empty = tmp_path / "empty.rss"
    empty.write_text('<rss version="2.0"><channel><title>Quiet</title></channel></rss>', encoding="utf-8")
    assert problem(empty).reason == "feed has no entries"


# --- JSON Lines -----------------------------------------------------------------


def test_json_lines_records_and_bad_lines():
    path = FIXTURES / "records.jsonl"
    docs, problems = docs_and_problems(read_inputs([path]))
    assert [d.name for d in docs] == ["rec-1", "https://plainsherald.example/b", "records.jsonl:7"]
    first, second, third = docs
    assert (first.title, first.outlet, first.published) == (
        "Market fire contained",
        "Plains Herald",
        date(2025, 3, 30),
    )
    assert second.published == date(2025, 3, 31)
    assert third.outlet == "Town Radio" and third.published is None
    assert dict(first.metadata)["reader"] == RULE_JSONL
    assert [(p.source, p.reason.split(":")[0]) for p in problems] == [
        (f"{path}:4", "malformed JSON"),
        (f"{path}:5", "record has no text"),
        (f"{path}:6", "malformed JSON"),
    ]
    assert problems[2].reason == "malformed JSON: not an object"


# --- directories ----------------------------------------------------------------


def test_nested_directory_is_sorted_and_skips_hidden():
    docs, problems = docs_and_problems(read_inputs([FIXTURES / "tree"]))
    assert problems == []
    assert [Path(d.source).relative_to(FIXTURES / "tree").as_posix() for d in docs] == [
        "a.txt",
        "sub/b.md",
        "sub/deeper/c.txt",
    ]
    assert docs[1].published == date(2025, 1, 20)


def test_broken_symlink_in_directory(tmp_path):
    tree = tmp_path / "tree"
    shutil.copytree(FIXTURES / "tree", tree)
    (tree / "sub" / "gone.txt").symlink_to(tmp_path / "missing.txt")
    docs, problems = docs_and_problems(read_inputs([tree]))
    assert len(docs) == 3
    assert problems == [Problem(source=str(tree / "sub" / "gone.txt"), reason="broken symlink")]


def test_directory_symlink_loop_is_read_once(tmp_path):
    (tmp_path / "a.txt").write_text("A goat wandered into the town hall.", encoding="utf-8")
    (tmp_path / "loop").symlink_to(tmp_path)
    docs, problems = docs_and_problems(read_inputs([tmp_path]))
    assert len(docs) == 1
    assert [p.reason for p in problems] == ["directory already read (symlink loop)"]


# --- stdin ----------------------------------------------------------------------


def test_stdin_text():
    (doc,) = from_stdin(b"date: 2025-02-03\n\nA lorry overturned on the ring road.\n")
    assert isinstance(doc, Document)
    assert (doc.name, doc.source, doc.published) == ("stdin", "stdin", date(2025, 2, 3))


def test_stdin_json_lines():
    lines = [{"id": "x1", "text": "Rain flooded the lower market."}, {"text": "Snow closed the pass."}]
    results = from_stdin("\n".join(json.dumps(line) for line in lines).encode())
    assert [r.name for r in results] == ["x1", "stdin:2"]


@pytest.mark.parametrize("name", ["news.rss", "wire.atom"])
def test_stdin_feeds(name):
    docs, _ = docs_and_problems(from_stdin((FIXTURES / name).read_bytes()))
    assert docs and all(d.metadata[0][0] == "feed" for d in docs)


def test_stdin_html():
    (doc,) = from_stdin((FIXTURES / "article.html").read_bytes())
    assert isinstance(doc, Document)
    assert doc.title == "Volunteers rebuild village school"


def test_stdin_too_large():
    (result,) = from_stdin(b"x" * 101, options=IngestOptions(max_bytes=100))
    assert result == Problem(source="stdin", reason="too large: more than 100 bytes")


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ('{"text": "a"}\n', "jsonl"),
        ('{"title": "no text key"}\n', "text"),
        ('<?xml version="1.0"?><rss version="2.0">', "feed"),
        ('<feed xmlns="http://www.w3.org/2005/Atom">', "feed"),
        ("<!DOCTYPE html><html>", "html"),
        ("  <div><p>hi</p></div>", "html"),
        ("Plain words <b>with a tag</b>.", "text"),
    ],
)
def test_sniff(text, kind):
    assert sniff(text) == kind


# --- bad input ------------------------------------------------------------------


def test_missing_path_and_the_rest_go_on(tmp_path):
    results = list(read_inputs([tmp_path / "nope.txt", FIXTURES / "plain.txt"]))
    assert results[0] == Problem(source=str(tmp_path / "nope.txt"), reason="no such file or directory")
    assert isinstance(results[1], Document)


def test_permission_denied(tmp_path, monkeypatch):
    path = tmp_path / "locked.txt"
    path.write_text("A locked file.", encoding="utf-8")
    path.chmod(0)
    if os.geteuid() == 0:  # root reads through mode bits: make the open fail as it would for a user

        def refuse(self, *args, **kwargs):
            raise PermissionError(13, "Permission denied", str(self))

        monkeypatch.setattr(Path, "open", refuse)
    assert problem(path) == Problem(source=str(path), reason="permission denied")


def test_binary_file_with_nul_bytes(tmp_path):
    rng = random.Random(7)
    path = tmp_path / "picture.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(rng.randrange(256) for _ in range(4096)))
    assert problem(path).reason == "binary file (NUL bytes)"


def test_binary_file_mostly_control_characters(tmp_path):
    path = tmp_path / "controls.dat"
    path.write_bytes(bytes(range(1, 32)) * 20)
    assert problem(path).reason == "binary file (mostly non-text)"


@pytest.mark.parametrize(
    "content", [b"", b"   \n\t\r\n  ", b"url: https://a.example/x\ndate: 2025-01-01\n\n  \n"]
)
def test_empty_inputs(tmp_path, content):
    path = tmp_path / "blank.txt"
    path.write_bytes(content)
    assert problem(path).reason == "empty"


def test_too_large_file_is_not_read(tmp_path, monkeypatch):
    path = tmp_path / "huge.txt"
    with path.open("wb") as handle:
        handle.truncate(50_000_000)
    opened = []
    original_open = Path.open

    def spy(self, *args, **kwargs):
        opened.append(self)
        return original_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", spy)
    result = problem(path)
    assert result.reason == "too large: 50000000 bytes > limit 10000000"
    assert path not in opened


def test_size_limit_is_an_option(tmp_path):
    path = tmp_path / "small.txt"
    path.write_text("Eleven bytes", encoding="utf-8")
    assert problem(path, options=IngestOptions(max_bytes=5)).reason == "too large: 12 bytes > limit 5"


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        (
            "The caf\u00e9 owner said \u201cthe na\u00efve plan\u201d would fail \u2014 prices rose 5\u20ac.",
            "cp1252",
        ),
        (
            "El ni\u00f1o jug\u00f3 en la pla\u00e7a; \u00a1qu\u00e9 d\u00eda! Stra\u00dfe, M\u00fcller, \u00e6on.",
            "latin-1",
        ),
        ("Caf\u00e9 in Hom\u015f, \u0627\u0644\u0644\u0627\u0630\u0642\u064a\u0629.", "utf-8-sig"),
        ("Caf\u00e9 in Hom\u015f, \u0627\u0644\u0644\u0627\u0630\u0642\u064a\u0629.", "utf-16"),
        ("Caf\u00e9 in Hom\u015f, \u0627\u0644\u0644\u0627\u0630\u0642\u064a\u0629.", "utf-32"),
    ],
)
def test_encodings_decode_correctly(tmp_path, text, encoding):
    path = tmp_path / "legacy.txt"
    path.write_bytes(text.encode(encoding))
    assert document(path).text == text


def test_undecodable_bytes(tmp_path):
    rng = random.Random(3)
    path = tmp_path / "noise.txt"
    path.write_bytes(bytes(rng.randrange(1, 256) for _ in range(3000)))
    assert problem(path).reason == "cannot decode"


def test_one_bad_input_does_not_stop_the_others(tmp_path):
    (tmp_path / "a.bin").write_bytes(b"\x00\x01\x02")
    (tmp_path / "b.txt").write_text("A kite festival was held on the beach.", encoding="utf-8")
    (tmp_path / "c.txt").write_bytes(b"")
    results = list(read_inputs([tmp_path, tmp_path / "missing"]))
    assert [type(r).__name__ for r in results] == ["Problem", "Document", "Problem", "Problem"]


# --- properties: nothing escapes, every outcome is a Document or a Problem ------

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
header_key = st.sampled_from(sorted(HEADER_KEYS))
header_value = st.text(st.characters(blacklist_categories=["Cc", "Cs", "Zl", "Zp"]), max_size=30).map(
    str.strip
)


@FUZZ
@given(st.text(max_size=400))
def test_parse_header_never_fails(raw):
    header = parse_header(raw)
    assert isinstance(header, Header)
    assert 0 <= header.body_offset <= len(raw)
    assert all(key in HEADER_KEYS for key, _ in header.fields)
    if not header.fields:
        assert header.body_offset == 0


@FUZZ
@given(
    st.lists(st.tuples(header_key, header_value), min_size=1, max_size=6), st.text(min_size=1, max_size=200)
)
def test_parse_header_round_trip(fields, body):
    raw = "".join(f"{key}: {value}\n" for key, value in fields) + "\n" + body
    header = parse_header(raw)
    assert header.fields == tuple(fields)
    assert raw[header.body_offset :] == body


def assert_outcomes(results: list) -> None:
    assert all(isinstance(r, Document | Problem) for r in results)
    for r in results:
        if isinstance(r, Document):
            assert r.text.strip() and len(r.id) == 16


@FUZZ
@given(st.binary(max_size=600), st.sampled_from((*KINDS, None)))
def test_readers_on_arbitrary_bytes(data, kind):
    assert_outcomes(list(read_bytes(data, source="fuzz", kind=kind)))


@FUZZ
@given(st.text(max_size=600), st.sampled_from((*KINDS, None)))
def test_readers_on_arbitrary_text(text, kind):
    assert_outcomes(list(read_bytes(text.encode("utf-8"), source="fuzz", kind=kind)))


json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
record = st.fixed_dictionaries(
    {}, optional={k: json_value for k in ("id", "url", "title", "published", "text", "outlet", "source")}
)


@FUZZ
@given(
    st.lists(
        st.one_of(
            record.map(json.dumps),
            st.text(st.characters(blacklist_categories=["C", "Zl", "Zp"]), max_size=40),
        ),
        max_size=8,
    )
)
def test_json_lines_reader_keeps_going(lines):
    results = list(read_bytes("\n".join(lines).encode("utf-8"), source="f.jsonl", kind="jsonl"))
    assert_outcomes(results)
    non_blank = [line for line in lines if line.strip()]
    if non_blank:  # one outcome per non-blank line
        assert len(results) == len(non_blank)


@FUZZ
@given(
    st.lists(
        st.tuples(
            st.text(max_size=30),
            st.text(max_size=80),
            st.one_of(st.none(), st.sampled_from(["Mon, 03 Mar 2025 10:00:00 GMT", "2025-13-45", "soon"])),
        ),
        max_size=4,
    )
)
def test_feed_reader_on_generated_items(items):
    def esc(s: str) -> str:
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    body = "".join(
        f"<item><title>{esc(t)}</title><description>{esc(d)}</description>"
        + (f"<pubDate>{p}</pubDate>" if p else "")
        + "</item>"
        for t, d, p in items
    )
    xml = f'<rss version="2.0"><channel><title>Fuzz</title>{body}</channel></rss>'
    assert_outcomes(list(read_bytes(xml.encode("utf-8"), source="f.rss", kind="feed")))
