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
triples (labels, quotes, definitions, cross-references), which OWL 2 RL only copies around,
and without the triples of plain properties (only a domain, range and super-properties),
whose consequences SPARQL derives (:meth:`_Reasoner._plain_consequences`).
The rules are evaluated by pyoxigraph over everything known (asserted + inferred).

Memory: the working state lives in one pyoxigraph store (asserted and inferred triples,
de-duplicated by a SPARQL update), not in rdflib graphs and Python sets, which cost ~1 KB a
triple and most of the time (rdflib hashes terms in Python). ``reasonable`` reads its input as
N-Triples written by pyoxigraph, and never sees the owl:FunctionalProperty declarations: it
joins a functional property's triples pairwise per property (20 M pairs at 10^5 triples, a
12 GB allocation at 10^6), so rule prp-fp runs as a SPARQL query here instead (same closure).

Work that cannot add anything is skipped (issue 17): a rule runs again only when a step since
its last run added a triple whose predicate (for rdf:type, whose class) its WHERE reads
(:func:`rule_reads`), and the OWL 2 RL closure runs again only when the rules added a triple
it can use (:meth:`_Reasoner.owl_has_work`). The inferred graph is the same as without skips.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import pyoxigraph
from rdflib import BNode, Dataset, Graph, Literal, URIRef, Variable
from rdflib.namespace import OWL, RDF, RDFS
from rdflib.plugins.sparql.algebra import translatePrologue
from rdflib.plugins.sparql.parser import parseQuery
from rdflib.plugins.sparql.parserutils import CompValue

from exomirkg import owl_rules, paths
from exomirkg.load import DataFileError, load_ntriples
from exomirkg.namespaces import GRAPH_INFERRED, GRAPH_STATEMENTS, REASONER_GRAPHS
from exomirkg.queries import read_header
from exomirkg.sparql.guard import lex
from exomirkg.sparql.parsing import parsed
from exomirkg.store import graph_to_rdflib, to_oxigraph

__all__ = ["ENGINES", "Inference", "Rule", "data_rule_keys", "default_engine", "infer",
           "infer_into", "line_key", "load_rules", "not_trivia", "nt_key", "reads_key",
           "reasoning_input", "split_nt", "worth_keeping_nt"]

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
#: Closure triples staged per N-Triples load.
_BATCH = 200_000
#: Guard against a rule that keeps minting new nodes.
_MAX_ROUNDS = 10
#: Whether the OWL 2 RL closure over the data runs as SPARQL rules compiled from the
#: schema (:mod:`exomirkg.owl_rules`) when the schema allows it; tests set it to False to
#: compare with the engine reading everything.
COMPILE_DATA_RULES = True
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
    #: ``#+ recursive: false``: the rule never reads a triple it writes, so its own output
    #: does not make it run again (link-label wrote labels and read labels, of other nodes:
    #: its second run found nothing, 3 s at 10^6 triples).
    recursive: bool = True
    #: ``#+ owl-rl: <rule>``: it states an OWL 2 RL rule for an engine that lacks it, and is
    #: skipped while the reasoner applies that rule itself (:mod:`exomirkg.owl_rules`).
    owl_rl: str | None = None

    @cached_property
    def staging_update(self) -> str | None:
        """The rule as a SPARQL update inserting its triples into the staging graph, so they
        never pass through Python (:func:`construct_as_insert`), reading the reasoner's
        asserted and inferred graphs; None if it cannot be one."""
        return construct_as_insert(self.text, _STAGING.value, _UNION_IRIS)

    @cached_property
    def reads(self) -> frozenset[str] | None:
        """Keys of the triples the rule's WHERE can read (:func:`rule_reads`); None: any."""
        return rule_reads(self.text)

    @cached_property
    def writes(self) -> frozenset[str] | None:
        """Keys of the triples its template can write (:func:`rule_writes`); None: any."""
        return rule_writes(self.text)


def construct_as_insert(text: str, graph: str, using: Sequence[str] = ()) -> str | None:
    """``CONSTRUCT { T } WHERE { P }`` as ``INSERT { GRAPH <graph> { T } } WHERE { P }``.

    The same triples (a template's blank nodes are fresh per solution in both, ill-formed
    triples are dropped by both), written by the store without a Python object per triple
    (at 10^5 triples the rules' CONSTRUCT results cost more in Python than to evaluate).

    :param using: graphs whose merge is the default graph P reads (``USING <g>`` each).
    :returns: None when the query has no such form: ``CONSTRUCT WHERE``, a dataset clause
        or a solution modifier after the WHERE pattern, none of which an update may hold.
    """
    tokens = [(kind, token, end) for kind, token, end in lex(text) if kind != "comment"]
    words = [token.upper() if kind == "word" else token for kind, token, _ in tokens]
    if "CONSTRUCT" not in words:
        return None
    start = words.index("CONSTRUCT")
    if start + 1 >= len(words) or words[start + 1] != "{":
        return None
    depth, close = 0, None
    for i in range(start + 1, len(tokens)):
        depth += {"{": 1, "}": -1}.get(words[i], 0)
        if depth == 0:
            close = i
            break
    if close is None or close + 2 >= len(words) or words[close + 1] != "WHERE" \
            or words[close + 2] != "{" or words[-1] != "}":
        return None
    # The WHERE pattern must run to the end of the query: its "{" closes on the last token.
    depth = 0
    for i in range(close + 2, len(tokens)):
        depth += {"{": 1, "}": -1}.get(words[i], 0)
        if depth == 0 and i != len(tokens) - 1:
            return None
    template_start = tokens[start + 1][2]  # just after "{"
    template_end = tokens[close][2] - 1  # at "}"
    keyword_start = tokens[start][2] - len(tokens[start][1])
    return (text[:keyword_start] + f"INSERT {{ GRAPH <{graph}> {{"
            + text[template_start:template_end] + "} }" + _using(using)
            + text[template_end + 1:])


def _using(graphs: Sequence[str]) -> str:
    """An update's dataset clause: the merge of ``graphs`` is the default graph it reads."""
    return "".join(f" USING <{iri}>" for iri in graphs)


def load_rules(rules_dir: Path | None = None) -> list[Rule]:
    """Read every ``*.rq`` rule, sorted by stratum then name.

    :param rules_dir: folder of rules (default :data:`paths.RULES_DIR`).
    :raises DataFileError: for a rule that is not a CONSTRUCT, lacks a ``#+ summary:`` or whose
        header is not ``key: value`` YAML (a ValueError: the CLI reports it in one line).
    """
    rules = []
    for path in sorted((rules_dir or paths.RULES_DIR).glob("*.rq")):
        text = path.read_text(encoding="utf-8")
        try:
            header = read_header(text)
        except ValueError as error:
            raise DataFileError(path, None, str(error)) from None
        if not header.get("summary"):
            raise DataFileError(path, None, "add a '#+ summary:' header line")
        if "CONSTRUCT" not in text.upper():
            raise DataFileError(path, None, "a rule must be a SPARQL CONSTRUCT query")
        recursive = header.get("recursive", True)
        if not isinstance(recursive, bool):
            raise DataFileError(path, None, "'#+ recursive:' takes true or false")
        owl_rl = header.get("owl-rl")
        if owl_rl is not None and not isinstance(owl_rl, str):
            raise DataFileError(path, None, "'#+ owl-rl:' takes an OWL 2 RL rule's name")
        rules.append(Rule(path.stem, path, text, str(header["summary"]),
                          int(header.get("stratum", 1)), recursive, owl_rl))
    return sorted(rules, key=lambda rule: (rule.stratum, rule.name))


#: A step's new triples and a rule's triple patterns are keyed by predicate IRI, except
#: rdf:type, keyed by class: ``"type <class IRI>"``; a rule pattern ``?x a ?class`` reads
#: ``"type *"`` (every class).
_TYPE_ANY = "type *"
#: The parse tree's nodes that wrap one operand when an expression has no operator.
_WRAPPERS = ("ConditionalOrExpression", "ConditionalAndExpression", "RelationalExpression",
             "AdditiveExpression", "MultiplicativeExpression")


def _type_key(cls: str) -> str:
    return f"type {cls}"


def _independent(batch: Sequence[Rule], rule: Rule) -> bool:
    """Whether ``rule`` reads nothing the rules of ``batch`` write (then it may run with
    them: run after them, it would find the same), and writes no blank node (a batch's
    triples pass through N-Triples text)."""
    if rule.reads is None or rule.writes is None:
        return False
    return all(earlier.writes is not None
               and not any(reads_key(rule.reads, key) for key in earlier.writes)
               for earlier in batch)


def reads_key(reads: frozenset[str], key: str) -> bool:
    """Whether a rule reading ``reads`` (:func:`rule_reads`) can read a triple of ``key``."""
    return key in reads or (_TYPE_ANY in reads and key.startswith("type "))


def rule_reads(text: str) -> frozenset[str] | None:
    """The keys of the triples a rule's WHERE can read, FILTER (NOT) EXISTS included.

    Walks rdflib's parse tree (its algebra drops a FILTER nested in a NOT EXISTS; a missing
    field is read with ``dict.get``, as ``CompValue.get`` returns the field's name). A variable
    predicate reads the IRIs a VALUES or an IN filter of its group or an enclosing group
    allows it, else any predicate; so do a negated property set and a GRAPH pattern. Unknown
    shapes also read anything, so a rule is never skipped wrongly.

    :returns: the keys, or None when the rule may read any triple.
    """
    return _rule_keys(text)[0]


def rule_writes(text: str) -> frozenset[str] | None:
    """The keys of the triples a rule's CONSTRUCT template can write.

    :returns: the keys, or None when it may write any (a variable predicate or class, a
        blank node, which is new per solution, or a template not understood).
    """
    return _rule_keys(text)[1]


def _parse_rule(text: str) -> tuple[Any, Any]:
    """A rule's prologue, translated, and its parse tree (on the parser thread)."""
    prologue_tree, query = parseQuery(text)
    return translatePrologue(prologue_tree, None), query


@cache  # rdflib parses in pure Python (0.5 s for the 15 rules); infer runs often in tests
def _rule_keys(text: str) -> tuple[frozenset[str] | None, frozenset[str] | None]:
    """:func:`rule_reads` and :func:`rule_writes`, from one parse."""
    try:
        prologue, query = parsed(_parse_rule, text)
    except Exception:  # noqa: BLE001 - pyoxigraph is the judge of the rule; assume the worst
        return None, None

    def iri(node) -> URIRef | None:
        if isinstance(node, URIRef):
            return node
        if isinstance(node, CompValue) and node.name == "pname":
            return prologue.absolutize(node)
        return None

    reads: set[str] = set()

    def path_iris(path) -> set[URIRef] | None:
        single = iri(path)
        if single is not None:
            return {single}
        if not isinstance(path, CompValue) or path.name not in (
                "PathAlternative", "PathSequence", "PathElt", "PathEltOrInverse"):
            return None  # a variable, a negated property set, ...
        found: set[URIRef] = set()
        parts = dict.get(path, "part")
        for part in parts if isinstance(parts, list) else [parts]:
            more = path_iris(part)
            if more is None:
                return None
            found |= more
        return found

    def plain(path) -> URIRef | None:
        """The IRI of a path that is one IRI with no modifier."""
        while isinstance(path, CompValue) and path.name in ("PathAlternative", "PathSequence",
                                                              "PathElt"):
            parts = dict.get(path, "part")
            if dict.get(path, "mod") or (isinstance(parts, list) and len(parts) != 1):
                return None
            path = parts[0] if isinstance(parts, list) else parts
        return iri(path)

    def triples(flat, values: dict) -> bool:
        if len(flat) % 3:
            return False
        for index in range(0, len(flat), 3):
            predicate, obj = flat[index + 1], flat[index + 2]
            if isinstance(predicate, Variable):
                if predicate not in values:
                    return False
                reads.update(str(term) for term in values[predicate])
                continue
            single = plain(predicate)
            if single == RDF.type:
                cls = iri(obj)
                reads.add(_type_key(str(cls)) if cls is not None else _TYPE_ANY)
                continue
            found = path_iris(predicate)
            if found is None:
                return False
            if RDF.type in found:
                reads.add(_TYPE_ANY)
            reads.update(str(term) for term in found if term != RDF.type)
        return True

    def bare(expr):
        """An expression less the parser's wrappers of one operand."""
        while (isinstance(expr, CompValue) and expr.name in _WRAPPERS
               and dict.get(expr, "op") is None and dict.get(expr, "other") is None):
            expr = dict.get(expr, "expr")
        return expr

    def bound_values(part) -> tuple[Variable, set[URIRef]] | None:
        """The IRIs a group's part allows a variable: ``VALUES ?v { ... }`` or
        ``FILTER(?v IN (...))`` (the filter holds over its whole group)."""
        if isinstance(part, CompValue) and part.name == "InlineData":
            variables = dict.get(part, "var") or []
            terms = dict.get(part, "value") or []
        elif isinstance(part, CompValue) and part.name == "Filter":
            test = bare(dict.get(part, "expr"))
            if not (isinstance(test, CompValue) and test.name == "RelationalExpression"
                    and dict.get(test, "op") == "IN"):
                return None
            variables = [bare(dict.get(test, "expr"))]
            terms = [bare(term) for term in dict.get(test, "other") or []]
        else:
            return None
        bound = [iri(term) for term in terms]
        if len(variables) != 1 or not isinstance(variables[0], Variable) or None in bound:
            return None
        return variables[0], set(bound)

    def walk(node, values: dict) -> bool:
        if isinstance(node, CompValue):
            if node.name in ("GraphGraphPattern", "PathNegatedPropertySet"):
                return False
            if node.name == "GroupGraphPatternSub":
                values = dict(values)
                for part in dict.get(node, "part") or []:
                    found = bound_values(part)
                    if found is not None:
                        variable, bound = found
                        values[variable] = values.get(variable, bound) & bound
            if node.name == "TriplesBlock":  # one flat s p o s p o ... list per subject
                return all(triples(list(flat), values) for flat in dict.get(node, "triples") or [])
            if node.name == "ConstructQuery":
                node = {key: value for key, value in node.items() if key != "template"}
            return all(walk(child, values) for child in node.values())
        if isinstance(node, dict):
            return all(walk(child, values) for child in node.values())
        if isinstance(node, (list, tuple)) or type(node).__name__ == "ParseResults":
            return all(walk(child, values) for child in node)
        return True

    def template_keys(template) -> frozenset[str] | None:
        """The keys of the template's triples (one flat s p o s p o ... list per subject)."""
        if not isinstance(template, list):
            return None  # CONSTRUCT WHERE, or not understood
        keys: set[str] = set()
        for flat in map(list, template):
            if not flat or len(flat) % 3 or any(isinstance(term, BNode) for term in flat):
                return None
            for index in range(0, len(flat), 3):
                predicate = iri(flat[index + 1])
                if predicate != RDF.type:
                    if predicate is None:
                        return None
                    keys.add(str(predicate))
                    continue
                cls = iri(flat[index + 2])
                if cls is None:
                    return None
                keys.add(_type_key(str(cls)))
        return frozenset(keys) or None

    written = template_keys(dict.get(query, "template") if isinstance(query, CompValue) else None)
    if not walk(query, {}) or not reads:
        return None, written
    return frozenset(reads), written


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


#: Named graphs of the working store: what the reasoner inferred, the statements, and the
#: candidates of one step. What it infers goes straight into graph/inferred, so the build's
#: store can be the working store: copying 0.95 M inferred triples out of a store of the
#: reasoner's own took 8 s at 10^6 triples and set the build's peak memory.
_INFERRED = pyoxigraph.NamedNode(str(GRAPH_INFERRED))
#: The statements reasoned over. Each triple is in this graph or _INFERRED, never both: what
#: the rules read is their merge (``USING`` in an update, ``default_graph`` in a query).
#: A default graph holding both kept every inferred triple twice (~0.2 GB at 10^6 triples).
#: In the build's store the files' graphs hold the same statements, but a default graph of
#: them all reads each pattern once per graph (3-6x slower rules over 21 graphs at 10^6) and
#: counts a triple two files state twice.
#: It is GRAPH_STATEMENTS, the union the checks of scope ``asserted`` read too: the build
#: loads it once for both (:func:`infer_into`'s ``loaded``; a second copy loaded beside the
#: reasoner's took ~3 s of the same writer at 10^6 triples).
_ASSERTED = pyoxigraph.NamedNode(GRAPH_STATEMENTS)
_UNION = [_ASSERTED, _INFERRED]
_UNION_IRIS = [graph.value for graph in _UNION]
#: A step's candidates; then, once _DISCARD has run, the new ones, before they join _INFERRED.
_STAGING = pyoxigraph.NamedNode(REASONER_GRAPHS + "staging")
#: What the rules added since the OWL 2 RL closure last ran (see _Reasoner.owl_has_work).
_PENDING = pyoxigraph.NamedNode(REASONER_GRAPHS + "pending")
#: What each compiled data rule added in the last round (:meth:`_Reasoner._compiled_closure`)
#: is in a graph of this name and the rule's.
_ROUND = REASONER_GRAPHS + "round/"
#: What a run leaves in a store it was given, and drops at the end (:meth:`_Reasoner.finish`),
#: with the _ROUND graphs.
_WORKING = (_ASSERTED, _STAGING, _PENDING)


def _iri_list(terms) -> str:
    return ", ".join(f"<{term}>" for term in sorted(str(t) for t in terms))


def _worth_keeping_condition(s: str = "?s", p: str = "?p", o: str = "?o") -> str:
    """What is worth keeping of a candidate triple ``s p o`` (SPARQL variables or terms), as
    a SPARQL condition: no generalised RDF, no owlrl error notes or blank-node structure, no
    trivia true of every class."""
    return f"!isBlank({s}) && !isBlank({o}) && {not_trivia(s, p, o)}"


def not_trivia(s: str, p: str, o: str) -> str:
    """_worth_keeping_condition less its blank-node part."""
    return f"""{p} != <{_OWLRL_ERROR}>
           && !({p} IN ({_iri_list(_REFLEXIVE)}) && sameTerm({s}, {o}))
           && !sameTerm({o}, <{OWL.Thing}>) && !sameTerm({o}, <{RDFS.Resource}>)
           && !sameTerm({s}, <{OWL.Nothing}>)
           && !(sameTerm({p}, <{RDF.type}>) && sameTerm({o}, <{RDFS.Datatype}>))"""


_WORTH_KEEPING = _worth_keeping_condition()


def _nt(iri: str) -> str:
    return f"<{iri}>"


_NT_ERROR, _NT_TYPE, _NT_NOTHING, _NT_DATATYPE, _NT_FUNCTIONAL = map(_nt, (
    _OWLRL_ERROR, RDF.type, OWL.Nothing, RDFS.Datatype, OWL.FunctionalProperty))
_NT_REFLEXIVE = frozenset(map(_nt, _REFLEXIVE))
_NT_EVERY_CLASS = frozenset(map(_nt, (OWL.Thing, RDFS.Resource)))


def worth_keeping_nt(subject: str, predicate: str, obj: str) -> bool:
    """_WORTH_KEEPING for a triple's terms written in N-Triples: string comparisons, as the
    OWL 2 RL closure's 0.2-0.6 M new triples at 10^6 are each asked (rdflib's terms hash and
    compare in Python: 3 s)."""
    if subject[0] != "<" or predicate[0] == '"' or obj.startswith("_:"):
        return False  # generalised RDF, blank-node structure
    if predicate == _NT_ERROR or (predicate in _NT_REFLEXIVE and subject == obj):
        return False
    if obj in _NT_EVERY_CLASS or subject == _NT_NOTHING:  # true of every class
        return False
    return not (predicate == _NT_TYPE and obj == _NT_DATATYPE)


def split_nt(line: str) -> tuple[str, str, str]:
    """The terms of an N-Triples line as pyoxigraph writes it (one space between terms,
    ending in " .\n"; a literal object may hold spaces)."""
    subject, predicate, rest = line.split(" ", 2)
    return subject, predicate, rest[:-3]


#: At most this many subject prefixes of a key are asked about (:func:`_by_subject_prefix`).
_MOST_PREFIXES = 16


def _by_subject_prefix(lines: list[str]) -> dict[str | None, list[str]]:
    """N-Triples lines by their subject's IRI up to the first ``_`` of its local name
    (``…/link_``), else its namespace: the rules mint IRIs of a few such prefixes
    (``ekg:link_<drug>_<mechanism>``), so the store often holds no triple of a key whose
    subject has one. More than :data:`_MOST_PREFIXES` prefixes, or a blank node: all
    under None (staged and asked line by line)."""
    parts: dict[str | None, list[str]] = {}
    for line in lines:
        iri = line[1:line.index(">")] if line.startswith("<") else None
        if iri is None:
            return {None: lines}
        cut = max(iri.rfind("/"), iri.rfind("#")) + 1
        underscore = iri.find("_", cut)
        prefix = iri[:underscore + 1] if underscore >= 0 else iri[:cut]
        if not prefix:  # (no namespace: "" would say nothing is held)
            return {None: lines}
        parts.setdefault(prefix, []).append(line)
        if len(parts) > _MOST_PREFIXES:
            return {None: lines}
    return parts


def nt_key(predicate: str, obj: str) -> str:
    """The key (see :func:`rule_reads`) of a triple written in N-Triples."""
    return _type_key(obj[1:-1]) if predicate == _NT_TYPE else predicate[1:-1]


def line_key(line: str) -> str:
    """:func:`nt_key` of an N-Triples line (:func:`split_nt`)."""
    return nt_key(*split_nt(line)[1:])


def _worth_keeping(triple: tuple) -> bool:
    """_WORTH_KEEPING for an rdflib triple (benchmarks/reasoners.py counts what each engine
    derives from its raw closure, generalised RDF included; a test holds the two to the same
    answers)."""
    return worth_keeping_nt(*(term.n3() for term in triple))


_UNKNOWN = f"""NOT EXISTS {{ GRAPH <{_ASSERTED.value}> {{ ?s ?p ?o }} }}
           && NOT EXISTS {{ GRAPH <{_INFERRED.value}> {{ ?s ?p ?o }} }}"""
#: Drops from _STAGING the candidates that are known or not worth keeping, all inside
#: pyoxigraph: a Python set of rdflib triples costed ~1 KB a triple and most of the run's time
#: (rdflib hashes in Python). What is left is new: its size is the step's count (counting
#: _INFERRED before and after scanned every inferred triple twice per rule and round), and
#: _ACCEPT adds it to _INFERRED. Copying the new ones to a graph of their own instead wrote
#: each twice more (5 s of 85 s at 10^6 triples).
_DISCARD = f"""
DELETE {{ GRAPH <{_STAGING.value}> {{ ?s ?p ?o }} }}
WHERE {{
  GRAPH <{_STAGING.value}> {{ ?s ?p ?o }}
  FILTER(!({_WORTH_KEEPING}
           && {_UNKNOWN}))
}}"""


def _keys_query(*graphs: pyoxigraph.NamedNode) -> str:
    """The keys (see :func:`rule_reads`) of the graphs' triples, as a SPARQL query."""
    return f"""
SELECT DISTINCT ?p ?c WHERE {{
  VALUES ?g {{ {" ".join(str(graph) for graph in graphs)} }}
  GRAPH ?g {{ ?s ?p ?o }}
  BIND (IF(sameTerm(?p, <{RDF.type}>), STR(?o), "") AS ?c)
}}"""


_ACCEPT = f"""
INSERT {{ GRAPH <{_INFERRED.value}> {{ ?s ?p ?o }} }}
WHERE {{ GRAPH <{_STAGING.value}> {{ ?s ?p ?o }} }}"""
_ACCEPT_PENDING = f"""
INSERT {{ GRAPH <{_INFERRED.value}> {{ ?s ?p ?o }} GRAPH <{_PENDING.value}> {{ ?s ?p ?o }} }}
WHERE {{ GRAPH <{_STAGING.value}> {{ ?s ?p ?o }} }}"""

_SCHEMA = (str(RDF), str(RDFS), str(OWL))
#: Predicates in the RDF, RDFS and OWL namespaces a property P may be the subject of and stay
#: "plain" (see _Reasoner.owl_has_work), with the classes it may be declared an instance of.
_PLAIN_AS_SUBJECT = (RDFS.domain, RDFS.range, RDFS.subPropertyOf, OWL.propertyChainAxiom,
                     RDFS.label, RDFS.comment, RDFS.seeAlso, RDFS.isDefinedBy, OWL.deprecated,
                     OWL.versionInfo)
_PLAIN_TYPES = (OWL.ObjectProperty, OWL.DatatypeProperty, RDF.Property, OWL.NamedIndividual)
#: ... and may be the object of (it is the super-property of another).
_PLAIN_AS_OBJECT = (RDFS.subPropertyOf, RDFS.seeAlso, RDFS.isDefinedBy)


def _schema_term(variable: str) -> str:
    """A SPARQL condition: the variable is a term of the RDF, RDFS or OWL vocabulary."""
    return " || ".join(f'STRSTARTS(STR({variable}), "{ns}")' for ns in _SCHEMA)


def _not_plain(engine: str | None = None) -> str:
    """A SPARQL condition on ``?p``: the property is not plain (see _Reasoner.owl_has_work).

    :param engine: for the OWL 2 RL closure's input (:meth:`_Reasoner.plain_properties`):
        ``reasonable`` never sees owl:FunctionalProperty (prp-fp runs as SPARQL over the
        store) and skips property chains (rule owl-property-chain.rq reads the store), so for
        it a functional property or a chain's link is plain too. None: plain for every step.
    """
    types = list(_PLAIN_TYPES) + ([OWL.FunctionalProperty] if engine == "reasonable" else [])
    chain_link = (f" FILTER(!(sameTerm(?q, <{RDF.first}>) && EXISTS {{ ?chain "
                  f"<{OWL.propertyChainAxiom}>/<{RDF.rest}>* ?u }}))"
                  if engine == "reasonable" else "")
    return f"""({_schema_term("?p")}
    || EXISTS {{ ?p ?q ?v FILTER(({_schema_term("?q")})
         && ?q NOT IN ({_iri_list(_PLAIN_AS_SUBJECT)})
         && !(sameTerm(?q, <{RDF.type}>) && ?v IN ({_iri_list(types)}))) }}
    || EXISTS {{ ?u ?q ?p FILTER(({_schema_term("?q")})
         && ?q NOT IN ({_iri_list(_PLAIN_AS_OBJECT)})){chain_link} }})"""


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


def data_rule_keys(terms: tuple[frozenset[str], frozenset[str]]) -> frozenset[str]:
    """The keys (see :func:`rule_reads`) of the triples a compiled data rule reads or
    derives (:attr:`~exomirkg.owl_rules.DataRule.reads`, ``writes``)."""
    predicates, classes = terms
    return predicates | frozenset(map(_type_key, classes))


class _Reasoner:
    """The working state of one run, all in one pyoxigraph store.

    Graph _ASSERTED: the statements; graph _INFERRED: what follows from them and is not one
    of them. The rules read the two as one (:meth:`query`, ``USING`` in updates).
    """

    def __init__(self, sources: list[Graph] | pyoxigraph.Store | bytes | None,
                 rules: list[Rule], engine: str, store: pyoxigraph.Store | None = None) -> None:
        """Load the statements.

        :param sources: the statements; None: ``store`` holds their union in _ASSERTED
            already, which is read and left there.
        :param store: where to work (its graph/inferred and _WORKING graphs are replaced;
            :meth:`finish` drops the latter); a store of its own by default.
        """
        if engine not in ENGINES:
            raise ValueError(f"unknown reasoner {engine!r}; choose one of {ENGINES}")
        self.rules = rules
        self.engine = engine
        self.strata = sorted({rule.stratum for rule in rules}) or [1]
        self.first = self.strata[0]
        #: graph/inferred's N-Triples once the lowest stratum is done, when asked for
        #: (:func:`infer_into`'s ``keep_lowest``).
        self.keep_lowest = False
        self.lowest: bytes | None = None
        self.owl_ran = False
        # Semi-naive at the level of keys (predicate, or rdf:type and class): a rule runs
        # again only when a step since its last run added a triple it can read.
        self.version = 0  # bumped by every step that adds triples
        self.changed: dict[str, int] = {}  # key -> version of the last step that added one
        self.last_run: dict[str, int] = {}  # rule name -> version when it last ran
        self.errors: set[str] = set()
        if sources is None and store is None:
            raise ValueError("no statements: neither sources nor a store holding them")
        self.store = pyoxigraph.Store() if store is None else store
        #: The graphs :meth:`finish` drops.
        self.working = _WORKING if sources is not None else tuple(
            graph for graph in _WORKING if graph != _ASSERTED)
        for graph in (*self.working, _INFERRED):
            self.store.update(f"DROP SILENT GRAPH <{graph.value}>")
        self._drop_rounds()
        annotation: set[str] = set()
        if sources is None or isinstance(sources, (bytes, pyoxigraph.Store)):
            if sources is not None:
                # The statements as N-Triples text (the build has it), or every graph's
                # triples written by Rust: parsed by Rust, no Python object each.
                text = sources if isinstance(sources, bytes) else sources.query(
                    "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", use_default_graph_as_union=True
                ).serialize(format=pyoxigraph.RdfFormat.N_TRIPLES)
                load_ntriples(self.store, text, _ASSERTED)
            annotation.update(row[0].value for row in self.query(
                f"SELECT DISTINCT ?p {{ ?p a <{OWL.AnnotationProperty}> }}"))
        else:
            for graph in sources:
                # One N-Triples load per graph: Rust parses it, no per-term Python objects.
                load_ntriples(self.store, graph.serialize(format="nt", encoding="utf-8"),
                              _ASSERTED)
                annotation.update(str(s) for s in graph.subjects(RDF.type,
                                                                 OWL.AnnotationProperty))
        # OWL 2 RL input: the asserted triples without literal objects or annotation
        # predicates (annotation properties as the asserted data declares them), plus every
        # inferred triple without a literal object.
        # (pyoxigraph finds nothing for ``?p NOT IN ()``, so no annotations, no NOT IN.)
        not_annotation = f" && ?p NOT IN ({_iri_list(annotation)})" if annotation else ""
        usable = f"""
  {{ GRAPH <{_ASSERTED.value}> {{ ?s ?p ?o FILTER(!isLiteral(?o){not_annotation}) }} }}
  UNION {{ GRAPH <{_INFERRED.value}> {{ ?s ?p ?o FILTER(!isLiteral(?o)) }} }}"""
        # ``reasonable`` joins the triples of a functional property pairwise per property,
        # not per subject (quadratic: 12 GB asked for at 10^6 triples), so it never sees the
        # owl:FunctionalProperty declarations; _FUNCTIONAL (rule prp-fp) stands in for them.
        skip_functional = (f"FILTER(!(sameTerm(?p, <{RDF.type}>) && "
                           f"sameTerm(?o, <{OWL.FunctionalProperty}>)))"
                           if engine == "reasonable" else "")
        self.annotation = annotation
        self.owl_input = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {{ {usable} }} {skip_functional} }}"
        # The schema's part of it, closed alone when the data rules are compiled from it
        # (%s: its predicates but rdf:type; the types are the schema's classes').
        self.schema_input = f"""CONSTRUCT {{ ?s ?p ?o }} WHERE {{
  {{ VALUES ?p {{ %s }} {usable} }}
  UNION {{ VALUES ?p {{ <{RDF.type}> }} {usable} FILTER({owl_rules.schema_term("?o")}) }}
  {skip_functional} }}"""
        # The data rules compiled from the closed schema (None: not yet, or it changed), and
        # the version of the store they were compiled at.
        self.data_rules: list[owl_rules.DataRule] | None = None
        self.compiled_at = 0
        self.closed_at = 0  # the version the compiled closure last ended at
        self.uncompilable = False  # for the rest of the run: the engine reads everything
        # The data's properties first, then which of them are plain: pyoxigraph ran the two
        # as one query in 12 s at 10^6 triples, as two in ~1.5 s.
        self.used_query = "SELECT DISTINCT ?p { ?s ?p ?o FILTER(!isLiteral(?o)) }"
        self.plain_query = f"SELECT ?p WHERE {{ VALUES ?p {{ %s }} FILTER(!{_not_plain(engine)}) }}"
        pair = usable.replace("?s", "?x")
        self.functional = f"""
CONSTRUCT {{ ?y1 <{OWL.sameAs}> ?y2 }} WHERE {{
  ?p a <{OWL.FunctionalProperty}> .
  {{ {pair.replace("?o", "?y1")} }}
  {{ {pair.replace("?o", "?y2")} }}
  FILTER(!sameTerm(?y1, ?y2))
}}"""

    def query(self, text: str) -> object:
        """A query over the asserted and inferred triples as its default graph."""
        return self.store.query(text, default_graph=_UNION)

    def _merge(self, pending: bool = False) -> int:
        """Keep the staged candidates that are new; return how many.

        :param pending: also note them in _PENDING (the rules' output, which the OWL 2 RL
            closure has not seen).
        """
        self.store.update(_DISCARD)
        fresh = self._size(_STAGING)
        if fresh:
            self._note_changed(_STAGING)
            self.store.update(_ACCEPT_PENDING if pending else _ACCEPT)
            self.store.update(f"CLEAR SILENT GRAPH <{_STAGING.value}>")
        return fresh

    def _note_changed(self, *graphs: pyoxigraph.NamedNode, keys: Iterable[str] = ()) -> None:
        """Note that the keys of the graphs' triples, and ``keys``, changed (a new
        version)."""
        self.version += 1
        for key in keys:
            self.changed[key] = self.version
        if not graphs:
            return
        for row in self.store.query(_keys_query(*graphs)):
            self.changed[_type_key(row["c"].value) if row["c"].value
                          else row["p"].value] = self.version

    def _load_new(self, texts: list[bytes], graphs: list[pyoxigraph.NamedNode | None],
                  writes: list[owl_rules.Terms]) -> int:
        """Add N-Triples texts whose triples are new and worth keeping (one may be in
        several texts) to _INFERRED, and each to its empty graph of ``graphs`` (None: to
        none, no rule reads it next round); how many.

        No Python reads them: at 10^6 triples splitting the OWL 2 RL rules' 52 MB into
        lines and keys took ~4.6 s of the closure's 15 s, where pyoxigraph loads them twice
        and names their keys in ~4 s. A text kept in no graph of its own (at 10^6 triples
        the super-properties' and superclasses' 0.45 M triples, ~1.8 s to load again) has
        its keys found among those its rule can write (``writes``, see
        :attr:`~exomirkg.owl_rules.DataRule.writes`) by a search of the text each.
        """
        before = self._size(_INFERRED)
        keys: set[str] = set()
        for text, graph, (predicates, classes) in zip(texts, graphs, writes, strict=True):
            load_ntriples(self.store, text, _INFERRED)
            if graph is not None:
                load_ntriples(self.store, text, graph)
                continue
            # A line is <s> <p> <o> . or <s> <p> "literal" . (a blank node stops the closure)
            keys.update(p for p in predicates if f"> <{p}> <".encode() in text
                        or f'> <{p}> "'.encode() in text)
            keys.update(_type_key(c) for c in classes
                        if f"> {_NT_TYPE} <{c}> .\n".encode() in text)
        # (each text holds only triples the store lacked when the round began)
        count = self._size(_INFERRED) - before
        if count:
            self._note_changed(*(graph for graph in graphs if graph is not None), keys=keys)
        return count

    def _size(self, graph: pyoxigraph.NamedNode) -> int:
        """How many triples a graph holds."""
        return int(next(iter(self.store.query(
            f"SELECT (COUNT(*) AS ?n) {{ GRAPH <{graph.value}> {{ ?s ?p ?o }} }}")))[0].value)

    def _drop_rounds(self) -> None:
        """Drop the _ROUND graphs."""
        for graph in list(self.store.named_graphs()):
            if isinstance(graph, pyoxigraph.NamedNode) and graph.value.startswith(_ROUND):
                self.store.remove_graph(graph)

    def _accept_new(self, lines: set[str],
                    also: pyoxigraph.NamedNode | None = None,
                    keys: set[str] | None = None) -> int:
        """Add N-Triples lines (each ending in a newline) known to be new and worth keeping
        straight to _INFERRED, not through _STAGING; how many.

        Staged, the OWL 2 RL closure's 0.64 M new triples at 10^6 cost ~7 s to be asked again
        whether they are known (_DISCARD) and copied (_ACCEPT), and their removal from
        _STAGING left as many dead quads in pyoxigraph's in-memory store, which slow every
        later query over it and hold memory.

        :param also: a graph to add them to as well.
        :param keys: their keys (see :func:`rule_reads`), if the caller has them.
        """
        if not lines:
            return 0
        if keys is None:
            keys = {line_key(line) for line in lines}
        ordered = list(lines)
        for start in range(0, len(ordered), _BATCH):  # all at once: ~0.1 GB of text
            text = "".join(ordered[start:start + _BATCH]).encode("utf-8")
            for graph in (_INFERRED, *(() if also is None else (also,))):
                load_ntriples(self.store, text, graph)
        self.version += 1
        for key in keys:
            self.changed[key] = self.version
        return len(lines)

    def _unchanged(self, rule: Rule) -> bool:
        """True when no step since the rule last ran added a triple the rule can read."""
        last = self.last_run.get(rule.name)
        if last is None:
            return False
        if rule.reads is None:
            return self.version == last
        return not any(version > last for key, version in self.changed.items()
                       if reads_key(rule.reads, key))

    def apply_rules(self, stratum: int) -> int:
        """Run the stratum's rules once each, in name order; the number of new triples.

        Consecutive rules of which none reads what an earlier one writes run at once
        (:meth:`_constructs`): the same triples as one after the other, as no rule of
        the batch could have read another's. At 10^6 triples the four rules of stratum 2
        took 9.6-10.4 s one after the other, 6.0 s at once (9.3 s with other work running).
        """
        added = 0
        batch: list[Rule] = []
        for rule in self.rules:
            if rule.stratum != stratum:
                continue
            if batch and not _independent(batch, rule):
                # Before asking whether it has work: the batch may write what it reads.
                added += self._run_batch(batch)
                batch = []
            if self._unchanged(rule):
                logger.debug("rule %s: skipped, nothing it reads changed", rule.name)
                continue
            if rule.owl_rl is not None and not self.uncompilable and any(
                    compiled.name == rule.owl_rl for compiled in self.data_rules or ()):
                logger.debug("rule %s: skipped, the compiled %s applies it", rule.name,
                             rule.owl_rl)
                continue
            batch.append(rule)
        if batch:
            added += self._run_batch(batch)
        return added

    def _run_batch(self, batch: list[Rule]) -> int:
        for rule in batch:
            self.last_run[rule.name] = self.version
        if len(batch) == 1 and batch[0].staging_update is not None:
            self.store.update(batch[0].staging_update)
            return self._ran(batch, self._merge(pending=batch[0].stratum == self.first))
        return self._take(batch, self._constructs([rule.text for rule in batch]))

    def _take(self, batch: list[Rule], texts: list[bytes]) -> int:
        """Keep what a batch's queries gave (N-Triples) that is new and worth keeping.

        The triples of a key (:func:`rule_reads`) the store holds none of are new unless
        the batch gave them twice: they go straight to _INFERRED (:meth:`_accept_new`); the
        others are staged and asked. At 10^6 triples stratum 2's 0.43 M new triples took
        ~7.5 s to stage, ask and copy, most of them of keys only the rules write.
        """
        groups: dict[str, list[str]] = {}
        for line in {line for text in texts
                     for line in text.decode("utf-8").splitlines(keepends=True)}:
            subject, predicate, obj = split_nt(line)
            if worth_keeping_nt(subject, predicate, obj):
                groups.setdefault(nt_key(predicate, obj), []).append(line)
        del texts
        fresh: set[str] = set()
        fresh_keys: set[str] = set()
        staged: list[str] = []
        for key, lines in groups.items():
            # Of a key the store holds, those whose subject's prefix it holds none of.
            parts = {"": lines} if self._absent(key) else _by_subject_prefix(lines)
            for prefix, part in parts.items():
                if prefix is None or (prefix and not self._absent(key, prefix)):
                    staged.extend(part)
                else:
                    fresh.update(part)
                    fresh_keys.add(key)
        del groups
        self._stage(staged)
        del staged
        pending = batch[0].stratum == self.first
        count = self._accept_new(fresh, also=_PENDING if pending else None, keys=fresh_keys)
        return self._ran(batch, count + self._merge(pending=pending))

    def _absent(self, key: str, prefix: str = "") -> bool:
        """Whether the store holds no triple of the key (whose subject's IRI starts with
        ``prefix``, if given)."""
        pattern = (f"?s <{RDF.type}> <{key.removeprefix('type ')}>" if key.startswith("type ")
                   else f"?s <{key}> ?o")
        # An IRI holds no quote or backslash (N-Triples' IRIREF): the prefix is a plain string.
        condition = f'FILTER(STRSTARTS(STR(?s), "{prefix}"))' if prefix else ""
        return not self.query(f"ASK {{ {pattern} {condition} }}")

    def _ran(self, batch: list[Rule], count: int) -> int:
        for rule in batch:
            if not rule.recursive:
                self.last_run[rule.name] = self.version  # what it just wrote it never reads
        logger.debug("rule %s: %d new triples", " + ".join(rule.name for rule in batch), count)
        return count

    def apply_owl(self) -> int:
        added = self._owl_closure()
        if self.engine == "reasonable":
            # prp-fp outside ``reasonable``; a new owl:sameAs needs the closure again.
            while True:
                self.store.extend(pyoxigraph.Quad(t.subject, t.predicate, t.object, _STAGING)
                                  for t in self.query(self.functional))
                fresh = self._merge()
                if not fresh:
                    break
                added += fresh + self._owl_closure()
        return added

    def owl_has_work(self) -> bool:
        """False when the OWL 2 RL closure cannot derive anything from what the rules added
        since it last ran, so the store is still closed (a round costs a minute at 10^6).

        That holds when each new triple ``x P y`` that OWL 2 RL reads (object not a literal,
        P not an annotation property) has a plain property P - P is the subject of no RDF,
        RDFS or OWL triple but its domain, range, super-properties, chain definition,
        declaration and labels, and the object of none but rdfs:subPropertyOf (so no rule of
        OWL 2 RL joins ``x P y`` with anything but those) - and what those give is already
        known (``x Q y`` for each super-property Q, ``x a D`` for each domain D, ``y a R``
        for each range R: the closure holds what follows from them), and neither x nor y is
        owl:sameAs another node (rules eq-rep-s/o). The closure's own schema rules (scm-dom2,
        scm-spo) have already given P every inherited domain, range and super-property.
        """
        if not self.owl_ran:
            return True
        pending = f"GRAPH <{_PENDING.value}> {{ ?x ?p ?y }} FILTER(!isLiteral(?y))"
        if self.annotation:
            pending += f" FILTER(?p NOT IN ({_iri_list(self.annotation)}))"
        not_plain = f"""
ASK {{
  {{ SELECT DISTINCT ?p {{ {pending} }} }}
  FILTER{_not_plain()}
}}"""
        if self.query(not_plain):
            return True  # a property OWL 2 RL does more with
        # FILTER EXISTS, not UNION: a NOT EXISTS must see ?x and ?y bound.
        follows_unknown = f"""
ASK {{
  {pending}
  FILTER(EXISTS {{ ?x <{OWL.sameAs}> ?z }} || EXISTS {{ ?y <{OWL.sameAs}> ?z }}
    || EXISTS {{ ?p <{RDFS.subPropertyOf}> ?q FILTER(!sameTerm(?q, ?p))
                 FILTER NOT EXISTS {{ ?x ?q ?y }} }}
    || EXISTS {{ ?p <{RDFS.domain}> ?d FILTER NOT EXISTS {{ ?x a ?d }} }}
    || EXISTS {{ ?p <{RDFS.range}> ?r FILTER NOT EXISTS {{ ?y a ?r }} }})
}}"""
        return bool(self.query(follows_unknown))

    def _plain_consequences(self) -> tuple[int, str, frozenset[str] | None]:
        """Add what OWL 2 RL derives from the triples of plain properties alone, and give the
        closure's input without them.

        A plain property's triple ``x P y`` is read by no OWL 2 RL rule but prp-spo1,
        prp-dom and prp-rng (and eq-rep-*: with an owl:sameAs between two nodes, every
        triple goes to the engine), so ``x Q y`` for each super-property Q (a path of
        rdfs:subPropertyOf: every step is prp-spo1), ``x a D`` for each domain D of P or of a
        super-property, ``y a R`` likewise, are all it gives; they join the store before the
        engine reads its input, and the engine reasons over them (types, other properties).

        :returns: the number of new triples, the engine's input query, and the predicates
            it reads (every triple of theirs but a literal-valued or annotation one; None:
            every predicate).
        """
        same_as = f"ASK {{ ?a <{OWL.sameAs}> ?b FILTER(!sameTerm(?a, ?b)) }}"
        used, plain = self._properties()
        if not plain or self.query(same_as):
            return 0, self.owl_input, None
        values = "VALUES ?p { " + " ".join(f"<{iri}>" for iri in plain) + " }"
        supers = f"?p <{RDFS.subPropertyOf}>*"
        # Each consequence once, and only if new and worth keeping: most are known (a
        # finding's drug is declared a drug). So they need not be staged and asked again;
        # only the three queries can give the same one (a node in a domain and a range).
        # At 10^6 triples: 8.1 s as three updates, 4.3-4.6 s as three queries one after the
        # other, 2.1-2.3 s at once.
        type_iri = f"<{RDF.type}>"
        texts = self._constructs([f"""
CONSTRUCT {{ {head} }}
WHERE {{
  {{ SELECT DISTINCT {head.replace(" a ", " ")} {{
    {{ SELECT DISTINCT ?p ?q ?d ?r {{ {values} {axioms} }} }} ?s ?p ?o FILTER(!isLiteral(?o))
  }} }}
  FILTER NOT EXISTS {{ {head} }}
  FILTER({_worth_keeping_condition(*head.replace(" a ", f" {type_iri} ").split())})
}}""" for head, axioms in (
            ("?s ?q ?o", f"?p <{RDFS.subPropertyOf}>+ ?q FILTER(!sameTerm(?q, ?p))"),
            ("?s a ?d", f"{supers} ?q . ?q <{RDFS.domain}> ?d"),
            ("?o a ?r", f"{supers} ?q . ?q <{RDFS.range}> ?r"))])
        added = self._accept_new({line for text in texts
                                  for line in text.decode("utf-8").splitlines(keepends=True)})
        del texts
        # The engine reads the triples of every other property: those of the data, and those
        # the consequences just written may have brought in (a super-property, rdf:type). A
        # VALUES list finds them by predicate; a NOT IN filter over every triple took 5.3 s
        # instead of 3.0 s at 10^6 triples.
        supers = {row[0].value for row in self.query(
            f"SELECT DISTINCT ?q {{ {values} ?p <{RDFS.subPropertyOf}>+ ?q }}")}
        others = sorted({*used, *supers, str(RDF.type)} - set(plain))
        return added, self.owl_input.replace(
            "WHERE {", "WHERE { VALUES ?p { " + " ".join(f"<{p}>" for p in others) + " }",
            1), frozenset(others)

    def plain_properties(self) -> list[str]:
        """The properties of the data whose triples OWL 2 RL only maps through their domain,
        range and super-properties (plain, as :meth:`owl_has_work` says), annotation
        properties aside: the closure step derives that in SPARQL (_plain_consequences) and
        the engine never reads them. At 10^6 triples its input halves (the engine's reading
        and reasoning 19 s -> 8 s; the closure step 31 -> 28 s, as the consequences are still
        written). Asked at each closure, as a rule may have written a schema triple.
        """
        return self._properties()[1]

    def _properties(self) -> tuple[list[str], list[str]]:
        """The properties of triples with a non-literal object (annotation properties too),
        and which of them are plain (:meth:`plain_properties`)."""
        used = [row[0].value for row in self.query(self.used_query)]
        candidates = " ".join(f"<{iri}>" for iri in used if iri not in self.annotation)
        return used, sorted(row[0].value for row in self.query(
            self.plain_query % candidates)) if candidates else []

    def _owl_closure(self) -> int:
        first = not self.owl_ran
        self.owl_ran = True
        if COMPILE_DATA_RULES and self.engine == "reasonable":
            compiled = self._compiled_closure(first)
            if compiled is not None:
                return compiled
        self.store.update(f"CLEAR SILENT GRAPH <{_PENDING.value}>")
        plain_added, owl_input, read = self._plain_consequences()
        return plain_added + self._engine_closure(owl_input, read)

    def _schema_changed(self) -> bool:
        """Whether a step since the data rules were compiled added a schema triple."""
        return any(version > self.compiled_at and owl_rules.is_schema_key(key)
                   for key, version in self.changed.items())

    def _compiled_closure(self, first: bool) -> int | None:
        """OWL 2 RL as the schema's closure by the engine plus the data rules compiled from
        it (:mod:`exomirkg.owl_rules`), in semi-naive rounds; the number of new triples, or
        None when they do not compile (then nothing was added but the schema's closure).

        At 10^6 triples the engine read, closed and gave back as rdflib terms half the
        graph (the plain properties' triples aside): ~20 s of the closure's ~25 s.

        :param first: the closure has not run yet, so the rules read everything (later:
            what the rules added since, _PENDING, unless the schema changed).
        """
        if self.uncompilable:
            return None
        added = 0
        # The last round's new triples: graph -> the rule that added them ("": the rules'
        # output since the closure last ran, which every rule reads). None: everything.
        delta: dict[str, str] | None = None if first else {_PENDING.value: ""}
        since = self.closed_at  # what changed after this version is in the delta
        while True:  # the rules mint no node, so the rounds end
            if self.data_rules is None or self._schema_changed():
                predicates = [row[0].value for row in self.query(
                    "SELECT DISTINCT ?p { ?s ?p ?o }")]
                schema = " ".join(f"<{p}>" for p in predicates if p != str(RDF.type)
                                  and p.startswith(owl_rules.SCHEMA_NAMESPACES))
                added += self._engine_closure(self.schema_input % schema, frozenset())
                self.data_rules = owl_rules.compile_data_rules(self.query, self.annotation,
                                                               predicates)
                self.compiled_at = self.version
                if self.data_rules is None:
                    self.uncompilable = True
                    return None
                delta = None  # a new schema: its rules read everything
            writers = {rule.name: rule for rule in self.data_rules}
            work: list[tuple[owl_rules.DataRule, list[str] | None]] = []
            for rule in self.data_rules:
                if delta is None:
                    work.append((rule, None))
                    continue
                graphs = [graph for graph, by in delta.items()
                          if not by or rule.reads_from(writers[by])]
                if graphs and any(self.changed.get(key, 0) > since
                                  for key in data_rule_keys(rule.reads)):
                    work.append((rule, graphs))
            holds = {_ROUND + rule.name: rule.writes for rule in self.data_rules}
            texts = self._constructs([rule.query(graphs, not_trivia, holds=holds)
                                      for rule, graphs in work])
            if any(b"_:" in text for text in texts):
                # A blank node in the data: its consequences would not be kept, nor what
                # follows from them. The engine reads everything (what was added holds).
                self.uncompilable = True
                self._drop_rounds()
                return None
            self.store.update(f"CLEAR SILENT GRAPH <{_PENDING.value}>")
            self._drop_rounds()
            since = self.version
            # A rule's new triples go in a graph of their own only if a rule reads them in
            # the next round.
            read = [rule for rule, _graphs in work
                    if any(other.reads_from(rule) for other in self.data_rules)]
            fresh = self._load_new(
                texts, [pyoxigraph.NamedNode(_ROUND + rule.name) if rule in read else None
                        for rule, _graphs in work], [rule.writes for rule, _graphs in work])
            del texts
            added += fresh
            if not fresh:
                self._drop_rounds()
                self.closed_at = self.version
                return added
            delta = {_ROUND + rule.name: rule.name for rule in read}

    def _engine_closure(self, owl_input: str, read: frozenset[str] | None) -> int:
        """The OWL 2 RL engine's closure of what the query gives; the number of new triples.

        :param read: the predicates every triple of which (but literal-valued and
            annotation ones) the query gives; None: every predicate.
        """
        with tempfile.TemporaryDirectory(prefix="exomirkg-owl-") as folder:
            source = Path(folder) / "input.ttl"  # N-Triples, which is Turtle
            self.store.query(owl_input).serialize(
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
            # Both engines give back their input too (two thirds of the closure at 10^6
            # triples): the lines already known are dropped here, in Python, rather than
            # staged and de-duplicated by the store (10 s of 47 s at 10^6).
            with source.open(encoding="utf-8") as handle:
                known = set(handle)
        # The closure goes back as N-Triples text (fast to write and to parse); the rare term
        # N-Triples cannot hold (an owlrl literal object) goes term by term. The text goes in
        # batches: the whole of it (0.8 GB at 10^6 triples) set the step's peak memory.
        # A triple of IRIs is the common case, written without a call per term (the calls and
        # two isinstance per triple cost ~3 s at 10^6 triples: the closure gives back 0.6 M).
        # Such a triple not in the input is new when the input held every triple of its
        # predicate (the store's others: literal-valued, annotation, functional-property
        # declarations); it goes straight to the inferred graph (:meth:`_accept_new`).
        read_nt = None if read is None else set(map(_nt, read))
        unread = set(map(_nt, self.annotation))
        new: set[str] = set()
        lines: list[str] = []
        quads = []
        for subject, predicate, obj in closure:
            if type(subject) is URIRef and type(predicate) is URIRef and type(obj) is URIRef:
                line = f"<{subject}> <{predicate}> <{obj}> .\n"
                if line in known:
                    continue
                s, p, o, _end = line.split(" ", 3)
                if not worth_keeping_nt(s, p, o):
                    continue
                if (p not in unread and (read_nt is None or p in read_nt)
                        and not (p == _NT_TYPE and o == _NT_FUNCTIONAL)):
                    new.add(line)
                    continue
            elif isinstance(subject, Literal) or isinstance(predicate, Literal):
                continue  # generalised RDF
            else:
                s, p, o = _nt_term(subject), _nt_term(predicate), _nt_term(obj)
                if s is None or p is None or o is None:
                    quads.append(pyoxigraph.Quad(to_oxigraph(subject), to_oxigraph(predicate),
                                                 to_oxigraph(obj), _STAGING))
                    continue
                line = f"{s} {p} {o} .\n"
            if line not in known:
                lines.append(line)
                if len(lines) == _BATCH:
                    self._stage(lines)
                    lines = []
        del closure, known
        self._stage(lines)
        del lines
        self.store.extend(quads)
        return self._accept_new(new) + self._merge()

    def _constructs(self, queries: list[str]) -> list[bytes]:
        """What the CONSTRUCT queries give, as N-Triples, evaluated at once on threads of
        their own (pyoxigraph evaluates a query without the GIL; an update holds the store's
        writer, so two updates barely overlap). The templates must hold no blank node: a
        text's labels are its own."""
        def triples(text: str) -> bytes:
            return self.query(text).serialize(format=pyoxigraph.RdfFormat.N_TRIPLES)

        if not queries:
            return []
        with ThreadPoolExecutor(max_workers=min(len(queries), os.cpu_count() or 1),
                                thread_name_prefix="exomirkg-rule") as pool:
            return list(pool.map(triples, queries))

    def _stage(self, lines: list[str]) -> None:
        load_ntriples(self.store, "".join(lines).encode("utf-8"), _STAGING)

    def run(self) -> None:
        """Rules and OWL 2 RL to a fixpoint; the inferred triples end in graph _INFERRED."""
        first, higher = self.first, self.strata[1:]
        # Lowest stratum: rules (over asserted data) and OWL 2 RL alternate to a fixpoint.
        self.apply_rules(first)
        for _round in range(_MAX_ROUNDS):
            if self.owl_has_work():
                self.apply_owl()
            else:
                logger.debug("OWL 2 RL: skipped, it can derive nothing from the rules' output")
            if self.apply_rules(first) == 0:
                break
        else:
            logger.warning("no fixpoint after %d rounds of rules and OWL 2 RL", _MAX_ROUNDS)
        if self.keep_lowest:
            self.lowest = self.store.dump(format=pyoxigraph.RdfFormat.N_TRIPLES,
                                          from_graph=_INFERRED) or b""
        for stratum in higher:
            for _round in range(_MAX_ROUNDS):
                if self.apply_rules(stratum) == 0:
                    break
        for message in sorted(self.errors):
            logger.warning("OWL 2 RL inconsistency: %s", message)

    def finish(self) -> int:
        """Drop the working graphs, leaving the inferred triples in graph/inferred; their
        count."""
        for graph in self.working:
            self.store.update(f"DROP SILENT GRAPH <{graph.value}>")
        self._drop_rounds()
        return self._size(_INFERRED)

    def inferred_graph(self) -> Graph:
        """The inferred triples as an rdflib graph."""
        return graph_to_rdflib(self.store, _INFERRED)


def infer(
    dataset: Dataset | pyoxigraph.Store, rules_dir: Path | None = None,
    engine: str | None = None
) -> Graph:
    """Return the triples entailed by the dataset and the rules that it does not assert.

    :param dataset: the asserted dataset (left unchanged), in rdflib or pyoxigraph (every
        graph is read).
    :param rules_dir: folder of rules (default :data:`paths.RULES_DIR`).
    :param engine: ``reasonable`` or ``owlrl`` (default :func:`default_engine`).
    :returns: a new graph holding only inferred triples (no literal or blank-node subjects,
        no reflexive trivia).
    """
    sources = dataset if isinstance(dataset, pyoxigraph.Store) else _source_graphs(dataset)
    reasoner = _Reasoner(sources, load_rules(rules_dir), engine or default_engine())
    reasoner.run()
    inferred = reasoner.inferred_graph()
    logger.info("inferred %d triples", len(inferred))
    return inferred


@dataclass(frozen=True)
class Inference:
    """What :func:`infer_into` did."""

    #: The inferred triples.
    count: int
    #: The lowest stratum's (its rules and OWL 2 RL) as N-Triples, when asked for; the rest
    #: of graph/inferred is the higher strata's (:class:`exomirkg.incremental.Levels`).
    lowest: bytes | None = None
    #: The OWL 2 RL data rules compiled from the schema; None when they were not.
    data_rules: list[owl_rules.DataRule] | None = None


def infer_into(store: pyoxigraph.Store, *, rules_dir: Path | None = None,
               engine: str | None = None, statements: bytes | None = None,
               loaded: bool = False, keep_lowest: bool = False,
               rules: list[Rule] | None = None) -> Inference:
    """Reason over the store's other graphs and put what they entail into graph/inferred.

    The build's path: the reasoner works in ``store`` itself (in graphs of its own, named
    :data:`~exomirkg.namespaces.REASONER_GRAPHS`..., which it drops at the end), so nothing
    is copied: an rdflib copy of 10^6 inferred triples took 37 s (issue 17), a copy from a
    store of the reasoner's own 8 s. Whatever graph/inferred held before is replaced.

    :param statements: the store's other graphs as N-Triples text, when the caller has it
        (the build does): the reasoner loads it instead of copying them out of the store
        (8.3 s -> 3 s at 10^6 triples).
    :param loaded: the store holds their union in GRAPH_STATEMENTS already (the caller loaded
        it, and drops it): the reasoner reads it there and leaves it.
    :param keep_lowest: also return the lowest stratum's triples (the incremental build's
        state: ~0.3 s at 10^6 triples).
    :param rules: the rules, if read already (else those of ``rules_dir``).
    """
    # The reasoner drops graph/inferred before it reads the store.
    reasoner = _Reasoner(None if loaded else store if statements is None else statements,
                         load_rules(rules_dir) if rules is None else rules,
                         engine or default_engine(), store=store)
    statements = None  # loaded: the text (130 MB at 10^6 triples) need not outlive it
    reasoner.keep_lowest = keep_lowest
    reasoner.run()
    count = reasoner.finish()
    logger.info("inferred %d triples", count)
    return Inference(count, reasoner.lowest,
                     None if reasoner.uncompilable else reasoner.data_rules)
