"""Reasoning: OWL 2 RL closure plus the rules in ontology/rules/, run to a fixpoint.

The rules are SPARQL CONSTRUCT files shipped as data (domain logic never lives in Python).
Each carries a ``#+ stratum: N`` header. Stratum 1 holds the monotone rules; they alternate
with owlrl until neither adds a triple. Higher strata (negation, counting over the result,
explanation nodes) then run once each, in order, to their own fixpoint, over the finished
lower strata; their output is never read by a lower stratum, so negation stays sound.

Engines (chosen on the figures in ontology/README.md): the OWL 2 RL closure is computed by
``reasonable`` (Rust) when installed, else by owlrl (pure Python); ``reasonable`` skips
property chains, which the generic rule ``owl-property-chain.rq`` supplies, so both engines
infer the same ABox. Either runs over the TBox + ABox without literals and annotation
triples (labels, quotes, definitions, cross-references), which OWL 2 RL only copies around.
The rules are evaluated by pyoxigraph over everything known (asserted + inferred).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS

from exomirkg import paths
from exomirkg.queries import read_header
from exomirkg.store import to_oxigraph, to_rdflib

__all__ = ["ENGINES", "Rule", "default_engine", "infer", "load_rules", "reasoning_input"]

logger = logging.getLogger(__name__)

#: owlrl writes the inconsistencies it finds as triples with this predicate.
_OWLRL_ERROR = URIRef("http://www.daml.org/2002/03/agents/agent-ont#error")
#: Entailments every term has: X subClassOf X, X sameAs X, ... carry no information.
_REFLEXIVE = {
    RDFS.subClassOf,
    RDFS.subPropertyOf,
    OWL.equivalentClass,
    OWL.equivalentProperty,
    OWL.sameAs,
}
#: Guard against a rule that keeps minting new nodes.
_MAX_ROUNDS = 10
#: OWL 2 RL engines ``infer`` can use.
ENGINES = ("reasonable", "owlrl")


def default_engine() -> str:
    """``reasonable`` when it is installed (20-40x faster here), else ``owlrl``."""
    try:
        import reasonable  # noqa: F401
    except ImportError:
        return "owlrl"
    return "reasonable"


@dataclass(frozen=True)
class Rule:
    """A SPARQL CONSTRUCT rule file and its stratum."""

    name: str
    path: Path
    text: str
    summary: str
    stratum: int


def load_rules(rules_dir: Path | None = None) -> list[Rule]:
    """Read every ``*.rq`` rule, sorted by stratum then name.

    :param rules_dir: folder of rules (default :data:`paths.RULES_DIR`).
    :raises ValueError: for a rule that is not a CONSTRUCT or lacks a ``#+ summary:``.
    """
    rules = []
    for path in sorted((rules_dir or paths.RULES_DIR).glob("*.rq")):
        text = path.read_text(encoding="utf-8")
        try:
            header = read_header(text)
        except ValueError as error:
            raise ValueError(f"{path}: {error}") from None
        if not header.get("summary"):
            raise ValueError(f"{path}: add a '#+ summary:' header line")
        if "CONSTRUCT" not in text.upper():
            raise ValueError(f"{path}: a rule must be a SPARQL CONSTRUCT query")
        rules.append(
            Rule(path.stem, path, text, str(header["summary"]), int(header.get("stratum", 1)))
        )
    return sorted(rules, key=lambda rule: (rule.stratum, rule.name))


def _worth_keeping(triple: tuple) -> bool:
    """Drop generalised RDF, owlrl's error notes, blank-node structure and trivia."""
    subject, predicate, obj = triple
    if isinstance(subject, (Literal, BNode)) or isinstance(predicate, Literal):
        return False
    if isinstance(obj, BNode) or predicate == _OWLRL_ERROR:
        return False
    if predicate in _REFLEXIVE and subject == obj:
        return False
    if obj in (OWL.Thing, RDFS.Resource) or subject == OWL.Nothing:  # true of every class
        return False
    return not (predicate == RDF.type and obj == RDFS.Datatype)


def reasoning_input(graph: Graph) -> Graph:
    """The part of a graph OWL 2 RL needs: no literal objects, no annotation triples.

    :param graph: asserted (and possibly inferred) triples.
    :returns: a new graph.
    """
    annotation = set(graph.subjects(RDF.type, OWL.AnnotationProperty))
    kept = Graph()
    for triple in graph:
        if not isinstance(triple[2], Literal) and triple[1] not in annotation:
            kept.add(triple)
    return kept


class _Reasoner:
    """The working state of one run: what is known (rdflib, and pyoxigraph for the rules)."""

    def __init__(self, asserted: Graph, rules: list[Rule], engine: str) -> None:
        if engine not in ENGINES:
            raise ValueError(f"unknown reasoner {engine!r}; choose one of {ENGINES}")
        self.asserted = asserted
        # Plain sets: membership tests on an rdflib Graph cost 10x more.
        self.known: set = set()
        self.store = pyoxigraph.Store()
        self.owl_graph = reasoning_input(asserted)
        self.rules = rules
        self.engine = engine
        self.errors: set[str] = set()
        self.known.update(asserted)
        self._add(asserted, check=False)

    def _add(self, triples, check: bool = True) -> int:
        fresh = []
        for triple in triples:
            if check and (triple in self.known or not _worth_keeping(triple)):
                continue
            if check:
                self.known.add(triple)
            if check and not isinstance(triple[2], Literal):
                self.owl_graph.add(triple)
            fresh.append(pyoxigraph.Quad(*(to_oxigraph(term) for term in triple)))
        self.store.extend(fresh)
        return len(fresh)

    def apply_rules(self, stratum: int) -> int:
        added = 0
        for rule in self.rules:
            if rule.stratum == stratum:
                triples = [
                    (to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object))
                    for t in self.store.query(rule.text)
                ]
                count = self._add(triples)
                logger.debug("rule %s: %d new triples", rule.name, count)
                added += count
        return added

    def apply_owl(self) -> int:
        if self.engine == "reasonable":
            import reasonable

            reasoner = reasonable.PyReasoner()
            reasoner.from_graph(self.owl_graph)
            closure = reasoner.reason()
        else:
            import owlrl

            owlrl.DeductiveClosure(owlrl.OWLRL_Semantics, axiomatic_triples=False).expand(
                self.owl_graph
            )
            for _node, message in self.owl_graph.subject_objects(_OWLRL_ERROR):
                self.errors.add(str(message))
            closure = list(self.owl_graph)
        return self._add(closure)

    def run(self) -> Graph:
        strata = sorted({rule.stratum for rule in self.rules}) or [1]
        first, higher = strata[0], strata[1:]
        # Lowest stratum: rules (over asserted data) and OWL 2 RL alternate to a fixpoint.
        self.apply_rules(first)
        for _round in range(_MAX_ROUNDS):
            self.apply_owl()
            if self.apply_rules(first) == 0:
                break
        else:
            logger.warning("no fixpoint after %d rounds of rules and OWL 2 RL", _MAX_ROUNDS)
        for stratum in higher:
            for _round in range(_MAX_ROUNDS):
                if self.apply_rules(stratum) == 0:
                    break
        for message in sorted(self.errors):
            logger.warning("OWL 2 RL inconsistency: %s", message)
        inferred = Graph()
        for triple in self.known - set(self.asserted):
            inferred.add(triple)
        return inferred


def infer(
    dataset: Dataset, rules_dir: Path | None = None, engine: str | None = None
) -> Graph:
    """Return the triples entailed by the dataset and the rules that it does not assert.

    :param dataset: the asserted dataset (left unchanged).
    :param rules_dir: folder of rules (default :data:`paths.RULES_DIR`).
    :param engine: ``reasonable`` or ``owlrl`` (default :func:`default_engine`).
    :returns: a new graph holding only inferred triples (no literal or blank-node subjects,
        no reflexive trivia); build.py stores it as graph/inferred.
    """
    asserted = Graph()
    for triple in dataset.triples((None, None, None)):
        asserted.add(triple)
    reasoner = _Reasoner(asserted, load_rules(rules_dir), engine or default_engine())
    inferred = reasoner.run()
    logger.info("inferred %d triples", len(inferred))
    return inferred
