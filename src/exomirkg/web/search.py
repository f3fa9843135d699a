"""Search over every entity, finding and statement: labels, synonyms, identifiers and quotes.

What a query matches (issue 16, point 2):

- every word of the query, in any order, case- and punctuation-insensitive (:func:`normalise`:
  ``miR21``, ``mir-21`` and ``hsa-miR-21`` are one key), as part of a word of the item's label,
  synonyms, identifiers (``CHEBI:27899``, ``GO_0006915``, ``MIMAT0000076``, DOIs, PMIDs), or
  verbatim quotes and reference titles;
- ranked in tiers (:data:`TIERS`): exact label, exact synonym or identifier, label prefix,
  label containing every word, synonym or identifier containing every word, then text (quote
  or title) matches; within a tier shorter labels first, then alphabetically;
- a close spelling (difflib) only when nothing else matches, so typos are forgiven without
  padding the total of a query that does match: first of the whole query, then of each word
  found nowhere ("cisplatn resistance" is answered for "cisplatin resistance", and says so).

The index is built once per app (``graphdata.search_index``) from ``server/pages/search-index.rq``
and ``search-kinds.rq``; a query scans the vocabulary of distinct word keys, not the items.
"""

from __future__ import annotations

import bisect
import difflib
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from exomirkg.namespaces import BASE, DOI, IDORG, OBO, OWL, PROV

__all__ = ["GENERIC", "GROUPS", "GROUP_NAMES", "PAGE_SIZE", "TIERS", "Document", "Hit",
           "Results", "SearchIndex", "group_of", "id_variants", "normalise", "read_page",
           "to_json", "words"]

#: "hsa-", "mmu-" species prefixes of miRBase names.
_SPECIES = re.compile(r"^(hsa|mmu|rno)[-_ ]?", re.IGNORECASE)
#: Spellings of "microRNA" that all mean the same prefix: miR, mir, miRNA, microRNA.
_MIR = re.compile(r"^(microrna|mirna|mir)[-_ ]?(?=[0-9])", re.IGNORECASE)
#: A mature-arm suffix: -5p, -3p.
_ARM = re.compile(r"[-_ ]?([35]p)$", re.IGNORECASE)
#: Punctuation around a word of running text: "(miR-21)," is the word miR-21.
_WRAPPING = "()[]{}<>,.;:!?\"'“”‘’«»"

#: Results per page of /search (fixed, so a page number names the same results every time).
PAGE_SIZE = 25

#: Ranking tiers, best first; a hit's ``tier`` indexes this tuple.
TIERS = ("exact label", "exact synonym or identifier", "label prefix", "label contains",
         "synonym or identifier contains", "quote or title", "close spelling")

_EKG = BASE
_OWL = str(OWL)
#: Result groups, by the classes (asserted or inferred) of an item; the first that fits wins,
#: so a finding that is also a prov:Entity is a finding, and a taxane (inferred Drug) a drug.
GROUPS: tuple[tuple[str, frozenset[str]], ...] = tuple(
    (name, frozenset(iri if ":" in iri else _EKG + iri for iri in classes)) for name, classes in (
        ("finding", ("Finding", "GeneralFinding")),
        ("statement", ("Statement",)),
        ("miRNA", ("ExosomalMiRNA",)),
        ("drug", ("Drug",)),
        ("gene", ("Gene", "ABCTransporter", "GeneFamily")),
        ("cell type", ("CellType", "CellLine", "CellState")),
        ("cancer", ("CancerType",)),
        ("mechanism", ("Mechanism",)),
        ("pathway", ("Pathway",)),
        ("biological process", ("BiologicalProcess",)),
        ("cellular component", ("CellularComponent",)),
        ("phenotype", ("Phenotype",)),
        ("effect", ("Effect", "Direction")),
        ("drug class or role", ("DrugRole", "ChemicalClass")),
        ("chemical", ("ChemicalEntity", "ExosomeCargo")),
        ("inferred link", ("InferredLink",)),
        ("reference", ("Reference", "Review")),
        ("review section", ("ReviewPart",)),
        ("ontology term", tuple(_OWL + k for k in (
            "Class", "ObjectProperty", "DatatypeProperty", "AnnotationProperty", "Ontology"))),
    ))
_OTHER = "other"
#: Classes too general to name an item in its badge (every finding is a review assertion).
GENERIC = frozenset({_EKG + "ReviewAssertion", _EKG + "ExosomeCargo", str(PROV.Entity),
                     _OWL + "NamedIndividual"})

#: IRI bases whose remainder is the identifier people type (GO_0006915, mirbase:MI0000077, a DOI).
_IRI_BASES = (str(OBO), str(IDORG), "http://identifiers.org/", str(DOI), "http://dx.doi.org/",
              "https://www.ncbi.nlm.nih.gov/pmc/articles/", "https://pubmed.ncbi.nlm.nih.gov/")


def normalise(name: str) -> str:
    """A search key: lower case, no species prefix, one spelling of "miR", no punctuation.

    >>> [normalise(n) for n in ["miR21", "mir-21", "MiR-21", "hsa-miR-21-5p", "microRNA-21"]]
    ['mir21', 'mir21', 'mir21', 'mir215p', 'mir21']
    """
    text = _SPECIES.sub("", name.strip())
    text = _MIR.sub("mir", text)
    return re.sub(r"[^0-9a-z]", "", text.lower())


def _without_arm(name: str) -> str:
    """The key of a miRNA name without its -5p/-3p arm (hsa-miR-21-5p -> mir21)."""
    return normalise(_ARM.sub("", _SPECIES.sub("", name.strip())))


def words(text: str) -> list[str]:
    """The keys of the words of a text (split at white space), empty keys left out.

    Hyphens stay inside a word, so "CAF-derived" is one key ("cafderived") that the query word
    "CAF" is part of, and "miR-21" never becomes the two words "miR" and "21".

    >>> words("CAF-derived exosomal (hsa-miR-21), cisplatin-resistant")
    ['cafderived', 'exosomal', 'mir21', 'cisplatinresistant']
    """
    keys = (normalise(word.strip(_WRAPPING)) for word in text.split())
    return [key for key in keys if key]


def id_variants(value: str) -> set[str]:
    """Keys under which an identifier or mapping IRI is found: whole, without the resolver's
    base, and the local part after the last colon (what people paste from miRBase or ChEBI).

    >>> sorted(id_variants("https://identifiers.org/mirbase.mature:MIMAT0000076"))
    ['httpsidentifiersorgmirbasematuremimat0000076', 'mimat0000076', 'mirbasematuremimat0000076']
    >>> sorted(id_variants("http://purl.obolibrary.org/obo/GO_0006915"))
    ['go0006915', 'httppurlobolibraryorgobogo0006915']
    """
    forms = {value}
    for base in _IRI_BASES:
        if value.startswith(base):
            forms.add(value[len(base):])
    for form in list(forms):
        if ":" in form and "://" not in form:
            forms.add(form.rsplit(":", 1)[1])
    return {key for key in map(normalise, forms) if key}


#: Every group name a ``kind=`` parameter may ask for.
GROUP_NAMES = frozenset([*(name for name, _ in GROUPS), _OTHER])


def read_page(text: str | None) -> int:
    """The page number a ``page=`` parameter gives (absent: 1).

    :raises ValueError: not a whole number from 1 (the message says so, for a 400).
    """
    text = "1" if text is None else text.strip()
    if not text.isdigit() or not 0 < int(text) < 1_000_000:
        shown = text if len(text) <= 20 else text[:20] + "…"
        raise ValueError(f"page={shown!r}: pages are numbered from 1")
    return int(text)


def group_of(classes: Iterable[str]) -> str:
    """The result group of an item with these classes (:data:`GROUPS`, first fit)."""
    found = set(classes)
    return next((name for name, members in GROUPS if found & members), _OTHER)


@dataclass(frozen=True)
class Document:
    """One searchable item: an entity, finding, statement or reference with a page."""

    iri: str
    label: str
    kind: str = ""
    group: str = _OTHER
    synonyms: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()
    texts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Hit:
    """A search result: the item, the name or text that matched, and its ranking tier."""

    iri: str
    label: str
    kind: str
    group: str
    matched: str
    tier: int

    @property
    def reason(self) -> str:
        """Why it matched, in words (:data:`TIERS`)."""
        return TIERS[self.tier]


@dataclass
class Results:
    """One page of ranked hits, with the total and the count of every group over all hits."""

    query: str
    total: int
    page: int
    page_size: int
    hits: list[Hit]
    groups: dict[str, int] = field(default_factory=dict)
    group: str | None = None
    #: The query with misspelt words replaced, when the hits are for that spelling.
    corrected: str | None = None

    @property
    def pages(self) -> int:
        """How many pages the total fills (at least one, so page 1 always exists)."""
        return max(1, -(-self.total // self.page_size))

    def grouped(self) -> list[tuple[str, int, list[Hit]]]:
        """This page's hits by group, groups in order of their best hit on the page, each with
        its count over all pages."""
        by_group: dict[str, list[Hit]] = {}
        for hit in self.hits:
            by_group.setdefault(hit.group, []).append(hit)
        return [(name, self.groups.get(name, len(hits)), hits) for name, hits in by_group.items()]


class _Field:
    """Inverted index of one field (label, synonyms and identifiers, or text): word key -> items."""

    def __init__(self) -> None:
        self.postings: dict[str, set[int]] = defaultdict(set)

    def add(self, key: str, item: int) -> None:
        self.postings[key].add(item)

    def containing(self, word: str) -> set[int]:
        """Items with a word key that contains ``word`` (a scan of distinct keys, not items)."""
        found: set[int] = set()
        for key, items in self.postings.items():
            if word in key:
                found |= items
        return found


class SearchIndex:
    """Every searchable item, keyed for exact, prefix, all-words and close-spelling matches."""

    def __init__(self, documents: Iterable[Document]) -> None:
        self._docs = list(documents)
        self._label_keys = [normalise(d.label) for d in self._docs]
        # Exact lookups: whole label key; whole synonym, identifier and arm-less miRNA keys.
        self._by_label: dict[str, list[int]] = defaultdict(list)
        self._by_name: dict[str, dict[int, str]] = defaultdict(dict)
        self._labels, self._names, self._texts = _Field(), _Field(), _Field()
        for i, doc in enumerate(self._docs):
            self._by_label[self._label_keys[i]].append(i)
            for key in words(doc.label):
                self._labels.add(key, i)
            for name in (doc.label, *doc.synonyms):
                self._by_name[_without_arm(name)].setdefault(i, name)
            for name in doc.synonyms:
                self._by_name[normalise(name)].setdefault(i, name)
                for key in words(name):
                    self._names.add(key, i)
            for value in doc.ids:
                for key in id_variants(value):
                    self._by_name[key].setdefault(i, value)
                    self._names.add(key, i)
            for text in doc.texts:
                for key in words(text):
                    self._texts.add(key, i)
        self._by_name.pop("", None)
        # Sorted label keys for the prefix tier (bisect, not a scan).
        self._sorted = sorted((key, i) for i, key in enumerate(self._label_keys) if key)
        self._keys = sorted({*self._by_label, *self._by_name} - {""})
        # Word keys by first letter, for respelling one word of a query (close spellings are
        # looked for among words that start alike, so a scan stays small at 10^5 triples).
        self._vocabulary: dict[str, list[str]] = defaultdict(list)
        for key in sorted({*self._labels.postings, *self._names.postings,
                           *self._texts.postings}):
            self._vocabulary[key[0]].append(key)

    def __len__(self) -> int:
        return len(self._docs)

    def rank(self, query: str) -> list[Hit]:
        """Every item the query matches, best first (one hit per item)."""
        return self._rank(query)[0]

    def _rank(self, query: str) -> tuple[list[Hit], str | None]:
        """The ranked hits, and the respelt query when the hits are for it."""
        key = normalise(query)
        query_words = list(dict.fromkeys(words(query)))
        if not key or not query_words:
            return [], None
        tiers: dict[int, tuple[int, str]] = {}

        def put(items: Iterable[int], tier: int, matched: str | dict[int, str]) -> None:
            for i in items:
                if i not in tiers:
                    tiers[i] = (tier, matched if isinstance(matched, str)
                                else matched.get(i, self._docs[i].label))

        put(self._by_label.get(key, ()), 0, query)
        exact_names = {**self._by_name.get(key, {})}
        for i, name in self._by_name.get(_without_arm(query), {}).items():
            exact_names.setdefault(i, name)
        put(exact_names, 1, exact_names)
        start = bisect.bisect_left(self._sorted, (key, -1))
        prefixed = []
        for label_key, i in self._sorted[start:]:
            if not label_key.startswith(key):
                break
            prefixed.append(i)
        put(prefixed, 2, "")
        split = _split_words(query)
        in_label = [self._either(self._labels, w, split) for w in query_words]
        in_names = [self._either(self._names, w, split) for w in query_words]
        in_texts = [self._either(self._texts, w, split) for w in query_words]
        put(set.intersection(*in_label), 3, "")
        names_all = set.intersection(*in_names)
        put(names_all, 4, self._matched_name(names_all, query_words))
        # Every word somewhere in the item: quotes and titles, or words split across fields.
        anywhere = set.intersection(*(a | b | c for a, b, c in zip(in_label, in_names, in_texts,
                                                                   strict=True)))
        put(anywhere, 5, self._matched_text(anywhere - tiers.keys(), query_words))
        if not tiers and len(query_words) > 1:
            # Several words: every word must be found or respelt, or nothing matches (a
            # close spelling of the whole would let one right word carry a wrong one).
            return self._respelt(query, query_words, in_label, in_names, in_texts) or ([], None)
        if not tiers:
            close = difflib.get_close_matches(key, self._keys, n=10, cutoff=0.75)
            for rank, close_key in enumerate(close):
                for i in self._by_label.get(close_key, ()):
                    tiers.setdefault(i, (6, self._docs[i].label))
                for i, name in self._by_name.get(close_key, {}).items():
                    tiers.setdefault(i, (6 + rank / 100, name))
        if not tiers:
            respelt = self._respelt(query, query_words, in_label, in_names, in_texts)
            if respelt is not None:
                return respelt
        ranked = []
        for i, (tier, matched) in tiers.items():
            doc = self._docs[i]
            hit = Hit(iri=doc.iri, label=doc.label, kind=doc.kind, group=doc.group,
                      matched=matched or doc.label, tier=min(int(tier), 6))
            # Shorter labels first within the label tiers (for a prefix, the nearest
            # completion), then a-z; close spellings keep difflib's order of similarity.
            length = len(self._label_keys[i]) if hit.tier in (2, 3) else 0
            ranked.append(((tier, length, doc.label.lower(), doc.iri), hit))
        ranked.sort(key=lambda pair: pair[0])
        return [hit for _, hit in ranked], None

    def _respelt(self, query: str, query_words: list[str], *found_in: list[set[int]]
                 ) -> tuple[list[Hit], str] | None:
        """The hits of the query with its words found nowhere respelt ("cisplatn resistance"
        is answered as "cisplatin resistance"), ranked as that query is; None when a word has
        no close spelling or the respelt query matches nothing either."""
        found = [set().union(*sets) for sets in zip(*found_in, strict=True)]
        respelt = {w: self._respell(w) for w, items in zip(query_words, found, strict=True)
                   if not items}
        if not respelt or not all(respelt.values()):
            return None
        corrected = " ".join(respelt.get(normalise(w.strip(_WRAPPING)), w) or w
                             for w in query.split())
        hits, again = self._rank(corrected)
        # Respelt words are words of the index, so the second ranking never respells again.
        return (hits, corrected) if hits and again is None else None

    def _respell(self, word: str) -> str | None:
        """The closest word key of the index to a misspelt query word of 4+ letters, or None
        (IDs and short names are not guessed: "mir21" must not become "mir23")."""
        if len(word) < 4 or not word.isalpha():
            return None
        candidates = [key for key in self._vocabulary.get(word[0], ())
                      if abs(len(key) - len(word)) <= 2]
        close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.8)
        return close[0] if close else None

    def search(self, query: str, page: int = 1, page_size: int = PAGE_SIZE,
               group: str | None = None) -> Results:
        """One page of the ranked hits, with the true total and per-group counts.

        :param page: 1-based; a page past the last is empty (the total still says how many).
        :param group: only hits of this group (:data:`GROUPS`); the group counts stay those
            of every hit, so the page can still offer the other groups.
        :raises ValueError: ``page`` or ``page_size`` below 1.
        """
        if page < 1 or page_size < 1:
            raise ValueError(f"page and page size start at 1, not {page} and {page_size}")
        ranked, corrected = self._rank(query)
        groups = Counter(hit.group for hit in ranked)
        if group is not None:
            ranked = [hit for hit in ranked if hit.group == group]
        first = (page - 1) * page_size
        return Results(query=query, total=len(ranked), page=page, page_size=page_size,
                       hits=ranked[first:first + page_size], group=group, corrected=corrected,
                       groups=dict(sorted(groups.items(), key=lambda kv: (-kv[1], kv[0]))))

    @staticmethod
    def _either(index: _Field, word: str, split: dict[str, list[str]]) -> set[int]:
        """Items holding ``word``, or, for a hyphenated pair of plain words, both its parts
        ("cisplatin-resistance" finds "cisplatin resistance" as well)."""
        found = index.containing(word)
        if word in split:
            found |= set.intersection(*(index.containing(part) for part in split[word]))
        return found

    def _matched_name(self, items: set[int], query_words: list[str]) -> dict[int, str]:
        """The synonym or identifier of each item that holds the query's words, to show."""
        shown: dict[int, str] = {}
        for i in items:
            doc = self._docs[i]
            for value in (*doc.synonyms, *doc.ids):
                keys = set(words(value)) | id_variants(value)
                if all(any(w in k for k in keys) for w in query_words):
                    shown[i] = value
                    break
        return shown

    def _matched_text(self, items: set[int], query_words: list[str]) -> dict[int, str]:
        """The quote or title of each item holding the query's first word, cut to a snippet."""
        shown: dict[int, str] = {}
        for i in items:
            for text in self._docs[i].texts:
                if any(query_words[0] in key for key in words(text)):
                    shown[i] = _snippet(text, query_words[0])
                    break
        return shown


def _split_words(query: str) -> dict[str, list[str]]:
    """Query words joined by hyphens (or slashes) from plain words of 3+ letters, by key, with
    their parts' keys; "miR-21", "5-FU" and "PI3K" are names and are not split.

    >>> _split_words("cisplatin-resistance miR-21 5-FU")
    {'cisplatinresistance': ['cisplatin', 'resistance']}
    """
    split = {}
    for word in query.split():
        parts = [part for part in re.split(r"[-_/]", word.strip(_WRAPPING)) if part]
        if len(parts) > 1 and all(part.isalpha() and len(part) >= 3 for part in parts):
            split[normalise(word.strip(_WRAPPING))] = [normalise(part) for part in parts]
    return split


def _snippet(text: str, word: str, width: int = 160) -> str:
    """About ``width`` characters of ``text`` around the first word whose key holds ``word``."""
    if len(text) <= width:
        return text
    position = 0
    for match in re.finditer(r"\S+", text):
        if word in normalise(match.group().strip(_WRAPPING)):
            position = match.start()
            break
    start = max(0, position - width // 3)
    end = min(len(text), start + width)
    return ("…" if start else "") + text[start:end].strip() + ("…" if end < len(text) else "")


def to_json(results: Results, links: dict[str, str | None]) -> dict[str, object]:
    """The JSON answer of /search: the page's hits with the total, paging and group counts.

    :param links: ``next``/``prev`` URLs (None at either end), made by the view.
    """
    return {
        "query": results.query, "corrected": results.corrected, "total": results.total,
        "page": results.page,
        "page_size": results.page_size, "pages": results.pages, "kind": results.group,
        "groups": results.groups, **links,
        "results": [{"iri": h.iri, "label": h.label, "kind": h.kind, "group": h.group,
                     "matched": h.matched, "match": h.reason, "tier": h.tier}
                    for h in results.hits],
    }
