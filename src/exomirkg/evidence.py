"""The review's assertions with their evidence, read once for every reader.

Findings (``server/pages/all-findings.rq``, ``entity-findings.rq``) and statements
(``statement-evidence.rq``: an ``ekg:Statement`` is a plain triple the review states) come
from the store as rows; :func:`assemble_findings` and :func:`assemble_statements` group them
into :class:`FindingView`s and :class:`StatementView`s, which the pages (``exomirkg.web``),
the downloads and ``exomirkg explain`` all read: one reader, so they tell the same story.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph

from exomirkg.namespaces import BASE, OBO, RDF, RDFS, SKOS, local_name
from exomirkg.store import Row, plain

__all__ = ["CURATOR_INFERENCE", "ROLES", "TEXTS", "FindingView", "Mention", "StatementView",
           "assemble_findings", "assemble_statements", "short_name"]

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


#: Role properties of a Finding (ontology section 5) -> short role key used by the templates.
ROLES: dict[str, str] = {
    _EKG + "sourceCellType": "source",
    _EKG + "sourceCellLine": "source_line",
    _EKG + "sourceResistantTo": "source_resistant_to",
    _EKG + "hasMiRNA": "mirna",
    _EKG + "hasProteinCargo": "protein",
    _EKG + "hasCargo": "cargo",
    _EKG + "recipientCellType": "recipient",
    _EKG + "recipientCellLine": "recipient_line",
    _EKG + "inCancerType": "cancer",
    _EKG + "concernsDrug": "drug",
    _EKG + "combinedWithDrug": "combined",
    _EKG + "hasEffect": "effect",
    _EKG + "downregulatesGene": "gene_down",
    _EKG + "upregulatesGene": "gene_up",
    _EKG + "regulatesGene": "gene",
    _EKG + "activatesPathway": "pathway_up",
    _EKG + "inhibitsPathway": "pathway_down",
    _EKG + "affectsPathway": "pathway",
    _EKG + "viaMechanism": "mechanism",
    _EKG + "inducesTransitionFrom": "transition_from",
    _EKG + "inducesTransitionTo": "transition_to",
    _EKG + "statedIn": "stated_in",
    _EKG + "supportingReference": "reference",
    _EKG + "conflictsWith": "conflicts",
    _RO_EVIDENCE: "evidence",
}
#: Literal-valued statements of a Finding.
TEXTS: dict[str, str] = {
    _EKG + "sourceDescription": "source_text",
    _EKG + "recipientDescription": "recipient_text",
    _EKG + "quote": "quote",
    _EKG + "conflictNote": "conflict_note",
    _SKOS_NOTE: "editorial_note",
}
#: The word joining an effect to its drug in a sentence ("confers resistance to paclitaxel").
_EFFECT_JOIN = {
    "confers_resistance": "to", "transfers_resistance": "to", "enhances_resistance": "to",
    "restores_sensitivity": "to", "reverses_resistance": "to", "enhances_drug_efficacy": "of",
    "biomarker_of_response": "to",
}
_RESISTANCE = {"confers_resistance", "transfers_resistance", "enhances_resistance"}
#: Effects named by a noun: the card says "This is a biomarker of ...", not "This biomarker".
_NOUN_EFFECTS = {"biomarker_of_response", "biomarker_of_disease"}
_SENSITIVITY = {"restores_sensitivity", "reverses_resistance", "enhances_drug_efficacy"}


@dataclass
class FindingView:
    """One finding, grouped by role, ready for a template or a table row."""

    iri: str
    label: str
    roles: dict[str, list[Mention]] = field(default_factory=dict)
    texts: dict[str, list[str]] = field(default_factory=dict)
    graphs: set[str] = field(default_factory=set)

    @property
    def local(self) -> str:
        return local_name(self.iri) or self.iri

    def get(self, role: str) -> list[Mention]:
        """The entities in a role (empty list when none)."""
        return self.roles.get(role, [])

    @property
    def retracted(self) -> bool:
        """True when any supporting reference is marked retracted."""
        return any(ref.retracted for ref in self.get("reference"))

    @property
    def direction(self) -> str:
        """``resistance``, ``sensitivity`` or ``other``, from the effect."""
        effects = {m.local for m in self.get("effect")}
        if effects & _RESISTANCE:
            return "resistance"
        if effects & _SENSITIVITY:
            return "sensitivity"
        return "other"

    @property
    def has_transfer(self) -> bool:
        """True when the finding names a donor, a cargo or a recipient (an exosome transfer)."""
        return any(self.get(role) for role in ("source", "source_line", "mirna", "protein",
                                               "cargo", "recipient", "recipient_line"))

    @property
    def drug_is_subject(self) -> bool:
        """True for effects whose subject is the drug itself (GW4869 inhibits biogenesis)."""
        return any(m.local == "inhibits_exosome_biogenesis" for m in self.get("effect"))

    @property
    def effect_lead(self) -> str:
        """The words before the effect in the card's sentence ("This", "This is a")."""
        if any(m.local in _NOUN_EFFECTS for m in self.get("effect")):
            return "This is a" if self.has_transfer else "Reported: a"
        return "This" if self.has_transfer else "Reported effect:"

    @property
    def effect_join(self) -> str:
        """The preposition between the effect and the drug."""
        for effect in self.get("effect"):
            if effect.local in _EFFECT_JOIN:
                return _EFFECT_JOIN[effect.local]
        return "with"

    @property
    def curator_reading(self) -> bool:
        """True when the curator read beyond the text (ECO:0000305), as for a statement; an
        editorial note alone explains how the finding was recorded and is shown as such."""
        return any(e.iri == CURATOR_INFERENCE for e in self.get("evidence"))

    @property
    def section_graph(self) -> str | None:
        """The path of the section named graph the finding was asserted in."""
        graph = next((g for g in sorted(self.graphs) if "/graph/section/" in g), None)
        return local_name(graph) if graph else None


def assemble_findings(rows: list[Row]) -> list[FindingView]:
    """Group the rows of ``entity-findings.rq`` / ``all-findings.rq`` by finding.

    :returns: findings in query order (by IRI).
    """
    views: dict[str, FindingView] = {}
    for row in rows:
        iri = plain(row["finding"])
        view = views.setdefault(iri, FindingView(iri=iri, label=plain(row["findingLabel"])))
        if "graph" in row:
            view.graphs.add(plain(row["graph"]))
        predicate = plain(row["p"])
        value = plain(row["o"])
        if predicate in ROLES:
            role = ROLES[predicate]
            mentions = view.roles.setdefault(role, [])
            if all(m.iri != value for m in mentions):
                label = plain(row.get("oLabel")) or short_name(value)
                mentions.append(Mention(iri=value, label=label, doi=plain(row.get("doi")),
                                        retracted=bool(plain(row.get("retracted")))))
        elif predicate in TEXTS:
            texts = view.texts.setdefault(TEXTS[predicate], [])
            if value not in texts:
                texts.append(value)
    # Sorted here, not by the query: engines order equal ORDER BY keys differently
    # (Virtuoso and pyoxigraph list a finding's two quotes in opposite orders).
    for view in views.values():
        for mentions in view.roles.values():
            mentions.sort(key=lambda m: m.label.lower())
        for texts in view.texts.values():
            texts.sort()
    return list(views.values())


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
