"""Turn the statements of ekg:Finding nodes into readable sentences and table rows."""

from __future__ import annotations

from dataclasses import dataclass, field

from exomirkg.evidence import (
    CURATOR_INFERENCE,
    Mention,
    short_name,
)
from exomirkg.namespaces import BASE, OBO, SKOS, local_name
from exomirkg.store import Row, plain
from exomirkg.web.graphdata import select
from exomirkg.web.helpers import cached

__all__ = ["FindingView", "all_findings", "assemble_findings"]

_EKG = BASE
_RO_EVIDENCE = str(OBO.RO_0002558)
_SKOS_NOTE = str(SKOS.editorialNote)

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



def all_findings() -> list[FindingView]:
    """Every finding, assembled once per app (the store is read-only): the one list behind
    /findings, the network view and the findings downloads."""
    return cached("findings", lambda: assemble_findings(select("all-findings")))
