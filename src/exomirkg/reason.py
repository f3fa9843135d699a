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

Memory: the working state lives in one pyoxigraph store (asserted and inferred triples,
de-duplicated by a SPARQL update), not in rdflib graphs and Python sets, which cost ~1 KB a
triple and most of the time (rdflib hashes terms in Python). ``reasonable`` reads its input as
N-Triples written by pyoxigraph, and never sees the owl:FunctionalProperty declarations: it
joins a functional property's triples pairwise per property (20 M pairs at 10^5 triples, a
12 GB allocation at 10^6), so rule prp-fp runs as a SPARQL query here instead (same closure).
"""

from __future__ import annotations

import logging
import tempfile
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


#: Named graphs of the working store: what the reasoner inferred (also copied into the default
#: graph, where the rules read it) and the candidates of one step, before de-duplication.
_INFERRED = pyoxigraph.NamedNode("urn:exomirkg:reasoner:inferred")
_STAGING = pyoxigraph.NamedNode("urn:exomirkg:reasoner:staging")


def _iri_list(terms) -> str:
    return ", ".join(f"<{term}>" for term in sorted(str(t) for t in terms))


#: Moves the staged candidates that are new and worth keeping (as :func:`_worth_keeping`
#: says) into the default graph and graph _INFERRED, all inside pyoxigraph: a Python set of
#: rdflib triples costed ~1 KB a triple and most of the run's time (rdflib hashes in Python).
_MERGE = f"""
INSERT {{ ?s ?p ?o . GRAPH <{_INFERRED.value}> {{ ?s ?p ?o }} }}
WHERE {{
  GRAPH <{_STAGING.value}> {{ ?s ?p ?o }}
  FILTER(!isBlank(?s) && !isBlank(?o) && ?p != <{_OWLRL_ERROR}>)
  FILTER(!(?p IN ({_iri_list(_REFLEXIVE)}) && sameTerm(?s, ?o)))
  FILTER(!sameTerm(?o, <{OWL.Thing}>) && !sameTerm(?o, <{RDFS.Resource}>)
         && !sameTerm(?s, <{OWL.Nothing}>))
  FILTER(!(sameTerm(?p, <{RDF.type}>) && sameTerm(?o, <{RDFS.Datatype}>)))
  FILTER NOT EXISTS {{ ?s ?p ?o }}
}}"""


def _source_graphs(dataset: Graph) -> list[Graph]:
    """The graphs whose triples ``dataset.triples((None, None, None))`` yields."""
    if isinstance(dataset, Dataset) and dataset.default_union:
        return [graph for graph in dataset.graphs() if len(graph)]
    if isinstance(dataset, Dataset):
        return [dataset.default_graph]
    return [dataset]


def _nt_term(term) -> str | None:
    """A closure term as N-Triples, or None for one N-Triples cannot hold here."""
    kind = type(term)
    if kind is URIRef:
        return f"<{term}>"
    if kind is BNode:
        return f"_:{term}"
    return None


class _Reasoner:
    """The working state of one run, all in one pyoxigraph store.

    Default graph: asserted + inferred (what the rules read); graph _INFERRED: inferred only.
    """

    def __init__(self, sources: list[Graph], rules: list[Rule], engine: str) -> None:
        if engine not in ENGINES:
            raise ValueError(f"unknown reasoner {engine!r}; choose one of {ENGINES}")
        self.rules = rules
        self.engine = engine
        self.errors: set[str] = set()
        self.store = pyoxigraph.Store()
        annotation: set[str] = set()
        for graph in sources:
            # One N-Triples load per graph: Rust parses it, no per-term Python objects.
            self.store.bulk_load(input=graph.serialize(format="nt", encoding="utf-8"),
                                 format=pyoxigraph.RdfFormat.N_TRIPLES,
                                 to_graph=pyoxigraph.DefaultGraph())
            annotation.update(str(s) for s in graph.subjects(RDF.type, OWL.AnnotationProperty))
        # OWL 2 RL input: the asserted triples without literal objects or annotation
        # predicates (annotation properties as the asserted data declares them), plus every
        # inferred triple without a literal object.
        usable = f"""
  {{ ?s ?p ?o FILTER(!isLiteral(?o) && ?p NOT IN ({_iri_list(annotation)})) }}
  UNION {{ GRAPH <{_INFERRED.value}> {{ ?s ?p ?o FILTER(!isLiteral(?o)) }} }}"""
        # ``reasonable`` joins the triples of a functional property pairwise per property,
        # not per subject (quadratic: 12 GB asked for at 10^6 triples), so it never sees the
        # owl:FunctionalProperty declarations; _FUNCTIONAL (rule prp-fp) stands in for them.
        skip_functional = (f"FILTER(!(sameTerm(?p, <{RDF.type}>) && "
                           f"sameTerm(?o, <{OWL.FunctionalProperty}>)))"
                           if engine == "reasonable" else "")
        self.owl_input = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {{ {usable} }} {skip_functional} }}"
        pair = usable.replace("?s", "?x")
        self.functional = f"""
CONSTRUCT {{ ?y1 <{OWL.sameAs}> ?y2 }} WHERE {{
  ?p a <{OWL.FunctionalProperty}> .
  {{ {pair.replace("?o", "?y1")} }}
  {{ {pair.replace("?o", "?y2")} }}
  FILTER(!sameTerm(?y1, ?y2))
}}"""

    def _merge(self) -> int:
        """Keep the staged candidates that are new; return how many."""
        before = self._count()
        self.store.update(_MERGE)
        self.store.update(f"CLEAR SILENT GRAPH <{_STAGING.value}>")
        return self._count() - before

    def _count(self) -> int:
        result = self.store.query(
            f"SELECT (COUNT(*) AS ?n) {{ GRAPH <{_INFERRED.value}> {{ ?s ?p ?o }} }}")
        return int(next(iter(result))["n"].value)

    def apply_rules(self, stratum: int) -> int:
        added = 0
        for rule in self.rules:
            if rule.stratum == stratum:
                self.store.extend(pyoxigraph.Quad(t.subject, t.predicate, t.object, _STAGING)
                                  for t in self.store.query(rule.text))
                count = self._merge()
                logger.debug("rule %s: %d new triples", rule.name, count)
                added += count
        return added

    def apply_owl(self) -> int:
        added = self._owl_closure()
        if self.engine == "reasonable":
            # prp-fp outside ``reasonable``; a new owl:sameAs needs the closure again.
            while True:
                self.store.extend(pyoxigraph.Quad(t.subject, t.predicate, t.object, _STAGING)
                                  for t in self.store.query(self.functional))
                fresh = self._merge()
                if not fresh:
                    break
                added += fresh + self._owl_closure()
        return added

    def _owl_closure(self) -> int:
        with tempfile.TemporaryDirectory(prefix="exomirkg-owl-") as folder:
            source = Path(folder) / "input.ttl"  # N-Triples, which is Turtle
            self.store.query(self.owl_input).serialize(
                output=str(source), format=pyoxigraph.RdfFormat.N_TRIPLES)
            if self.engine == "reasonable":
                import reasonable

                reasoner = reasonable.PyReasoner()
                reasoner.load_file(str(source))
                closure = reasoner.reason()
                del reasoner
            else:
                import owlrl

                graph = Graph().parse(source, format="nt")
                owlrl.DeductiveClosure(owlrl.OWLRL_Semantics, axiomatic_triples=False).expand(
                    graph)
                for _node, message in graph.subject_objects(_OWLRL_ERROR):
                    self.errors.add(str(message))
                closure = list(graph)
        # The closure goes back as N-Triples text (fast to write and to parse); the rare term
        # N-Triples cannot hold (an owlrl literal object) goes term by term.
        lines = []
        quads = []
        for subject, predicate, obj in closure:
            if isinstance(subject, Literal) or isinstance(predicate, Literal):
                continue  # generalised RDF
            s, p, o = _nt_term(subject), _nt_term(predicate), _nt_term(obj)
            if s is not None and p is not None and o is not None:
                lines.append(f"{s} {p} {o} .\n")
            else:
                quads.append(pyoxigraph.Quad(to_oxigraph(subject), to_oxigraph(predicate),
                                             to_oxigraph(obj), _STAGING))
        del closure
        self.store.bulk_load(input="".join(lines).encode("utf-8"),
                             format=pyoxigraph.RdfFormat.N_TRIPLES, to_graph=_STAGING)
        del lines
        self.store.extend(quads)
        return self._merge()

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
        for quad in self.store.quads_for_pattern(None, None, None, _INFERRED):
            inferred.add((to_rdflib(quad.subject), to_rdflib(quad.predicate),
                          to_rdflib(quad.object)))
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
    reasoner = _Reasoner(_source_graphs(dataset), load_rules(rules_dir),
                         engine or default_engine())
    inferred = reasoner.run()
    logger.info("inferred %d triples", len(inferred))
    return inferred
