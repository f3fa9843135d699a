"""OWL 2 RL over the data as SPARQL rules compiled from the schema (issue 17).

With the schema (TBox) fixed, what OWL 2 RL derives from the data is a set of datalog rules
the schema decides: ``x a C`` gives ``x a D`` for each superclass D (cax-sco), ``x p y``
gives ``x a D`` for each domain D of p (prp-dom), and so on. The reasoner
(:mod:`exomirkg.reason`) closes the schema with the OWL 2 RL engine over the schema's
triples alone (a few thousand), then evaluates these rules with pyoxigraph in semi-naive
rounds, each round reading only what the last one added (:meth:`DataRule.query`). At
10^6 triples that replaces the engine reading, closing and handing back as rdflib terms
half the graph.

Only what the review's schema uses is compiled: subclasses, domains, ranges,
super-properties, inverse, symmetric and transitive properties, and classes equivalent to
intersections of named classes and owl:hasValue restrictions (property chains are a shipped
rule, ``owl-property-chain.rq``; functional properties are SPARQL in the reasoner). For any
other construct (someValuesFrom, unionOf, cardinalities, keys, ...), and for data with
blank nodes or owl:sameAs, :func:`compile_data_rules` says so and the engine reasons over
everything, as before. The rules derive what the engine derives from the triples it reads
(no literal objects, no annotation properties): tests compare the two on every construct.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

import pyoxigraph
from rdflib.namespace import OWL, RDF, RDFS

__all__ = ["NEW", "DataRule", "SCHEMA_NAMESPACES", "Terms", "can_match", "compile_data_rules",
           "is_schema_key", "schema_term"]

#: :meth:`DataRule.query`'s ``known`` for heads the store lacks.
NEW = "new"

#: A triple is the schema's when its predicate is in one of these namespaces (rdf:type
#: aside) or it types something with a class of them.
SCHEMA_NAMESPACES = (str(RDF), str(RDFS), str(OWL))

#: Schema predicates whose consequences for the data the rules below (or the shipped rules
#: and the reasoner's own SPARQL) give in full; declarations and annotations give none.
_COMPILED_PREDICATES = frozenset(map(str, (
    RDF.type, RDF.first, RDF.rest, RDFS.subClassOf, RDFS.subPropertyOf, RDFS.domain,
    RDFS.range, OWL.equivalentClass, OWL.equivalentProperty, OWL.inverseOf,
    OWL.intersectionOf, OWL.onProperty, OWL.hasValue, OWL.propertyChainAxiom,
    OWL.oneOf,  # cls-oo reads no data: the schema's closure types the members
    # no consequence for the data: inconsistencies the checks report, declarations, notes
    OWL.members, OWL.disjointWith, OWL.imports, OWL.versionIRI, OWL.versionInfo,
    OWL.deprecated, RDFS.label, RDFS.comment, RDFS.seeAlso, RDFS.isDefinedBy)))
_COMPILED_TYPES = frozenset(map(str, (
    OWL.Class, RDFS.Class, OWL.Restriction, OWL.ObjectProperty, OWL.DatatypeProperty,
    OWL.AnnotationProperty, RDF.Property, OWL.NamedIndividual, OWL.Ontology,
    OWL.AllDisjointClasses, OWL.FunctionalProperty, OWL.SymmetricProperty,
    OWL.TransitiveProperty, OWL.Thing, RDFS.Datatype, RDF.List)))


#: What triples a rule reads or writes: their predicates (rdf:type aside) and their classes
#: (:attr:`DataRule.reads`, :attr:`DataRule.writes`).
Terms = tuple[frozenset[str], frozenset[str]]
_TYPE = str(RDF.type)


def can_match(reads: Terms, writes: Terms) -> bool:
    """Whether a triple a rule writing ``writes`` derives can match a pattern reading
    ``reads``: a shared predicate or class, or rdf:type itself read (or written) as a
    predicate value where the other side names classes."""
    (read_predicates, read_classes), (written_predicates, written_classes) = reads, writes
    return bool(read_predicates & written_predicates or read_classes & written_classes
                or (_TYPE in read_predicates and written_classes)
                or (_TYPE in written_predicates and read_classes))


def schema_term(variable: str) -> str:
    """A SPARQL condition: the variable is a term of the RDF, RDFS or OWL vocabulary."""
    return " || ".join(f'STRSTARTS(STR({variable}), "{ns}")' for ns in SCHEMA_NAMESPACES)


def is_schema_key(key: str) -> bool:
    """Whether triples of a reasoner key (a predicate, or ``type <class>``) are the
    schema's: a rule writing one changes what the data rules are."""
    return key.removeprefix("type ").startswith(SCHEMA_NAMESPACES)


@dataclass(frozen=True)
class DataRule:
    """One OWL 2 RL rule over the data, its schema part bound by a VALUES block.

    :ivar head: the triple it derives, as a SPARQL triple pattern.
    :ivar premises: the data triple patterns it joins (one, or several: prp-trp, cls-int1).
    :ivar variables: the VALUES block's variables (may be empty), and ``rows`` its IRIs.
    :ivar condition: a FILTER expression over the premises' variables (may be empty).
    :ivar closed: the rules whose new triples it need not read in the next round: what it
        would derive from them is derived in the same round as they are, by itself from
        their premise or by them (:func:`_close`).
    """

    name: str
    head: str
    premises: tuple[str, ...]
    variables: str = ""
    rows: tuple[tuple[str, ...], ...] = ()
    condition: str = ""
    closed: frozenset[str] = frozenset()

    def as_record(self) -> dict[str, object]:
        """The rule as JSON-ready data (:meth:`from_record`): the incremental build keeps
        the rules compiled from the schema with its state."""
        return {"name": self.name, "head": self.head, "premises": list(self.premises),
                "variables": self.variables, "rows": [list(row) for row in self.rows],
                "condition": self.condition, "closed": sorted(self.closed)}

    @classmethod
    def from_record(cls, record: dict) -> DataRule:
        """The rule :meth:`as_record` gave."""
        return cls(record["name"], record["head"], tuple(record["premises"]),
                   record["variables"], tuple(tuple(row) for row in record["rows"]),
                   record["condition"], frozenset(record["closed"]))

    def reads_from(self, other: DataRule) -> bool:
        """Whether a round must give it the triples ``other`` added in the last: it is not
        closed against ``other`` (:func:`_close`), and a premise can match them."""
        return other.name not in self.closed and can_match(self.reads, other.writes)

    @cached_property
    def reads(self) -> Terms:
        """The predicates (rdf:type aside) and the classes of the triples it reads."""
        return self._terms(self.premises)

    @cached_property
    def writes(self) -> Terms:
        """The predicates (rdf:type aside) and the classes of the triples it derives."""
        return self._terms((self.head,))

    def _terms(self, patterns: Sequence[str]) -> Terms:
        names = self.variables.split()
        predicates: set[str] = set()
        classes: set[str] = set()
        for pattern in patterns:
            _subject, predicate, obj = pattern.split()
            into, term = (classes, obj) if predicate == "a" else (predicates, predicate)
            if term.startswith("?"):
                into.update(row[names.index(term)] for row in self.rows)
            else:
                into.add(term[1:-1])
        return frozenset(predicates), frozenset(classes)

    def query(self, delta: Sequence[str] | None, keep: Callable[[str, str, str], str], *,
              known: str | None = NEW, seed: str = "",
              holds: Mapping[str, Terms] | None = None) -> str:
        """The rule as a CONSTRUCT of its new triples worth keeping.

        :param delta: graphs of the last round's new triples: each solution then takes
            one premise from them (semi-naive), the others from everything. None: every
            premise from everything (the first round).
        :param keep: gives a SPARQL condition on a triple's three terms.
        :param known: :data:`NEW`: only heads the default graph lacks; a graph's IRI: only
            heads that graph holds (what a deletion may take away, :mod:`exomirkg.incremental`);
            None: every head.
        :param seed: a pattern joined first (the incremental path binds the head with it).
        :param holds: what the delta graphs' triples can be (:func:`can_match`): a premise
            is read only from the graphs it can match. A graph not named may hold anything.
        """
        values = (f"VALUES ({self.variables}) {{ "
                  + " ".join("(" + " ".join(f"<{term}>" for term in row) + ")"
                             for row in self.rows) + " }") if self.variables else ""
        if delta is None:
            body = " ".join(f"{premise} ." for premise in self.premises)
        else:
            # The premise read from the small graphs first, for the join to start there.
            # Only from those it can match: pyoxigraph reads every triple of a graph named
            # in the UNION (at 10^6 triples the two-link chains read the 0.5 M triples of the
            # OWL 2 RL closure's first round, 3.8 s, to derive 3 k).
            branches = []
            for premise in self.premises:
                graphs = [graph for graph in delta if holds is None or graph not in holds
                          or can_match(self._terms((premise,)), holds[graph])]
                if graphs:
                    branches.append(
                        "{ " + " UNION ".join(f"{{ GRAPH <{graph}> {{ {premise} }} }}"
                                              for graph in graphs) + " "
                        + " ".join(f"{other} ." for other in self.premises
                                   if other != premise) + " }")
            body = f"{{ {' UNION '.join(branches) or 'FILTER(false)'} }}"
        condition = f"FILTER({self.condition})" if self.condition else ""
        head_vars = " ".join(dict.fromkeys(re.findall(r"\?\w+", self.head)))
        s, p, o = self.head.split()
        # Each head once, before asking whether it is known (most are not, at the first
        # round): the same x a D follows from many of x's triples.
        if known == NEW:
            held = f"FILTER NOT EXISTS {{ {self.head} }}"
        elif known is not None:
            held = f"FILTER EXISTS {{ GRAPH <{known}> {{ {self.head} }} }}"
        else:
            held = ""
        return f"""CONSTRUCT {{ {self.head} }} WHERE {{
  {{ SELECT DISTINCT {head_vars} {{ {seed} {values} {body} {condition} }} }}
  {held}
  FILTER({keep(s, f"<{RDF.type}>" if p == "a" else p, o)})
}}"""


def compile_data_rules(query: Callable[[str], Iterable], annotation: Iterable[str],
                       predicates: Iterable[str]) -> list[DataRule] | None:
    """The data rules of the closed schema in the store, or None when the schema or the
    data holds something they do not compile (the engine must read everything).

    A blank node in the data is the caller's to notice: a rule's consequence that holds
    one (not kept) is where a chain of consequences through it would be lost.

    :param query: runs a SPARQL SELECT over the asserted and inferred triples (the
        schema's closure among them) and returns rows of pyoxigraph terms.
    :param annotation: the annotation properties (the engine never reads their triples).
    :param predicates: every predicate of the store (the schema's closure adds only those
        of subclass, subproperty, equivalence, domain and range, all compiled).
    """
    def rows(text: str) -> list[tuple]:
        return [tuple(row) for row in query(text)]

    def iris(text: str) -> list[tuple[str, ...]]:
        return [tuple(term.value for term in row) for row in rows(text)]

    schema = {p for p in predicates if p.startswith(SCHEMA_NAMESPACES)}
    types = {row[0] for row in iris(
        f"SELECT DISTINCT ?c {{ ?s a ?c FILTER({schema_term('?c')}) }}")}
    if schema - _COMPILED_PREDICATES or types - _COMPILED_TYPES:
        return None
    same_as = f"ASK {{ ?a <{OWL.sameAs}> ?b FILTER(!sameTerm(?a, ?b)) }}"
    typed_anonymous = "ASK { ?x a ?c FILTER(isBlank(?c)) }"  # not a schema triple
    if query(same_as) or query(typed_anonymous):
        return None
    skip = set(annotation)

    def kept(pairs: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
        return [pair for pair in pairs if pair[0] not in skip]

    thing = f"<{OWL.Thing}>"
    rules: list[DataRule] = []
    not_literal = "!isLiteral(?y)"

    def add(name: str, head: str, premises: tuple[str, ...], variables: str,
            pairs: list[tuple[str, ...]], condition: str = "") -> None:
        if pairs:
            rules.append(DataRule(name, head, premises, variables, tuple(pairs), condition))

    named = f"FILTER(isIRI(?a) && isIRI(?b) && !sameTerm(?a, ?b) && !sameTerm(?b, {thing}))"
    if query(f"""ASK {{ ?p <{RDFS.domain}>|<{RDFS.range}> ?c FILTER(isBlank(?c)) }}"""):
        return None  # a class expression as a domain or range: not compiled
    classes = _class_rules(rows, skip)
    if classes is None:
        return None
    supers = kept(iris(f"SELECT ?a ?b {{ ?a <{RDFS.subPropertyOf}> ?b FILTER(isIRI(?a) && "
                       f"isIRI(?b) && !sameTerm(?a, ?b)) }}"))
    for name, head, axiom in (("prp-dom", "?x a ?d", RDFS.domain),
                              ("prp-rng", "?y a ?d", RDFS.range)):
        add(name, head, ("?x ?p ?y",), "?p ?d", kept(_composed(
            supers, iris(f"SELECT ?a ?b {{ ?a <{axiom}> ?b {named} }}"))), not_literal)
    add("prp-spo1", "?x ?q ?y", ("?x ?p ?y",), "?p ?q", _composed(supers), not_literal)
    add("prp-inv", "?y ?q ?x", ("?x ?p ?y",), "?p ?q",
        kept(iris(f"SELECT ?a ?b {{ {{ ?a <{OWL.inverseOf}> ?b }} UNION "
                  f"{{ ?b <{OWL.inverseOf}> ?a }} FILTER(isIRI(?a) && isIRI(?b)) }}")),
        not_literal)
    add("prp-symp", "?y ?p ?x", ("?x ?p ?y",), "?p",
        kept(iris(f"SELECT ?a {{ ?a a <{OWL.SymmetricProperty}> FILTER(isIRI(?a)) }}")),
        not_literal)
    add("prp-trp", "?x ?p ?z", ("?x ?p ?y", "?y ?p ?z"), "?p",
        kept(iris(f"SELECT ?a {{ ?a a <{OWL.TransitiveProperty}> FILTER(isIRI(?a)) }}")),
        "!isLiteral(?z)")
    # Two-link chains, as the shipped rule owl-property-chain.rq states them (the engine
    # skips chains): literal values too, and no longer chain.
    add("prp-spo2", "?x ?p ?z", ("?x ?a ?y", "?y ?b ?z"), "?p ?a ?b", iris(f"""
        SELECT ?p ?a ?b {{ ?p <{OWL.propertyChainAxiom}> ?l . ?l <{RDF.first}> ?a ;
            <{RDF.rest}> ?r . ?r <{RDF.first}> ?b ; <{RDF.rest}> <{RDF.nil}>
            FILTER(isIRI(?p) && isIRI(?a) && isIRI(?b)) }}"""))
    rules += classes
    return _close(rules)


def _composed(supers: list[tuple[str, ...]],
              axioms: list[tuple[str, ...]] | None = None) -> list[tuple[str, ...]]:
    """A property's domains (or ranges), ``axioms``, with those of its super-properties,
    ``supers`` (OWL 2 RL's scm-dom2 and scm-rng2); with no axioms, ``supers`` closed
    (scm-spo). The engine closes the schema without scm-dom2: prp-dom would then reach a
    super-property's domain a round later, reading every triple prp-spo1 added (0.35 M at
    10^6 triples, ~2 s) for nothing new (:func:`_close`). Not also the domains'
    superclasses (scm-dom1): twice the rows made the first round twice as slow.
    """
    above: dict[str, set[str]] = {}
    for a, b in supers:
        above.setdefault(a, set()).add(b)
    reached = {start: _reach(above, start) - {start} for start in above}
    if axioms is None:
        return sorted((p, q) for p, qs in reached.items() for q in qs)
    stated: dict[str, set[str]] = {}
    for p, d in axioms:
        stated.setdefault(p, set()).add(d)
    return sorted({(p, d) for p in {*stated, *reached} for q in {p, *reached.get(p, ())}
                   for d in stated.get(q, ())})


def _reach(above: Mapping[Any, set[Any]], start: object) -> set[Any]:
    """Every node reached from ``start`` by one or more steps up ``above``."""
    seen: set[Any] = set()
    todo = [start]
    while todo:
        for up in above.get(todo.pop(), ()):
            if up not in seen:
                seen.add(up)
                todo.append(up)
    return seen


def _close(rules: list[DataRule]) -> list[DataRule]:
    """The rules, each with the one-premise rules whose new triples it need not read
    (:attr:`DataRule.closed`), where the schema's closure makes their VALUES rows closed
    under composition: at 10^6 triples prp-dom and prp-rng read the super-property triples
    prp-spo1 added in the first round (0.35 M) for nothing, ~2 s of the second round.

    A rule R reading the triple P derives from t in a round derives nothing new when R
    reads t in the same round and R's rows already compose P's (P then R is R:
    prp-dom/rng/spo1 after prp-spo1), or P's rows compose R's (P then R is P: cax-sco
    after prp-dom/rng). Both read the same triples in a round: everything in the first,
    the same delta in the others.
    """
    rows = {rule.name: set(rule.rows) for rule in rules
            if len(rule.premises) == 1 and len(rule.variables.split()) == 2}

    def composed(first: str, then: str) -> set[tuple[str, ...]]:
        return {(a, c) for a, b in rows.get(first, ()) for b2, c in rows.get(then, ())
                if b == b2}

    closed: dict[str, set[str]] = {}
    for reader in ("prp-dom", "prp-rng", "prp-spo1"):  # P then R is R
        if reader in rows and "prp-spo1" in rows and not {
                (a, c) for a, c in composed("prp-spo1", reader)
                if not (reader == "prp-spo1" and a == c)} - rows[reader]:
            closed.setdefault(reader, set()).add("prp-spo1")
    for producer in ("prp-dom", "prp-rng", "cax-sco"):  # P then R is P
        if producer in rows and "cax-sco" in rows and not {
                (a, c) for a, c in composed(producer, "cax-sco")
                if not (producer == "cax-sco" and a == c)} - rows[producer]:
            closed.setdefault("cax-sco", set()).add(producer)
    return [replace(rule, closed=frozenset(closed.get(rule.name, ()))) for rule in rules]


def _class_rules(rows: Callable[[str], list[tuple]], skip: set[str]) -> list[DataRule] | None:
    """cax-sco, cls-hv1/2 and cls-int1/2 as rules over the data, or None when a class
    expression is not compiled.

    A node is a class: named, an owl:hasValue restriction or an intersection. Edges lead
    from a class to those it is below (rdfs:subClassOf, owl:equivalentClass both ways, an
    intersection to its members); what is above a class holds of each of its instances:
    ``x a D`` for a named D, ``x p v`` for a restriction. Each class gives one rule per
    thing above it, read from how a node becomes one of its instances: ``x a C`` (named),
    ``x p v`` (restriction), every member (intersection). The anonymous classes' own
    triples are not kept (blank objects), so the rules go through them in one step.
    """
    thing = pyoxigraph.NamedNode(str(OWL.Thing))
    above: dict[object, set[object]] = {}
    for a, b in rows(f"""SELECT ?a ?b {{ {{ ?a <{RDFS.subClassOf}> ?b }}
            UNION {{ ?a <{OWL.equivalentClass}> ?b }} UNION {{ ?b <{OWL.equivalentClass}> ?a }}
            UNION {{ ?a <{OWL.intersectionOf}>/<{RDF.rest}>*/<{RDF.first}> ?b }} }}"""):
        above.setdefault(a, set()).add(b)
    value_of = {r: (p, v) for r, p, v in rows(
        f"SELECT ?r ?p ?v {{ ?r <{OWL.hasValue}> ?v ; <{OWL.onProperty}> ?p }}")}
    if any(not isinstance(term, pyoxigraph.NamedNode)
           for p, v in value_of.values() for term in (p, v)):
        return None  # a literal value is never read (the engine reads no literal objects)
    members: dict[object, list[object]] = {}
    for i, member in rows(f"""SELECT ?i ?m {{
            ?i <{OWL.intersectionOf}>/<{RDF.rest}>*/<{RDF.first}> ?m }}"""):
        members.setdefault(i, []).append(member)
    # An enumeration's members are its instances whatever the data says (cls-oo): the
    # schema's closure types them; no triple of the data makes another node one.
    enumerations = {row[0] for row in rows(f"SELECT ?c {{ ?c <{OWL.oneOf}> ?l }}")}
    if {thing, pyoxigraph.NamedNode(str(RDFS.Resource))} & above.keys():
        return None  # every node is an instance (not kept): a class above them all
    for node in {*above, *(b for bs in above.values() for b in bs)}:
        anonymous = not isinstance(node, pyoxigraph.NamedNode)
        if anonymous and not (node in value_of or node in members or node in enumerations):
            return None  # another class expression (someValuesFrom, unionOf, ...)
    for parts in members.values():
        if any(not isinstance(m, pyoxigraph.NamedNode) and m not in value_of for m in parts):
            return None  # an intersection of other expressions

    def entry(node: object) -> tuple[str, ...] | None:
        """How a node becomes an instance of the class, as data triple patterns."""
        if node in members:
            return tuple(pattern for m in members[node] for pattern in entry(m) or ("",))
        if node in value_of:
            p, v = value_of[node]
            return None if p.value in skip else (f"?x <{p.value}> <{v.value}>",)
        if not isinstance(node, pyoxigraph.NamedNode):
            return None  # an enumeration
        return (f"?x a <{node.value}>",)

    types: dict[tuple[str, ...], set[str]] = {}
    values: dict[tuple[str, ...], set[tuple[str, str]]] = {}
    for node in sorted({*above, *members, *value_of}, key=str):
        premises = entry(node)
        if premises is None or "" in premises:
            continue  # never entered: a premise the engine never reads
        tops = _reach(above, node) | ({node} if node in members and not isinstance(
            node, pyoxigraph.BlankNode) else set())
        for top in tops:
            # (what a premise states is known)
            if isinstance(top, pyoxigraph.NamedNode):
                if top != thing and f"?x a <{top.value}>" not in premises:
                    types.setdefault(premises, set()).add(top.value)
            elif top in value_of:
                p, v = value_of[top]
                if f"?x <{p.value}> <{v.value}>" not in premises:
                    values.setdefault(premises, set()).add((p.value, v.value))
    rules: list[DataRule] = []
    # One rule per kind of premise: the named classes' cax-sco and cls-hv1 as VALUES over
    # ``?x a ?c`` (hundreds of classes, two queries), the others one rule each.
    single = [(premises[0].removeprefix("?x a <")[:-1], top)
              for premises, tops in types.items() if _named_type(premises) for top in tops]
    if single:
        rules.append(DataRule("cax-sco", "?x a ?d", ("?x a ?c",), "?c ?d", tuple(sorted(single))))
    hv1 = [(premises[0].removeprefix("?x a <")[:-1], p, v)
           for premises, pvs in values.items() if _named_type(premises) for p, v in pvs]
    if hv1:
        rules.append(DataRule("cls-hv1", "?x ?p ?v", ("?x a ?c",), "?c ?p ?v",
                              tuple(sorted(hv1))))
    for number, premises in enumerate(sorted({*types, *values} - {
            p for p in {*types, *values} if _named_type(p)})):
        if premises in types:
            rules.append(DataRule(f"cls-{number}-types", "?x a ?d", premises, "?d",
                                  tuple((t,) for t in sorted(types[premises]))))
        if premises in values:
            rules.append(DataRule(f"cls-{number}-values", "?x ?p ?v", premises, "?p ?v",
                                  tuple(sorted(values[premises]))))
    return rules


def _named_type(premises: tuple[str, ...]) -> bool:
    """Whether the premises are one ``?x a <C>`` (a named class's instances)."""
    return len(premises) == 1 and premises[0].startswith("?x a <")
