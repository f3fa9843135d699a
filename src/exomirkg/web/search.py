"""Entity search by label or synonym, forgiving about how miRNA names are written."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

__all__ = ["Hit", "SearchIndex", "normalise"]

#: "hsa-", "mmu-" species prefixes of miRBase names.
_SPECIES = re.compile(r"^(hsa|mmu|rno)[-_ ]?", re.IGNORECASE)
#: Spellings of "microRNA" that all mean the same prefix: miR, mir, miRNA, microRNA.
_MIR = re.compile(r"^(microrna|mirna|mir)[-_ ]?(?=[0-9])", re.IGNORECASE)
#: A mature-arm suffix: -5p, -3p.
_ARM = re.compile(r"[-_ ]?([35]p)$", re.IGNORECASE)


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


@dataclass(frozen=True)
class Hit:
    """A search result: entity IRI, its label and kind, the name that matched, and a score."""

    iri: str
    label: str
    kind: str
    matched: str
    score: float


class SearchIndex:
    """Names of entities, keyed for exact, arm-less, prefix, substring and fuzzy matches."""

    def __init__(self, names: list[tuple[str, str, str, str]]) -> None:
        """Index ``(iri, label, name, kind)`` tuples (one per name of an entity)."""
        self._entries = [(iri, label, name, kind, normalise(name)) for iri, label, name, kind
                         in names]
        self._keys = sorted({entry[4] for entry in self._entries})

    def search(self, query: str, limit: int = 30) -> list[Hit]:
        """Rank entities for a query; best first, one hit per entity.

        Scores: 1.0 exact name, 0.95 same miRNA without its arm, 0.8 prefix, 0.6 substring,
        then up to 0.5 for a close spelling (difflib ratio), which forgives typos.
        """
        key = normalise(query)
        if not key:
            return []
        armless = _without_arm(query)
        close = set(difflib.get_close_matches(key, self._keys, n=10, cutoff=0.75))
        best: dict[str, Hit] = {}
        for iri, label, name, kind, name_key in self._entries:
            if name_key == key:
                score = 1.0
            elif armless and _without_arm(name) == armless:
                score = 0.95
            elif name_key.startswith(key):
                score = 0.8 - 0.001 * (len(name_key) - len(key))
            elif key in name_key:
                score = 0.6
            elif name_key in close:
                score = 0.5 * difflib.SequenceMatcher(None, key, name_key).ratio()
            else:
                continue
            if iri not in best or best[iri].score < score:
                best[iri] = Hit(iri=iri, label=label, kind=kind, matched=name, score=score)
        return sorted(best.values(), key=lambda h: (-h.score, h.label.lower()))[:limit]
