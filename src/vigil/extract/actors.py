"""Actors named in the text, from vigil's lexicon (`data/actors.yaml`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import yaml

from vigil.model import Actor, Evidence, Mention, Span

RULE = "actors.lexicon@2"


@dataclass(frozen=True, kw_only=True)
class Lexicon:
    actors: dict[str, Actor]
    pattern: re.Pattern[str]
    exact: re.Pattern[str]
    by_alias: dict[str, str]
    countries: dict[str, tuple[str, ...]]  # actor name -> where it operates (ISO alpha-2)
    first_words: frozenset[str]  # every alias's first word, folded: the only places a match can start

    def find(self, text: str, *, doc_id: str, offset: int = 0) -> list[Mention]:
        """Longest, non-overlapping actor mentions in `text`."""
        hits: list[tuple[int, int, str]] = []
        for token in _TOKEN.finditer(text):
            word = _fold(token.group())
            if (
                word not in self.first_words
                and _fold(_TRAILER.sub("", token.group())) not in self.first_words
            ):
                continue
            for rx, fold in ((self.pattern, True), (self.exact, False)):
                m = rx.match(text, token.start())
                if m is None:
                    continue
                key = _fold(m.group()) if fold else m.group()
                name = self.by_alias.get(key) or self.by_alias.get(_fold(m.group()))
                if name:
                    hits.append((m.start(), m.end(), name))
        hits.sort(key=lambda h: (h[0], -(h[1] - h[0])))
        out: list[Mention] = []
        last_end = -1
        for start, end, name in hits:
            if start < last_end:
                continue
            last_end = end
            out.append(
                Mention(
                    kind="actor",
                    text=text[start:end],
                    actor=self.actors[name],
                    evidence=Evidence(
                        field="actor",
                        span=Span(doc_id=doc_id, start=offset + start, end=offset + end),
                        rule=RULE,
                    ),
                )
            )
        return out

    def get(self, name: str) -> Actor | None:
        return self.actors.get(name)

    def countries_of(self, mentions: list[Mention] | tuple[Mention, ...]) -> list[str]:
        """The countries the named actors operate in, once per mention (a hint for the gazetteer)."""
        return [cc for m in mentions if m.actor for cc in self.countries.get(m.actor.name, ())]


_TOKEN = re.compile(r"(?<![\w-])\w[\w'’.&-]*")
_TRAILER = re.compile(r"(?:['’]s)?[.]*$")


def _fold(s: str) -> str:
    return re.sub(r"\s+", " ", s.replace("’", "'")).casefold()


def _is_exact(alias: str) -> bool:
    return alias.isupper() and len(alias.replace(".", "")) <= 5


def _alternation(aliases: list[str]) -> str:
    parts = sorted({re.escape(a).replace(r"\ ", r"\s+") for a in aliases}, key=len, reverse=True)
    # not inside a word, a hyphenated word or a name with an apostrophe ("Sana'a"); a possessive is fine
    return r"(?<![\w-])(?:" + "|".join(parts) + r")(?![\w-]|['’](?!s\b)\w)"


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    entries = yaml.safe_load(
        resources.files("vigil.data").joinpath("actors.yaml").read_text(encoding="utf-8")
    )
    actors: dict[str, Actor] = {}
    by_alias: dict[str, str] = {}
    folded: list[str] = []
    exact: list[str] = []
    countries: dict[str, tuple[str, ...]] = {}
    for entry in entries:
        actor = Actor(name=entry["name"], type=entry["type"])
        actors[actor.name] = actor
        if entry.get("countries"):
            countries[actor.name] = tuple(entry["countries"])
        for alias in [entry["name"], *entry["aliases"]]:
            alias = str(alias)
            if _is_exact(alias):
                exact.append(alias)
                by_alias.setdefault(alias, actor.name)
            else:
                folded.append(alias)
                by_alias.setdefault(_fold(alias), actor.name)
    return Lexicon(
        actors=actors,
        pattern=re.compile(_alternation(folded), re.IGNORECASE),
        exact=re.compile(_alternation(exact)),
        by_alias=by_alias,
        countries=countries,
        first_words=frozenset(
            w
            for alias in [*folded, *exact]
            for w in (_fold(alias.split()[0]), _fold(_TRAILER.sub("", alias.split()[0])))
        ),
    )
