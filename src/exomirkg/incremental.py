"""Incremental reasoning (issue 17, point 3): a change to some asserted graphs updates the
inferred triples without reasoning over everything again.

The state (:class:`Levels`) keeps the inferred triples in two graphs: :data:`LOWEST` holds
those of the lowest stratum (its rules and OWL 2 RL, which alternate to a fixpoint), and
:data:`HIGHER` those the higher strata's rules add (OWL 2 RL never reads them, as in the full
build: :func:`exomirkg.reason.infer_into`). Their union is the full build's graph/inferred.
A state that stays in memory from build to build (``published``) holds graph/inferred
too, as the build's validation and write step read it, and an update applies its net change
there at the end (copying the higher strata's 0.5 M triples into it after each update and
out again before the next took 2.6-3.9 s at 10^6 triples). One restored for a single update
keeps the lowest stratum's triples in graph/inferred itself, and :meth:`Levels.settle` adds
the higher strata's (loading the union besides took the restore 3-5 s more).
The asserted graphs' union is kept in :data:`STATEMENTS` too: pyoxigraph evaluated a rule
over 40 graphs named as the default graph 10-18 times slower than over one.

A shipped rule runs on given values of its *key* (:class:`_Keyed`): a variable of its WHERE
clause bound by the leading join, that is the subject of every triple the rule writes or
the object of one of them ``?subject <p> ?key``; then every triple it writes of a subject
``x`` comes from rows whose key is an object of ``x <p> ?`` (the rule wrote that triple
too), which :meth:`Levels._cover` looks up. The key values a change reaches: for a triple
only the patterns of the WHERE group's leading join can match, the keys of the rows that bind
those patterns to it (a query each, exact); for the others, those of
:func:`exomirkg.check_focus.affected`, which also follows the negated and optional patterns.
A rule without such a key (one the analysis gives up on: an aggregate, say) runs in full.

The lowest stratum is updated by delete and rederive (DRed; Gupta, Mumick and
Subrahmanian 1993):

1. *Over-delete*: what a removed triple helped derive, in the state before the change, and
   so on to a fixpoint. The OWL 2 RL data rules read the removed triples as their delta
   (:meth:`exomirkg.owl_rules.DataRule.query`); a shipped rule runs on the keys the change
   reaches.
2. *Rederive*: of the over-deleted triples, those the state after the change still derives
   in one step (each data rule with its head bound to them, each shipped rule on the keys
   of their subjects).
3. *Insert*: semi-naive rounds from the added and rederived triples over the state after.

The higher strata are not recursive through OWL 2 RL, so each rule's part the change
reaches is computed before and after, and a triple goes in or out of :data:`HIGHER` when
the rules that write its key (run on the keys of its subject) stop or start deriving it in
the state after, and no lower level holds it.

While an update works, the state before and the state after are both readable, as two
lists of graphs, and no triple is copied: :data:`STATEMENTS`, :data:`LOWEST` and
:data:`HIGHER` less what the change takes away, with the ``*_MINUS`` graphs (what it took
away) before, and the ``*_PLUS`` graphs (what it adds) after.

A change this does not handle is reasoned over in full (:attr:`Change.full`): a schema
triple (the data rules would change), a blank node (labels are not stable across texts), a
functional property given a second value (owl:sameAs), a state OWL 2 RL was not compiled
for, or a rule that reads a higher stratum's triples or does not say what it reads.
``exomirkg build`` uses it through :mod:`exomirkg.rebuild`.
"""

from __future__ import annotations

import logging
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property

import pyoxigraph
from rdflib.namespace import OWL, RDFS
from rdflib.paths import AlternativePath
from rdflib.paths import Path as RdfPath
from rdflib.term import URIRef, Variable

from exomirkg import check_focus, owl_rules
from exomirkg.load import load_ntriples
from exomirkg.namespaces import GRAPH_INFERRED, GRAPH_STATEMENTS, REASONER_GRAPHS
from exomirkg.reason import (
    Rule,
    data_rule_keys,
    infer_into,
    line_key,
    not_trivia,
    nt_key,
    reads_key,
    split_nt,
    worth_keeping_nt,
)

__all__ = ["HIGHER", "INFERRED", "LOWEST", "STATEMENTS", "Change", "Levels", "higher_part"]

logger = logging.getLogger(__name__)

_NT = pyoxigraph.RdfFormat.N_TRIPLES
_G = REASONER_GRAPHS + "incremental/"
INFERRED = pyoxigraph.NamedNode(str(GRAPH_INFERRED))
#: What the lowest stratum's rules and OWL 2 RL derive (a part of graph/inferred).
LOWEST = pyoxigraph.NamedNode(REASONER_GRAPHS + "lowest")
#: What the higher strata's rules add (the rest of graph/inferred).
HIGHER = pyoxigraph.NamedNode(REASONER_GRAPHS + "higher")
#: The asserted graphs' union.
STATEMENTS = pyoxigraph.NamedNode(GRAPH_STATEMENTS)
#: What the update adds to and takes away from each of the three, while it works.
ASSERTED_PLUS, ASSERTED_MINUS, INFERRED_PLUS, INFERRED_MINUS, HIGHER_PLUS, HIGHER_MINUS = (
    pyoxigraph.NamedNode(_G + name) for name in (
        "asserted-added", "asserted-removed", "inferred-added", "inferred-removed",
        "higher-added", "higher-removed"))
_DELTA, _CANDIDATES, _SCRATCH = (pyoxigraph.NamedNode(_G + name)
                                 for name in ("delta", "candidates", "scratch"))
_WORKING = (ASSERTED_PLUS, ASSERTED_MINUS, INFERRED_PLUS, INFERRED_MINUS, HIGHER_PLUS,
            HIGHER_MINUS, _DELTA, _CANDIDATES, _SCRATCH)

#: Above this many key values, or one per this many asserted triples, a rule runs in full:
#: a rule on a VALUES block costs about its size times the cost of one value, and
#: link-drug-mechanism at 10^5 triples took 0.44 s on 2,955 findings, 0.14-0.3 s in full.
_MOST_KEYS = 500
_TRIPLES_PER_KEY = 200

#: Keys of a subject :meth:`Levels._probe` asks.
_PROBED = 8

#: The algebra nodes above a group's leading join (its first operand for a left join or
#: minus).
_AROUND = ("Distinct", "Reduced", "Project", "OrderBy", "Filter", "Extend", "LeftJoin",
           "Minus")

#: The CONSTRUCT template of a rule (no nested braces in a template).
_TEMPLATE = re.compile(r"^\s*CONSTRUCT\s*\{([^{}]*)\}", re.MULTILINE | re.IGNORECASE)


@dataclass(frozen=True)
class Change:
    """What an update changed in graph/inferred (:data:`LOWEST` and :data:`HIGHER`) and in
    the asserted triples, as N-Triples lines."""

    inferred_added: frozenset[str]
    inferred_removed: frozenset[str]
    asserted_added: frozenset[str]
    asserted_removed: frozenset[str]
    #: Whether it took a full reasoning (a change the incremental path does not handle).
    full: bool = False


@dataclass(frozen=True)
class _Option:
    """A key a shipped rule can run on (:class:`_Keyed`)."""

    rule: Rule
    key: str
    #: ``<p>`` when the key is the object of the written ``?subject <p> ?key``; None when
    #: it is the subject.
    via: str | None
    #: The rule's WHERE clause as a SELECT of the key (what check_focus analyses).
    text: str
    focus: str | None = None
    partition: str | None = None

    @cached_property
    def analysis(self) -> check_focus.Analysis:
        return check_focus.analyse(self)

    @cached_property
    def leading(self) -> tuple[tuple[object, object, object], ...]:
        """The triple patterns of the WHERE group's leading join: every row matches each of
        them, so the rows that use a triple matching one are those with its variables bound
        to that triple's terms. A predicate is a variable, an IRI, or a frozenset of IRIs
        (an alternative path of IRIs); other paths are left out."""
        node = check_focus.query_algebra(self.text).algebra.p
        while node.name in _AROUND:
            node = node.p1 if node.name in ("LeftJoin", "Minus") else node.p
        found: list[tuple[object, object, object]] = []
        todo = [node]
        while todo:
            node = todo.pop()
            if node.name == "Join":
                todo += [node.p1, node.p2]
            elif node.name == "BGP":
                for subject, predicate, obj in node.triples:
                    if isinstance(predicate, AlternativePath) and all(
                            isinstance(arg, URIRef) for arg in predicate.args):
                        predicate = frozenset(map(str, predicate.args))
                    if not isinstance(predicate, RdfPath):
                        found.append((subject, predicate, obj))
        return tuple(found)

    @cached_property
    def seeded_only(self) -> Callable[[str], bool]:
        """Whether a triple of this predicate (N-Triples) can match only leading
        patterns (then the rows it reaches are found by binding them to it)."""
        leading = list(self.leading)
        others: set[str] = set()
        any_other = False
        for pattern in self.analysis.patterns:
            same = next((lead for lead in leading if _same(pattern, lead)), None)
            if same is not None:
                leading.remove(same)  # one each: the same pattern may also be negated
                continue
            iris = pattern.iris()
            if iris is None:
                any_other = True
            else:
                others |= iris

        def only(predicate: str) -> bool:
            return not any_other and predicate[1:-1] not in others
        return only

    def seeds(self, lines: Iterable[str]) -> list[tuple[tuple[str, ...], list[tuple[str, ...]]]]:
        """Per leading pattern with variables: its variables and their values in each of
        the lines it matches."""
        lines = [split_nt(line) for line in lines]
        found = []
        for pattern in self.leading:
            names = list(dict.fromkeys(t for t in pattern if isinstance(t, Variable)))
            if not names:
                continue
            rows = set()
            for terms in lines:
                binding: dict[Variable, str] = {}
                for term, value in zip(pattern, terms, strict=True):
                    if isinstance(term, Variable):
                        if binding.setdefault(term, value) != value:
                            break
                    elif isinstance(term, frozenset):
                        if value[1:-1] not in term:
                            break
                    elif term.n3() != value:
                        break
                else:
                    rows.add(tuple(binding[name] for name in names))
            if rows:
                found.append((tuple(f"?{name}" for name in names), sorted(rows)))
        return found

    def seeded(self, variables: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
        """The key SELECT with the rows bound to the variables at the WHERE group's
        start."""
        block = (f" VALUES ({' '.join(variables)}) {{ "
                 + " ".join(f"({' '.join(row)})" for row in rows) + " }")
        opening = self.analysis.openings[0]
        return self.text[:opening] + block + self.text[opening:]

    @cached_property
    def owned(self) -> frozenset[str]:
        """The predicates (``<p>``) of the written triples ``?subject <p> ?key`` that are
        the only ones of their predicate: the rows that write ``x <p> k`` are those of key
        value k."""
        template = check_focus.query_algebra(self.rule.text).algebra.template
        if self.via is None:
            return frozenset()
        count = Counter(predicate for _s, predicate, _o in template)
        return frozenset(f"<{predicate}>" for _s, predicate, obj in template
                         if obj == Variable(self.key) and count[predicate] == 1)

    def construct(self, keys: Iterable[str]) -> str:
        """The rule's CONSTRUCT on the given key values (N-Triples terms)."""
        found = _TEMPLATE.search(self.rule.text)
        assert found is not None
        select = self.text[:found.start()] + f"SELECT DISTINCT ?{self.key}"
        focused = check_focus.focused_text(self.text, self.analysis, keys)
        return self.rule.text[:found.end()] + focused[len(select):]


def _candidates(rule: Rule) -> list[_Option]:
    """The keys a rule could run on (:class:`_Keyed`), its subject first, unanalysed."""
    found = _TEMPLATE.search(rule.text)
    if found is None:
        return []
    template = check_focus.query_algebra(rule.text).algebra.template
    subjects = {triple[0] for triple in template}
    subject = next(iter(subjects)) if len(subjects) == 1 else None
    if not isinstance(subject, Variable):
        return []
    keys = [(subject, None)] + [(o, f"<{p}>") for _s, p, o in template
                                if isinstance(p, URIRef) and isinstance(o, Variable)]
    return [_Option(rule, str(key), via, rule.text[:found.start()] + f"SELECT DISTINCT ?{key}"
                    + rule.text[found.end():]) for key, via in keys]


@dataclass(frozen=True)
class _Keyed:
    """A shipped rule as the update runs it: on given values of its key (the first of the
    subject and the objects it writes the analysis accepts: choosing the one a change
    reaches fewest values of was slower, as pyoxigraph's plans for some VALUES blocks are
    poor: 1.1 s on 45 drugs against 0.2 s on 1,580 findings for link-drug-mechanism at
    10^5 triples), or in full when it has none. A cover (:meth:`Levels._cover`) may take
    any of its keys (:attr:`options`)."""

    rule: Rule
    option: _Option | None

    @cached_property
    def writes(self) -> frozenset[str]:
        return self.rule.writes or frozenset()

    @classmethod
    def of(cls, rule: Rule) -> _Keyed:
        reasons = []
        for option in _candidates(rule):
            if option.analysis.variable == option.key:
                return cls(rule, option)
            reasons.append(f"?{option.key}: {option.analysis.reason}")
        logger.debug("rule %s runs in full (%s)", rule.name, "; ".join(reasons))
        return cls(rule, None)

    @cached_property
    def options(self) -> tuple[_Option, ...]:
        """Every key the analysis accepts, :attr:`option` first (analysed on first use:
        most updates never need them)."""
        if self.option is None:
            return ()
        rest = [option for option in _candidates(self.rule)
                if (option.key, option.via) != (self.option.key, self.option.via)]
        return (self.option, *(option for option in rest
                               if option.analysis.variable == option.key))

    def mine(self, lines: Iterable[str]) -> set[str]:
        """Those of the lines of a key the rule writes."""
        return {line for line in lines if line_key(line) in self.writes}


#: Where a rule runs: an option and its key values (an empty set: nowhere), or
#: (None, None): in full.
_Where = tuple[_Option | None, set[str] | None]


class Levels:
    """The reasoned state of a store (its asserted graphs, :data:`STATEMENTS`,
    :data:`LOWEST`, :data:`HIGHER` and graph/inferred, their union) and its update by a
    change of some asserted graphs (:meth:`update`)."""

    def __init__(self, store: pyoxigraph.Store, asserted: Iterable[str], rules: list[Rule],
                 data_rules: list[owl_rules.DataRule] | None, *, published: bool = True
                 ) -> None:
        """:param published: graph/inferred is held too (else the lowest stratum's triples
            are in it: the module docstring)."""
        self.store = store
        self._lay_out(published)
        self.asserted = [pyoxigraph.NamedNode(name) for name in asserted]
        self.rules = rules
        self.data_rules = data_rules or []
        self.lowest = min((rule.stratum for rule in rules), default=1)
        compiled = {rule.name for rule in self.data_rules}
        running = [rule for rule in rules
                   if rule.owl_rl is None or rule.owl_rl not in compiled]
        self.low = [_Keyed.of(rule) for rule in running if rule.stratum == self.lowest]
        self.high = [_Keyed.of(rule) for rule in running if rule.stratum != self.lowest]
        #: Whether :meth:`update` can work incrementally (else it reasons in full).
        self.incremental = data_rules is not None and self._stratified()
        #: Above this many key values a rule runs in full.
        self.most_keys = _MOST_KEYS
        # Parsed now, not in the first update (a restore parses while the store loads); a
        # state kept for more updates parses every key a cover may take too (0.4 s of the
        # first update at 10^6 triples).
        for keyed in self.low + self.high:
            for option in keyed.options if published else filter(None, [keyed.option]):
                option.seeded_only  # noqa: B018
                option.owned  # noqa: B018

    def _lay_out(self, published: bool) -> None:
        """Name the graphs of the layout (the module docstring)."""
        self.published = published
        #: The lowest stratum's triples.
        self.lowest_graph = LOWEST if published else INFERRED
        # The lowest stratum's view of the state before and after an update, and every
        # stratum's.
        self.low_before = [STATEMENTS, ASSERTED_MINUS, self.lowest_graph, INFERRED_MINUS]
        self.low_after = [STATEMENTS, ASSERTED_PLUS, self.lowest_graph, INFERRED_PLUS]
        self.before = [*self.low_before, HIGHER, HIGHER_MINUS]
        self.after = [*self.low_after, HIGHER, HIGHER_PLUS]

    @classmethod
    def reason(cls, store: pyoxigraph.Store, asserted: Iterable[str],
               rules: list[Rule]) -> Levels:
        """Reason in full over the store's ``asserted`` graphs (into graph/inferred, the
        lowest stratum's part also into :data:`LOWEST`, the others' into :data:`HIGHER`), as
        the build's reasoner does (:func:`exomirkg.reason.infer_into`, which keeps the lowest
        stratum's triples)."""
        asserted = list(asserted)
        text = b"".join(store.dump(format=_NT, from_graph=pyoxigraph.NamedNode(name)) or b""
                        for name in asserted)
        for graph in (LOWEST, HIGHER, STATEMENTS, *_WORKING):
            _drop(store, graph)
        load_ntriples(store, text, STATEMENTS)  # the reasoner's statements too
        inference = infer_into(store, rules=rules, engine="reasonable", loaded=True,
                               keep_lowest=True)
        lowest = inference.lowest or b""
        higher = higher_part(store.dump(format=_NT, from_graph=INFERRED) or b"", lowest)
        for part, graph in ((lowest, LOWEST), (higher, HIGHER)):
            load_ntriples(store, part, graph)
        levels = cls(store, asserted, rules, inference.data_rules)
        levels.most_keys = max(_MOST_KEYS, text.count(b"\n") // _TRIPLES_PER_KEY)
        return levels

    @classmethod
    def restore(cls, store: pyoxigraph.Store, graphs: Mapping[str, bytes], lowest: bytes,
                higher: bytes, rules: list[Rule],
                data_rules: list[owl_rules.DataRule] | None, *, published: bool = True
                ) -> Levels:
        """The state a full reasoning left, loaded into an empty store: the asserted graphs'
        N-Triples by name, the lowest stratum's triples and the higher strata's
        (:func:`exomirkg.reason.infer_into` with ``keep_lowest``, :meth:`parts`).

        :param published: hold graph/inferred too (the module docstring)."""
        statements = b"".join(graphs.values())

        def load(texts: list[tuple[bytes, pyoxigraph.NamedNode]]) -> None:
            for text, graph in texts:
                load_ntriples(store, text, graph)

        # Two halves of about the same size on two threads (pyoxigraph loads without the
        # GIL, disjoint graphs), the rules' parsing meanwhile: at 10^6 triples 11.5 s one
        # after the other, 8.6 s so (the store takes most of its writes one at a time).
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="exomirkg-restore") as pool:
            union = [(lowest, INFERRED), (higher, INFERRED)] if published else []
            halves = [pool.submit(load, [*((text, pyoxigraph.NamedNode(name))
                                           for name, text in graphs.items()), *union]),
                      pool.submit(load, [(statements, STATEMENTS),
                                         (lowest, LOWEST if published else INFERRED),
                                         (higher, HIGHER)])]
            levels = cls(store, graphs, rules, data_rules, published=published)
            for half in halves:
                half.result()
        levels.most_keys = max(_MOST_KEYS, statements.count(b"\n") // _TRIPLES_PER_KEY)
        return levels

    def parts(self) -> tuple[bytes, bytes]:
        """The lowest stratum's triples and the higher strata's, for :meth:`restore`."""
        return (self.store.dump(format=_NT, from_graph=self.lowest_graph) or b"",
                self.store.dump(format=_NT, from_graph=HIGHER) or b"")

    def settle(self) -> tuple[bytes, bytes]:
        """Leave the store as a full build leaves it to validation (the asserted graphs,
        their union in :data:`STATEMENTS`, and graph/inferred); :meth:`parts`. The state
        is gone: no :meth:`update` after."""
        parts = self.parts()
        if not self.published:
            self.store.update(f"ADD <{HIGHER.value}> TO <{INFERRED.value}>")
        for graph in (LOWEST, HIGHER):
            _drop(self.store, graph)
        self.incremental = False
        return parts

    def _stratified(self) -> bool:
        """Whether every rule run names what it reads and writes, and none reads what a
        higher stratum writes."""
        running = self.low + self.high
        for keyed in running:
            rule = keyed.rule
            if rule.reads is None or rule.writes is None:
                return False
            if any(reads_key(rule.reads, key) for other in running
                   if other.rule.stratum > rule.stratum for key in other.writes):
                return False
        return True

    # --- reading and writing the store ----------------------------------------------------

    def _lines(self, text: str, graphs: list[pyoxigraph.NamedNode]) -> set[str]:
        """A CONSTRUCT's triples worth keeping, as N-Triples lines."""
        result = self.store.query(text, default_graph=graphs).serialize(format=_NT)
        return {line for line in (result or b"").decode("utf-8").splitlines(keepends=True)
                if worth_keeping_nt(*split_nt(line))}

    def _lines_of(self, texts: list[str], graphs: list[pyoxigraph.NamedNode]) -> set[str]:
        """What the CONSTRUCTs give, evaluated on two threads (pyoxigraph evaluates without
        the GIL): the data rules' 8 queries a round."""
        if len(texts) < 2:
            return set().union(*(self._lines(text, graphs) for text in texts))
        with ThreadPoolExecutor(max_workers=min(len(texts), os.cpu_count() or 1),
                                thread_name_prefix="exomirkg-incremental") as pool:
            return set().union(*pool.map(lambda text: self._lines(text, graphs), texts))

    def _heads(self, keyed: _Keyed, graphs: list[pyoxigraph.NamedNode], where: _Where
               ) -> set[str]:
        option, keys = where
        if keys is not None and not keys:
            return set()
        if option is None:
            return self._lines(keyed.rule.text, graphs)
        return self._lines(option.construct(keys), graphs)

    def _load(self, lines: Iterable[str], graph: pyoxigraph.NamedNode) -> None:
        text = "".join(lines).encode("utf-8")
        if text:
            load_ntriples(self.store, text, graph)

    def _dump(self, graph: pyoxigraph.NamedNode) -> set[str]:
        text = self.store.dump(format=_NT, from_graph=graph) or b""
        return set(text.decode("utf-8").splitlines(keepends=True))

    def _held(self, lines: set[str], graphs: list[pyoxigraph.NamedNode]) -> set[str]:
        """Those of the lines one of the graphs holds."""
        if not lines:
            return set()
        # A VALUES block, not a graph of them: loading and dropping a graph cost ~25 ms
        # at 10^6 triples, the block 6 ms for 300 lines.
        rows = " ".join(f"({' '.join(split_nt(line))})" for line in lines)
        held = self._lines(f"""CONSTRUCT {{ ?s ?p ?o }} WHERE {{
  VALUES (?s ?p ?o) {{ {rows} }}
  FILTER EXISTS {{ VALUES ?g {{ {" ".join(map(str, graphs))} }} GRAPH ?g {{ ?s ?p ?o }} }}
}}""", [])
        return held & lines

    def _move(self, lines: set[str], source: pyoxigraph.NamedNode,
              target: pyoxigraph.NamedNode | None) -> None:
        """Take the lines' triples out of ``source`` (into ``target``)."""
        if not lines:
            return
        self.store.update(f"DELETE DATA {{ GRAPH <{source.value}> {{ {''.join(lines)} }} }}")
        if target is not None:
            self._load(lines, target)

    def _keys(self, keyed: _Keyed, plus: set[str], minus: set[str],
              before: list[pyoxigraph.NamedNode], after: list[pyoxigraph.NamedNode]
              ) -> _Where:
        """The key values (N-Triples terms) whose rows a change can reach, added triples
        read in the state ``after``, removed ones in the state ``before``.

        A triple only leading patterns can match reaches the rows that bind their
        variables to its terms (a query each); the others go to
        :func:`exomirkg.check_focus.affected`, which follows values from them and can reach
        many more (a mechanism's every finding, from one drug's link to it).
        """
        reads = keyed.rule.reads or frozenset()
        plus, minus = ({line for line in lines if reads_key(reads, line_key(line))}
                       for lines in (plus, minus))
        if not plus and not minus:
            return None, set()  # it reads none of the changed triples
        option = keyed.option
        if option is None:
            return None, None
        keys: set[str] = set()
        rest: list[set[str]] = []
        for lines, graphs in ((plus, after), (minus, before)):
            seeded = {line for line in lines if option.seeded_only(split_nt(line)[1])}
            rest.append(lines - seeded)
            for variables, rows in option.seeds(seeded):
                keys |= {str(row[0]) for row in self.store.query(
                    option.seeded(variables, rows), default_graph=graphs)}
        if rest[0] or rest[1]:
            reached = check_focus.affected(self.store, option, added="".join(rest[0]).encode(),
                                           removed="".join(rest[1]).encode())
            if reached is None:
                return None, None
            keys |= {term.n3() for term in reached}
        return (None, None) if len(keys) > self.most_keys else (option, keys)

    def _still(self, keyed: _Keyed, graphs: list[pyoxigraph.NamedNode], lines: set[str],
               ran: _Where = (None, set()), heads: set[str] | None = None) -> set[str]:
        """Those of the lines of the rule's keys it derives over the graphs, where its
        ``heads`` are what it gave there where it ``ran``.

        A few rows of each line's subject are asked first (:meth:`_probe`): a link keeps
        its type and drug while one of its findings supports it, and covering its every
        row (:meth:`_cover`) took the 1,144 findings of a transporter family's link (0.24 s
        at 10^6 triples, on its 3 drugs) where one of them is enough. What they leave
        undecided is covered.
        """
        found = (heads or set()) & lines
        rest = lines - found
        if rest and ran != (None, None):
            probe = self._probe(keyed, rest)
            if probe is not None:
                found |= self._heads(keyed, graphs, probe) & rest
                rest -= found
            if rest:
                where = self._cover(keyed, rest, ran)
                if not _covers(ran, where):
                    found |= self._heads(keyed, graphs, where) & rest
        return found

    def _probe(self, keyed: _Keyed, lines: set[str]) -> _Where | None:
        """Where to ask first whether the rule still derives the lines: for a line ``x <p>
        k`` of a predicate its key owns (:attr:`_Option.owned`), k; for another line of
        ``x``, the first :data:`_PROBED` keys of x in the store. None: the rule has no such
        key."""
        option = keyed.option
        if option is None or option.via is None:
            return None  # a subject's key is its cover already
        split = [split_nt(line) for line in lines]
        own = {obj for _s, predicate, obj in split if predicate in option.owned}
        subjects = {subject for subject, predicate, _o in split
                    if predicate not in option.owned}
        keys = self._objects(subjects, option.via)
        probed = own.union(*(sorted(found)[:_PROBED] for found in keys.values()))
        return (option, probed) if 0 < len(probed) <= self.most_keys else None

    def _cover(self, keyed: _Keyed, lines: set[str], ran: _Where = (None, set())) -> _Where:
        """The key values of every row that can write one of the lines: where the rule
        ``ran``, if its keys there hold them, else on the option whose keys are the objects
        of fewest ``<via>`` triples (a rule runs on all of a key's rows, and those write its
        subjects: a subject's key costs least, then a drug with 16 links rather than its
        link's 1,144 findings, or a property of tens of thousands).

        A row writes every triple of its subject, ``x <via> key`` too, so the keys of the
        rows that write ``x`` are the objects of those triples in the store and, for rows
        that changed since the store took its last change, among the lines (the heads of
        the rows that changed). Covering a transporter family's links took 1,156 findings
        (0.94 s at 10^6 triples), where their 3 drugs take 0.22 s. A line ``x <p> k`` of a
        predicate the option owns (:attr:`_Option.owned`) is written by the rows of key k
        alone: its subject's other keys are not needed for it.
        """
        if keyed.option is None or ran == (None, None):
            return None, None  # it runs, or ran, in full
        split = [split_nt(line) for line in lines]
        if keyed.option.via is None:  # no option writes fewer subjects than these
            subjects = {subject for subject, _p, _o in split}
            if ran[0] is keyed.option and subjects <= (ran[1] or set()):
                return ran
            return (None, None) if len(subjects) > self.most_keys else (keyed.option, subjects)
        best: _Where = (None, None)
        fewest = 10 * self.most_keys  # counted up to this: more is too many anyway
        for option in keyed.options:
            keys = {obj for _s, predicate, obj in split
                    if predicate == option.via or predicate in option.owned}
            subjects = {subject for subject, predicate, _o in split
                        if predicate not in option.owned}
            keys = keys.union(*self._objects(subjects, option.via).values())
            if option is ran[0] and keys <= (ran[1] or set()):
                return ran
            if len(keys) > self.most_keys:
                continue
            written = self._written(option.via, keys, fewest)
            if best[0] is None or written < fewest:
                best, fewest = (option, keys), written
        return best

    def _objects(self, subjects: set[str], via: str) -> dict[str, list[str]]:
        """The objects of each subject's ``<via>`` triples in the store (any graph)."""
        found: dict[str, list[str]] = {}
        if subjects:
            for subject, obj in self.store.query(
                    f"SELECT DISTINCT ?x ?k {{ VALUES ?x {{ {' '.join(sorted(subjects))} }} "
                    f"GRAPH ?g {{ ?x {via} ?k }} }}"):
                found.setdefault(str(subject), []).append(str(obj))
        return found

    def _written(self, via: str, keys: set[str], most: int) -> int:
        """How many ``<via>`` triples have one of the keys for object (counted up to
        ``most``): what the keys' rows write, about."""
        if not keys:
            return 0
        return int(next(iter(self.store.query(
            f"SELECT (COUNT(*) AS ?n) {{ SELECT ?x {{ VALUES ?k {{ {' '.join(sorted(keys))} }} "
            f"GRAPH ?g {{ ?x {via} ?k }} }} LIMIT {most} }}")))[0].value)

    # --- the update -----------------------------------------------------------------------

    def update(self, graphs: Mapping[str, bytes], *,
               on_asserted: Callable[[list[pyoxigraph.NamedNode], frozenset[str],
                                      frozenset[str]], None] | None = None
               ) -> Change:
        """Replace the named asserted graphs' triples by the N-Triples texts given and
        update the inferred triples to what a full reasoning gives (:meth:`reason`).

        The change is applied in any case: when this path cannot handle it (see the module
        docstring) the store is reasoned over in full, which :attr:`Change.full` says.

        :param on_asserted: called, before the inferred triples are updated, with graphs
            whose union is the asserted triples after the change, and the asserted lines
            added and removed (as :attr:`Change.asserted_added` and ``asserted_removed``);
            the graphs stay so until the next update (a query reads the store as it was when
            it started), unless the update turns out to need a full reasoning
            (:attr:`Change.full`).
        """
        nodes = {name: pyoxigraph.NamedNode(name) for name in graphs}
        unknown = [name for name, node in nodes.items() if node not in self.asserted]
        if unknown:
            raise ValueError(f"not an asserted graph of the state: {unknown[0]}")
        old, new = {}, {}
        for name, text in graphs.items():
            load_ntriples(self.store, text, _SCRATCH)
            new[name] = self._dump(_SCRATCH)
            self.store.remove_graph(_SCRATCH)
            old[name] = self._dump(nodes[name])
        added = {name: new[name] - old[name] for name in graphs}
        removed = {name: old[name] - new[name] for name in graphs}
        changed = set().union(*added.values(), *removed.values())
        if not self.incremental:
            return self._full(graphs, "OWL 2 RL not compiled, or a rule it cannot run")
        if any(line.startswith("_:") or " _:" in line for line in changed):
            return self._full(graphs, "a blank node (its label is the text's own)")
        if any(_schema(line) for line in changed):
            return self._full(graphs, "a schema triple (the data rules would change)")
        if self.store.query(f"ASK {{ ?a <{OWL.sameAs}> ?b }}",
                            default_graph=[STATEMENTS, self.lowest_graph]):
            return self._full(graphs, "owl:sameAs (the data rules do not compile)")
        # The asserted triples' change: what no graph held before / holds after.
        every_added = set().union(*added.values())
        asserted_plus = every_added - self._held(every_added, [STATEMENTS])
        for name in graphs:
            self._move(removed[name], nodes[name], None)
            self._load(added[name], nodes[name])
        every_removed = set().union(*removed.values()) - every_added
        asserted_minus = every_removed - self._held(every_removed, self.asserted)
        self._move(asserted_minus, STATEMENTS, ASSERTED_MINUS)
        self._load(asserted_plus, ASSERTED_PLUS)
        if on_asserted is not None:  # settling adds ASSERTED_PLUS to STATEMENTS
            on_asserted([STATEMENTS, ASSERTED_PLUS], frozenset(asserted_plus),
                        frozenset(asserted_minus))
        try:
            low_added, low_removed = self._update_lowest(asserted_plus, asserted_minus)
            if self._clash(asserted_plus | low_added):
                return self._full(graphs, "a functional property's second value (prp-fp)")
            self._update_higher(asserted_plus | low_added, asserted_minus | low_removed)
            higher_plus, higher_minus = self._dump(HIGHER_PLUS), self._dump(HIGHER_MINUS)
            # Settle: the inferred graphs and STATEMENTS take the change. ASSERTED_PLUS goes
            # in the same request (one transaction): between two, a query of the checks that
            # on_asserted started read its triples twice (pyoxigraph's default graph of
            # several named graphs is not a set).
            self.store.update(f"ADD <{ASSERTED_PLUS.value}> TO <{STATEMENTS.value}> ; "
                              f"DROP SILENT GRAPH <{ASSERTED_PLUS.value}>")
            self.store.update(f"ADD <{INFERRED_PLUS.value}> TO <{self.lowest_graph.value}>")
            self.store.update(f"ADD <{HIGHER_PLUS.value}> TO <{HIGHER.value}>")
            # An inferred triple now asserted leaves graph/inferred (never both).
            now_asserted = self._held(asserted_plus, [self.lowest_graph])
            self._move(now_asserted, self.lowest_graph, None)
        finally:
            for graph in _WORKING:
                _drop(self.store, graph)
        grown = low_added | (higher_plus - higher_minus)
        shrunk = low_removed | now_asserted | (higher_minus - higher_plus)
        inferred_added, inferred_removed = grown - shrunk, shrunk - grown
        if self.published:  # graph/inferred, the union of the two, takes the net change
            self._move(inferred_removed, INFERRED, None)
            self._load(inferred_added, INFERRED)
        return Change(frozenset(inferred_added), frozenset(inferred_removed),
                      frozenset(asserted_plus), frozenset(asserted_minus))

    def _full(self, graphs: Mapping[str, bytes], reason: str) -> Change:
        """Apply the change and reason in full (from any point of an update)."""
        logger.info("incremental reasoning: in full, for %s", reason)
        if self.published:
            before = self._dump(INFERRED)  # it takes an update's change only at its end
        else:
            before = (self._dump(INFERRED) | self._dump(INFERRED_MINUS) | self._dump(HIGHER)
                      | self._dump(HIGHER_MINUS)) - self._dump(HIGHER_PLUS)
        asserted_before = self._dump(STATEMENTS) | self._dump(ASSERTED_MINUS)
        for name, text in graphs.items():
            node = pyoxigraph.NamedNode(name)
            self.store.remove_graph(node)
            load_ntriples(self.store, text, node)
        levels = Levels.reason(self.store, [node.value for node in self.asserted], self.rules)
        self.data_rules, self.low, self.high = levels.data_rules, levels.low, levels.high
        self.incremental, self.most_keys = levels.incremental, levels.most_keys
        self._lay_out(levels.published)
        after = self._dump(INFERRED)
        asserted_after = self._dump(STATEMENTS)
        return Change(frozenset(after - before), frozenset(before - after),
                      frozenset(asserted_after - asserted_before),
                      frozenset(asserted_before - asserted_after), full=True)

    def _clash(self, added: set[str]) -> bool:
        """Whether an added triple gives a functional property a second (non-literal)
        value, from which OWL 2 RL derives owl:sameAs (prp-fp)."""
        lines = {line for line in added if not split_nt(line)[2].startswith('"')}
        if not lines:
            return False
        self._load(lines, _SCRATCH)
        clash = bool(self.store.query(f"""ASK {{
  GRAPH <{_SCRATCH.value}> {{ ?x ?p ?y }}
  ?p a <{OWL.FunctionalProperty}> .
  ?x ?p ?z FILTER(!isLiteral(?z) && !sameTerm(?y, ?z))
}}""", default_graph=self.low_after))
        self.store.remove_graph(_SCRATCH)
        return clash

    def _update_lowest(self, asserted_plus: set[str], asserted_minus: set[str]
                       ) -> tuple[set[str], set[str]]:
        """Delete and rederive in the lowest stratum; its triples added and removed."""
        # 1. Over-delete, over the state before.
        deleted: set[str] = set()
        frontier, negated = set(asserted_minus), set(asserted_plus)
        while frontier or negated:
            found = self._derived(self.low_before, frontier, negated, known=self.lowest_graph)
            frontier, negated = found - deleted, set()
            deleted |= frontier
        self._move(deleted, self.lowest_graph, INFERRED_MINUS)
        logger.debug("over-deleted %d triples", len(deleted))
        # 2. Rederive, over the state after (the over-deleted triples are out of it).
        rederived = self._rederived(deleted | asserted_minus)
        rederived -= self._held(rederived, [STATEMENTS, ASSERTED_PLUS])
        self._load(rederived, INFERRED_PLUS)
        logger.debug("rederived %d triples", len(rederived))
        # 3. Insert: semi-naive rounds over the state after.
        inserted = set(rederived)
        delta, negated = asserted_plus | rederived, set(asserted_minus)
        while delta or negated:
            found = self._derived(self.low_after, delta, negated, known=None, added=True)
            fresh = found - self._held(found, self.low_after)
            self._load(fresh, INFERRED_PLUS)
            inserted |= fresh
            logger.debug("inserted %d triples", len(fresh))
            delta, negated = fresh, set()
        return inserted - deleted, deleted - inserted

    def _reading(self, lines: set[str], side: str) -> list[owl_rules.DataRule]:
        """The data rules a premise (``side`` "reads") or the head ("writes") of which
        one of the lines can match."""
        keys = {line_key(line) for line in lines}
        return [rule for rule in self.data_rules
                if not keys.isdisjoint(data_rule_keys(getattr(rule, side)))]

    def _derived(self, graphs: list[pyoxigraph.NamedNode], delta: set[str],
                 negated: set[str], *, known: pyoxigraph.NamedNode | None,
                 added: bool = False) -> set[str]:
        """One round of the lowest stratum from the ``delta`` triples over ``graphs``:
        what the data rules derive with a premise from them, and what the shipped rules
        give on the keys the delta (and ``negated``, the change's other side) reaches.

        :param known: keep only heads this graph holds (over-deletion); None: only heads
            the graphs lack (insertion).
        :param added: the delta was added (else removed).
        """
        found: set[str] = set()
        # A data rule none of whose premises a delta triple can match gives nothing: the
        # six cls-int1 rules on a Drug's role cost ~25 ms a round each over these graphs,
        # however small the delta.
        running = self._reading(delta, "reads")
        if running:
            self._load(delta, _DELTA)
            found |= self._lines_of([rule.query(
                [_DELTA.value], not_trivia, known=owl_rules.NEW if known is None else known.value)
                for rule in running], graphs)
            self.store.remove_graph(_DELTA)
        plus, minus = (delta, negated) if added else (negated, delta)
        for keyed in self.low:
            heads = self._heads(keyed, graphs, self._keys(
                keyed, plus, minus, self.low_before, self.low_after))
            found |= self._held(heads, [known]) if known is not None else heads
        return found

    def _rederived(self, candidates: set[str]) -> set[str]:
        """Those of the candidate triples a lowest-stratum rule derives in one step over
        the state after."""
        if not candidates:
            return set()
        found: set[str] = set()
        running = self._reading(candidates, "writes")  # those whose head can be one
        if running:
            self._load(candidates, _CANDIDATES)
            found |= self._lines_of([rule.query(
                None, not_trivia, known=None,
                seed=f"GRAPH <{_CANDIDATES.value}> {{ {rule.head} }}")
                for rule in running], self.low_after)
            self.store.remove_graph(_CANDIDATES)
        for keyed in self.low:
            mine = keyed.mine(candidates)
            if mine:
                found |= self._still(keyed, self.low_after, mine)
        return found & candidates

    def _update_higher(self, plus: set[str], minus: set[str]) -> None:
        """The higher strata, stratum by stratum, from the lower levels' change: each
        rule's part the change reaches before and after, and the triples of it that go in
        or out of :data:`HIGHER` (into HIGHER_PLUS / HIGHER_MINUS)."""
        for stratum in sorted({keyed.rule.stratum for keyed in self.high}):
            rules = [keyed for keyed in self.high if keyed.rule.stratum == stratum]
            producers = [keyed for keyed in self.high if keyed.rule.stratum <= stratum]
            round_plus, round_minus = set(plus), set(minus)
            lower = True  # the first round's change is the lower levels'
            while round_plus or round_minus:
                touched: set[str] = set()
                after: dict[str, tuple[_Where, set[str]]] = {}
                for keyed in rules:
                    where = self._keys(keyed, round_plus, round_minus, self.before, self.after)
                    touched |= self._heads(keyed, self.before, where)
                    after[keyed.rule.name] = where, self._heads(keyed, self.after, where)
                    touched |= after[keyed.rule.name][1]
                    if lower:  # a triple a lower level gains or loses may be the rule's too
                        touched |= keyed.mine(round_plus | round_minus)
                lower = False
                derived: set[str] = set()
                for keyed in producers:
                    # Not what another producer derives after the change already (a link's
                    # type and drug, say, which link-drug-mechanism and link-efflux-exposure
                    # both write): only the rows of the others are looked for.
                    mine = keyed.mine(touched) - derived
                    if not mine:
                        continue
                    ran, heads = after.get(keyed.rule.name, ((None, set()), set()))
                    derived |= self._still(keyed, self.after, mine, ran, heads)
                now = derived - self._held(derived, self.low_after)
                was = self._held(touched, [HIGHER, HIGHER_PLUS])
                came, gone = now - was, was - now
                plus |= came
                minus |= gone
                self._move(self._held(gone, [HIGHER]), HIGHER, HIGHER_MINUS)
                self._move(self._held(gone, [HIGHER_PLUS]), HIGHER_PLUS, None)
                self._load(came, HIGHER_PLUS)
                round_plus, round_minus = came, gone


def higher_part(inferred: bytes, lowest: bytes) -> bytes:
    """The higher strata's triples: graph/inferred's N-Triples lines but the lowest
    stratum's (:attr:`exomirkg.reason.Inference.lowest`)."""
    kept = set(lowest.splitlines(keepends=True))
    return b"".join(line for line in inferred.splitlines(keepends=True) if line not in kept)


def _same(pattern: object, lead: tuple[object, object, object]) -> bool:
    """Whether a pattern of check_focus's analysis is the leading pattern ``lead``."""
    subject, predicate, obj = lead
    if pattern.subject != subject or pattern.object != obj:
        return False
    if isinstance(predicate, frozenset):
        return isinstance(pattern.predicate, AlternativePath) and frozenset(
            map(str, pattern.predicate.args)) == predicate
    return pattern.predicate == predicate


def _covers(ran: _Where, where: _Where) -> bool:
    """Whether a rule's heads where it ran hold all its heads at ``where``."""
    if ran[0] is None:
        return ran[1] is None  # in full
    return ran[0] is where[0] and where[1] is not None and where[1] <= (ran[1] or set())


def _drop(store: pyoxigraph.Store, graph: pyoxigraph.NamedNode) -> None:
    if graph in set(store.named_graphs()):
        store.remove_graph(graph)


#: Schema predicates whose triples change no data rule (notes on a term).
_NOTES = frozenset(f"<{iri}>" for iri in (RDFS.label, RDFS.comment, RDFS.seeAlso,
                                          RDFS.isDefinedBy))


def _schema(line: str) -> bool:
    """Whether an N-Triples line is a schema triple the data rules are compiled from."""
    _subject, predicate, obj = split_nt(line)
    return predicate not in _NOTES and owl_rules.is_schema_key(nt_key(predicate, obj))
