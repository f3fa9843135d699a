"""The evidence of what the review states, read once for every reader.

``server/pages/statement-evidence.rq`` gives an ``ekg:Statement`` (a plain triple the review
states) with its evidence as rows; :func:`assemble_statements` groups them into
:class:`StatementView`s, which the entity, link and part pages (``exomirkg.web``) and
``exomirkg explain`` both read: one reader, so pages and the command tell the same story.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph

from exomirkg.namespaces import BASE, OBO, RDF, RDFS, SKOS, local_name
from exomirkg.store import Row, plain

__all__ = ["CURATOR_INFERENCE", "Mention", "StatementView", "assemble_statements",
           "short_name"]

_EKG = BASE
_RO_EVIDENCE = str(OBO.RO_0002558)
_SKOS_NOTE = str(SKOS.editorialNote)
#: ECO:0000305, curator inference used in manual assertion: a curator reading.
CURATOR_INFERENCE = str(OBO.ECO_0000305)


@dataclass
class Mention:
    """An entity named by a finding: IRI, label, and for references DOI and retraction."""

    iri: str
    label: str
    doi: str | None = None
    retracted: bool = False

    @property
    def local(self) -> str | None:
        """The path of the entity page, or None for external IRIs (ECO codes)."""
        return local_name(self.iri)


def short_name(iri: str) -> str:
    """A readable stand-in for an IRI without a label (ECO_0000304, a DOI)."""
    return iri.rstrip("/").rsplit("/", 1)[-1].replace("_", ":", 1)


#: Evidence properties of an ekg:Statement -> the StatementView list they fill (the same
#: properties a Finding carries).
_STATEMENT_EVIDENCE: dict[str, str] = {
    _EKG + "statedIn": "parts", _EKG + "supportingReference": "references",
    _RO_EVIDENCE: "evidence",
}
#: Words for statement properties that have no label of their own.
_PROPERTY_WORDS = {str(RDF.type): "is a",
                   str(RDFS.comment): "is described as"}


@dataclass
class StatementView:
    """A plain triple the review states, with the evidence its ``ekg:Statement`` gives."""

    subject: Mention
    property: str
    object: Mention | str
    predicate: str = ""
    iri: str = ""
    roles: set[str] = field(default_factory=set)
    quotes: list[str] = field(default_factory=list)
    parts: list[Mention] = field(default_factory=list)
    references: list[Mention] = field(default_factory=list)
    evidence: list[Mention] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def curator_reading(self) -> bool:
        """True when the curator read beyond the text (ECO:0000305); an editorial note alone
        only explains how the statement was recorded."""
        return any(e.iri == CURATOR_INFERENCE for e in self.evidence)

    @property
    def local(self) -> str:
        """The statement's path on this server (its IRI's local name)."""
        return local_name(self.iri) or ""

    @property
    def retracted(self) -> bool:
        """True when a reference cited for the statement is retracted."""
        return any(ref.retracted for ref in self.references)

    @property
    def sort_key(self) -> tuple[str, str, str, str]:
        obj = self.object if isinstance(self.object, str) else self.object.label
        return self.subject.label.lower(), self.property.lower(), obj.lower(), self.iri


def assemble_statements(rows: list[Row]) -> list[StatementView]:
    """Group the rows of ``statement-evidence.rq`` by statement.

    A triple the review states twice, in two sentences with their own references, is two
    statements. Everything is sorted here, as engines order equal keys differently.

    :returns: statements sorted by subject, property and object label.
    """
    views: dict[str, StatementView] = {}
    for row in rows:
        subject, predicate, obj = plain(row["subject"]), plain(row["property"]), row["object"]
        key = plain(row["statement"])
        view = views.get(key)
        if view is None:
            if isinstance(obj, pyoxigraph.Literal):
                target: Mention | str = obj.value
            else:
                target = Mention(iri=obj.value, label=plain(row.get("objectLabel"))
                                 or short_name(obj.value))
            view = views[key] = StatementView(
                subject=Mention(iri=subject, label=plain(row.get("subjectLabel"))
                                or short_name(subject)),
                property=plain(row.get("propertyLabel")) or _PROPERTY_WORDS.get(
                    predicate, short_name(predicate)),
                object=target, predicate=predicate, iri=key)
        view.roles.add(plain(row["role"]))
        annotation, value = plain(row["annotation"]), plain(row["value"])
        kind = _STATEMENT_EVIDENCE.get(annotation)
        if annotation == _EKG + "quote" and value not in view.quotes:
            view.quotes.append(value)
        elif annotation == _SKOS_NOTE and value not in view.notes:
            view.notes.append(value)
        elif kind is not None:
            mentions: list[Mention] = getattr(view, kind)
            if all(m.iri != value for m in mentions):
                mentions.append(Mention(iri=value, label=plain(row.get("valueLabel"))
                                        or short_name(value), doi=plain(row.get("doi")),
                                        retracted=bool(plain(row.get("retracted")))))
    for view in views.values():
        view.quotes.sort()
        view.notes.sort()
        for mentions in (view.parts, view.evidence):
            mentions.sort(key=lambda m: (m.label.lower(), m.iri))
        view.references.sort(key=_reference_order)
    return sorted(views.values(), key=lambda v: v.sort_key)


def _reference_order(mention: Mention) -> tuple[int, str]:
    """References in the review's numbering (``[81] Soekmadji C. 2015`` -> 81)."""
    number = mention.label[1:mention.label.find("]")] if mention.label.startswith("[") else ""
    return (int(number) if number.isdigit() else 1 << 30), mention.iri
