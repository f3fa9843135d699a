"""The checks on given focus nodes, and which focus nodes a change can reach: the checks' part
of the incremental build (docs/scale.md, "The incremental build", item 3), beside the shapes'
(:func:`exomirkg.shacl_sparql.validate_store` and ``affected_focus``).

A check's rows are violations on their first column, its *focus*. A check whose query has the
form analysed here (:func:`analyse`) runs on given focus nodes with a ``VALUES`` block naming
them at the start of its WHERE group, and of a subquery there that selects the focus (one
query for any number of nodes; pyoxigraph's own ``substitutions=`` binds one term per
variable, so one query per node: 0.1 s for 50 nodes of disjoint-types-violation at 10^5
triples, where the VALUES block takes 3 ms). Its rows are the
full run's rows whose focus is one of the nodes when the focus variable is bound by the
group's leading join (before any OPTIONAL, MINUS or BIND), and the query has no LIMIT or
OFFSET, and no aggregate but one grouped by the focus variable: selecting on a variable
every row binds commutes with the left joins, minus, filters and extensions applied after
it, and with grouping by it (a group's row is made of its own solutions).

A check whose rows stand for groups runs, the same way, on given values of another variable
it selects, named by ``#+ partition:`` (duplicate-label's ``?class``: its row's focus is a
group's first entity, so a change to one entity's label can move the focus of a row
whose group it joins or leaves; the rows of a class are made of that class's entities alone).
Everything here then reads "focus" as that variable: the runs, :func:`affected`, and the
results a build keeps (those whose row's value of it was not run again).

:func:`affected` says which focus nodes a change can reach. The query's triple patterns (every
one: in OPTIONAL, MINUS, UNION, EXISTS, GRAPH and subqueries; a subquery's variables that it
does not project, and a MINUS or EXISTS group's but those of the rows it is compared with,
renamed apart) are matched by the changed triples; from a matched pattern the
variables' values are followed through the other patterns that share a variable (and
``BIND (?x AS ?y)``), over the graph before and after the change, up to the focus variable.
A row of focus f can change only if some changed triple t is, or was, matched by a pattern in
the evaluation that gave (or removed, or filtered) f's row; that evaluation's patterns are
matched together (each by one triple), joined by shared variables, and so some chain of
distinct patterns, each sharing a variable with the next, leads from t to f. That holds
where every join is an equality of bound variables, which the analysis makes sure of or gives
up: each group's patterns connected (no cross product), a variable that an OPTIONAL or one
branch of a UNION may leave unbound used in no pattern outside it (a later join on it would
match anything), no BIND of a computed value (an aggregate's, too) read by a pattern, no
aggregate not grouped by the focus variable, no negated property set. A changed triple
matched by a pattern not connected to the focus variable (a condition every row shares)
reaches every focus node: :func:`affected` then says None, run the check in full, as it does
for a check the analysis gives up on (``#+ focus: none`` says so explicitly).

A MINUS group that binds the focus variable in every row, on both its sides (the rows
before it in its group and its own), removes a row only with one of its own rows of the same
focus node; where the rows it keeps are the query's (it is in no OPTIONAL, MINUS or EXISTS
group: one there removes rows that need not bind the focus, and another join may bind it
after), a changed triple one of its patterns matches is followed to the focus through that
group's patterns alone (unexplained-link-violation: a link's new mechanism reaches the
link's drug, where following it out to ``?drug ?property ?value`` reached the 29 drugs of
that mechanism, and an edit of two findings ~220 drugs at 10^6 triples).

A MINUS group of the WHERE group whose one variable is the focus removes every row of a node
it matches: a focus run asks it which of its nodes it matches first, and looks for the
others' rows alone (:attr:`Analysis.excluding`, :func:`excluded`).

Paths: a changed triple on a path ``?a P ?b`` is matched at one step of it (a predicate of
``P``), and ``?a`` / ``?b`` are the nodes reached backwards / forwards from its ends along the
rest of ``P`` (:func:`_splits`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import Protocol

import pyoxigraph
from rdflib.paths import AlternativePath, InvPath, MulPath, NegatedPath, SequencePath
from rdflib.paths import Path as RdfPath
from rdflib.plugins.sparql.algebra import translateGroupGraphPattern, translateQuery
from rdflib.plugins.sparql.parser import parseQuery
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.plugins.sparql.sparql import Query
from rdflib.term import Identifier, URIRef, Variable

from exomirkg.shacl_sparql import UnionView, change_quads, walk_path
from exomirkg.sparql.parsing import parsed
from exomirkg.store import to_oxigraph, to_rdflib


class Check(Protocol):
    """What is read of a check (:class:`exomirkg.validate.Check`, which imports this module)."""

    text: str
    focus: str | None
    #: A selected variable other than the first that a run is restricted on (``#+ partition:``).
    partition: str | None

__all__ = ["FOCUS_NONE", "Analysis", "affected", "analyse", "focused_text", "query_algebra"]

#: The ``#+ focus:`` value of a check that always runs in full.
FOCUS_NONE = "none"

#: A term of a pattern: a variable, or an rdflib term; a predicate may be a path.
_Node = Variable | Identifier


@dataclass(frozen=True)
class _Pattern:
    """A triple pattern of a check; ``predicates`` restricts a variable predicate (a VALUES
    block of IRIs joined with it)."""

    subject: _Node
    predicate: _Node | RdfPath
    object: _Node
    predicates: frozenset[str] | None = None

    def variables(self) -> set[Variable]:
        return {t for t in (self.subject, self.predicate, self.object)
                if isinstance(t, Variable)}

    @cached_property
    def constants(self) -> tuple[object, object, object]:
        """The constant terms as the store's (None: a variable or a path)."""
        return tuple(None if isinstance(t, Variable | RdfPath) else to_oxigraph(t)
                     for t in (self.subject, self.predicate, self.object))

    def iris(self) -> frozenset[str] | None:
        """The predicates of the triples it can match (for a path, of its steps); None: any."""
        if isinstance(self.predicate, URIRef):
            return frozenset({str(self.predicate)})
        if isinstance(self.predicate, RdfPath):
            return frozenset(_path_iris(self.predicate))
        return self.predicates


def _path_iris(path: object) -> Iterator[str]:
    if isinstance(path, URIRef):
        yield str(path)
    for part in getattr(path, "args", None) or [getattr(path, "arg", None) or getattr(
            path, "path", None)]:
        if part is not None:
            yield from _path_iris(part)


@dataclass
class Analysis:
    """What :func:`analyse` found in a check.

    :ivar variable: the focus variable's name; None: the check runs in full.
    :ivar reason: why it runs in full.
    """

    variable: str | None
    reason: str = ""
    patterns: list[_Pattern] = field(default_factory=list)
    aliases: list[tuple[Variable, Variable]] = field(default_factory=list)
    #: Where a VALUES block on the focus goes in the text: after the brace opening the WHERE
    #: group, opening each subquery's of the group that selects the focus variable, and
    #: opening each OPTIONAL or MINUS group of the WHERE group that binds it (:func:`_openings`).
    openings: list[int] = field(default_factory=list)
    #: The patterns of each MINUS group that binds the focus variable on both its sides, in
    #: every row, and whose rows are the query's (see the module docstring): a change one of
    #: them matches is followed to the focus through that group's patterns alone
    #: (:func:`affected`).
    confined: list[frozenset[int]] = field(default_factory=list)
    #: Each MINUS group of the WHERE group whose only variable is the focus, bound in every
    #: row, as a query of the focus nodes it matches and where its VALUES blocks go: such a
    #: node has no row (:func:`_scan`).
    excluding: list[tuple[str, list[int]]] = field(default_factory=list)


class _GiveUp(Exception):
    """The check is not of a form :func:`analyse` can focus."""


class _Walker:
    """Collects a query's patterns (variables of subqueries renamed apart) and checks the
    conditions of the module docstring."""

    def __init__(self, focus: Variable) -> None:
        self.focus = focus
        self.patterns: list[_Pattern] = []
        self.aliases: list[tuple[Variable, Variable]] = []
        self.computed: set[Variable] = set()  # BIND of a computed value
        # (variables that may be unbound, the patterns that may leave them so)
        self.optional: list[tuple[set[Variable], range]] = []
        # (a MINUS group's patterns, the variables both its sides bind in every row), of a
        # MINUS whose rows are the query's rows (in no group compared with others)
        self.minus: list[tuple[range, set[Variable]]] = []
        self.compared = 0  # how deep in OPTIONAL, MINUS and EXISTS groups the walk is
        self.scopes = 0

    def pattern(self, node: CompValue, names: dict[Variable, Variable], scope: int = 0
                ) -> None:
        """Walk a graph pattern of the algebra; ``names`` renames the variables of its scope
        (a subquery's own are ``?name~scope``)."""
        def rename(term: object) -> object:
            return _named(names, scope, term) if isinstance(term, Variable) else term

        def walk(child: CompValue) -> None:
            self.pattern(child, names, scope)

        kind = node.name
        if kind == "BGP":
            for s, p, o in node.triples:
                if isinstance(p, NegatedPath) or (isinstance(p, RdfPath) and _negated(p)):
                    raise _GiveUp("a negated property set")
                self.patterns.append(_Pattern(rename(s), rename(p), rename(o)))
            self.connected([{v for v in (s, p, o) if isinstance(v, Variable)}
                            for s, p, o in node.triples])
        elif kind == "Join":
            leaves = list(_join_leaves(node))
            own: list[int] = []  # the patterns of the join's own BGPs
            for leaf in leaves:
                start = len(self.patterns)
                walk(leaf)
                if leaf.name == "BGP":
                    own += range(start, len(self.patterns))
            self.connected([_vars(leaf, names, certain=True) for leaf in leaves])
            self.restrict(leaves, names, own)
        elif kind in ("LeftJoin", "Minus"):
            walk(node.p1)
            start = len(self.patterns)
            # A MINUS group's rows are compared with the rows before it on the variables both
            # bind: its other variables are its own (an OPTIONAL's are joined after it).
            inner, inner_scope = (self.own_scope(names, scope, _vars(node.p1, {}))
                                  if kind == "Minus" else (names, scope))
            self.compared += 1
            self.pattern(node.p2, inner, inner_scope)
            self.compared -= 1
            left = _vars(node.p1, names, certain=True)
            if not _vars(node.p2, inner) & left:
                raise _GiveUp(f"{'an OPTIONAL' if kind == 'LeftJoin' else 'a MINUS'} sharing "
                              "no variable with its group")
            if kind == "Minus" and not self.compared:
                self.minus.append((range(start, len(self.patterns)),
                                   left & _vars(node.p2, inner, certain=True)))
            if kind == "LeftJoin":
                self.optional.append((_vars(node.p2, names) - left,
                                      range(start, len(self.patterns))))
                if node.expr is not None:
                    self.expression(node.expr, names, scope,
                                    _vars(node.p1, {}) | _vars(node.p2, {}))
        elif kind == "Union":
            # A UNION of UNIONs as one: a variable of a branch is joined with no other branch.
            branches = list(_union_branches(node))
            start = len(self.patterns)
            for branch in branches:
                walk(branch)
            every = set().union(*(_vars(b, names) for b in branches))
            always = set.intersection(*(_vars(b, names, certain=True) for b in branches))
            self.optional.append((every - always, range(start, len(self.patterns))))
        elif kind == "Filter":
            walk(node.p)
            self.expression(node.expr, names, scope, _vars(node.p, {}))
        elif kind == "Extend":
            walk(node.p)
            if isinstance(node.expr, Variable) and rename(node.expr) in self.computed:
                self.computed.add(rename(node.var))  # an aggregate's value, named
            elif isinstance(node.expr, Variable):
                self.aliases.append((rename(node.expr), rename(node.var)))
            else:
                self.computed.add(rename(node.var))
                self.expression(node.expr, names, scope, _vars(node.p, {}))
        elif kind == "Graph":
            # The graph's name joins nothing here: a variable one is left out of the chains.
            if isinstance(node.term, Variable):
                self.computed.add(rename(node.term))
            walk(node.p)
        elif kind == "ToMultiSet":
            if node.p.name == "values":
                return
            self.subquery(node.p, names, scope)
        elif kind in ("Distinct", "Reduced", "OrderBy"):
            walk(node.p)
        elif kind == "Project":
            self.subquery(node, names, scope)
        elif kind == "AggregateJoin":
            # A group's row is made of its solutions alone: grouped by the focus variable,
            # the rows of a focus value are made of the solutions that bind it to that value,
            # and a VALUES block on it keeps exactly those.
            if self.focus not in {rename(key) for key in _group_keys(node)}:
                raise _GiveUp("an aggregate not grouped by the focus variable (a row stands "
                              "for a group of solutions)")
            walk(node.p.p)
            for aggregate in node.A:
                if _key_sample(aggregate, node):  # a selected key: its group's value
                    self.aliases.append((rename(aggregate.vars), rename(aggregate.res)))
                else:
                    self.computed.add(rename(aggregate.res))
        else:  # Slice, Service, ...
            raise _GiveUp(f"a {kind}")

    def own_scope(self, names: dict[Variable, Variable], scope: int,
                  shared: Iterable[Variable]) -> tuple[dict[Variable, Variable], int]:
        """The names of a new scope (a subquery's, a MINUS or EXISTS group's) whose variables
        of ``shared`` are the enclosing scope's, its others its own."""
        self.scopes += 1
        return {v: _named(names, scope, v) for v in shared}, self.scopes

    def subquery(self, node: CompValue, names: dict[Variable, Variable], scope: int) -> None:
        """A subquery: its projected variables are the enclosing scope's, others its own."""
        while node.name in ("Distinct", "Reduced", "OrderBy"):
            node = node.p
        if node.name != "Project":
            raise _GiveUp(f"a subquery of form {node.name}")
        self.pattern(node.p, *self.own_scope(names, scope, node.PV))

    def expression(self, expression: object, names: dict[Variable, Variable], scope: int,
                   bound: set[Variable]) -> None:
        """The EXISTS and NOT EXISTS of an expression over rows that may bind ``bound``:
        their patterns are the group's, their variables but those their own (a solution's
        values replace the variables it binds)."""
        if isinstance(expression, CompValue):
            if expression.name in ("Builtin_EXISTS", "Builtin_NOTEXISTS"):
                graph = expression.graph
                if graph.name == "GroupGraphPatternSub":  # left untranslated by rdflib
                    graph = translateGroupGraphPattern(graph)
                self.compared += 1
                self.pattern(graph, *self.own_scope(names, scope, bound))
                self.compared -= 1
                return
            for value in expression.values():
                self.expression(value, names, scope, bound)
        elif isinstance(expression, list):
            for value in expression:
                self.expression(value, names, scope, bound)

    def connected(self, groups: list[set[Variable]]) -> None:
        """The variable sets of a group's members must form one connected whole (a member
        without variables is a condition on every row: :func:`affected` sees to it)."""
        groups = [g for g in groups if g]
        if not groups:
            return
        reached, todo = set(groups[0]), groups[1:]
        while todo:
            joined = [g for g in todo if g & reached]
            if not joined:
                raise _GiveUp("a group joins patterns that share no variable")
            for g in joined:
                reached |= g
            todo = [g for g in todo if not g & reached]

    def restrict(self, leaves: list[CompValue], names: dict[Variable, Variable],
                 own: list[int]) -> None:
        """A VALUES block of IRIs for one variable, joined with a pattern (of ``own``: not
        one nested in an OPTIONAL, MINUS or subquery) whose predicate is that variable: the
        pattern matches only those predicates."""
        for leaf in leaves:
            if leaf.name != "ToMultiSet" or leaf.p.name != "values":
                continue
            rows = leaf.p.res
            variables = {v for row in rows for v in row}
            iris = [value for row in rows for value in row.values()]
            if len(variables) != 1 or len(iris) != len(rows) or not all(
                    isinstance(i, URIRef) for i in iris):
                continue
            variable = names.get(next(iter(variables)))
            for index in own:
                pattern = self.patterns[index]
                if pattern.predicate == variable and pattern.predicates is None:
                    self.patterns[index] = _Pattern(
                        pattern.subject, pattern.predicate, pattern.object,
                        frozenset(str(i) for i in iris))


def _named(names: dict[Variable, Variable], scope: int, variable: Variable) -> Variable:
    """A variable's name in a scope (``names``): its own first met there (``?name~scope``,
    the query's unchanged)."""
    if variable not in names:
        names[variable] = Variable(f"{variable}~{scope}") if scope else variable
    return names[variable]


def _negated(path: RdfPath) -> bool:
    if isinstance(path, NegatedPath):
        return True
    parts = getattr(path, "args", None) or [getattr(path, "arg", None) or getattr(
        path, "path", None)]
    return any(isinstance(p, RdfPath) and _negated(p) for p in parts)


def _leaves(node: CompValue, name: str) -> Iterator[CompValue]:
    """The members of a tree of ``name`` nodes (Join, Union)."""
    if node.name == name:
        yield from _leaves(node.p1, name)
        yield from _leaves(node.p2, name)
    else:
        yield node


def _join_leaves(node: CompValue) -> Iterator[CompValue]:
    """The members of a tree of Joins."""
    return _leaves(node, "Join")


def _union_branches(node: CompValue) -> Iterator[CompValue]:
    """The branches of a tree of Unions."""
    return _leaves(node, "Union")


def _vars(node: CompValue, names: dict[Variable, Variable], *, certain: bool = False
          ) -> set[Variable]:
    """A graph pattern's variables (in the enclosing scope's names); if ``certain``, only
    those every solution binds."""
    def named(variables: Iterable[object]) -> set[Variable]:
        return {names.get(v, v) for v in variables if isinstance(v, Variable)}

    kind = node.name
    if kind == "BGP":
        return named(t for triple in node.triples for t in triple)
    if kind == "Join":
        return _vars(node.p1, names, certain=certain) | _vars(node.p2, names, certain=certain)
    if kind in ("LeftJoin", "Minus"):
        found = _vars(node.p1, names, certain=certain)
        return found if certain or kind == "Minus" else found | _vars(node.p2, names)
    if kind == "Union":
        one, two = _vars(node.p1, names, certain=certain), _vars(node.p2, names, certain=certain)
        return one & two if certain else one | two
    if kind in ("Filter", "Distinct", "Reduced", "OrderBy"):
        return _vars(node.p, names, certain=certain)
    if kind == "Extend":
        found = _vars(node.p, names, certain=certain)
        if not certain or (isinstance(node.expr, Variable) and names.get(
                node.expr, node.expr) in found):
            found = found | named([node.var])
        return found
    if kind == "Graph":
        return _vars(node.p, names, certain=certain) | named([node.term])
    if kind == "ToMultiSet":
        if node.p.name == "values":
            rows = node.p.res
            every = {v for row in rows for v in row}
            return named(v for v in every if not certain or all(
                row.get(v) is not None for row in rows))
        return _vars(node.p, names, certain=certain)
    if kind == "Project":
        inside = _vars(node.p, {}, certain=True) if certain else set(node.PV)
        return named(v for v in node.PV if v in inside)
    if kind == "AggregateJoin":
        # The keys a group is made by (and a selected key's sample of itself); another
        # aggregate's value may be unbound (SAMPLE of none, MIN of errors).
        keys = _group_keys(node) & _vars(node.p.p, {}, certain=certain)
        return named(keys | {a.res for a in node.A if not certain or (_key_sample(a, node)
                                                                 and a.vars in keys)})
    return set()


def _group_keys(node: CompValue) -> set[Variable]:
    """The variables an AggregateJoin's groups are made by (its GROUP BY's; an expression
    there is an Extend's variable below it, or no key)."""
    return {key for key in node.p.expr or () if isinstance(key, Variable)}


def _key_sample(aggregate: CompValue, node: CompValue) -> bool:
    """Whether an aggregate of an AggregateJoin is rdflib's SAMPLE of a group key, which it
    makes for a key the query selects: the key's value in every row of its group."""
    return aggregate.name == "Aggregate_Sample" and isinstance(aggregate.vars, Variable) \
        and aggregate.vars in _group_keys(node)


def _leading(node: CompValue, focus: Variable) -> set[Variable]:
    """The variables every solution of a group's leading join binds: what a VALUES block at
    the group's start is joined with before any OPTIONAL, MINUS or BIND (applied after it,
    they commute with it unless a BIND sets the focus variable; one that reads it reads the
    value the leading join bound, either way). Of an aggregate's group, those of its keys:
    grouping after the block keeps the groups of the block's values whole."""
    sampled = None
    while node.name in ("Filter", "LeftJoin", "Minus", "Extend"):
        if node.name == "Extend" and node.var == focus:
            if not isinstance(node.expr, Variable):
                raise _GiveUp(f"a BIND sets ?{focus}")
            sampled = node.expr  # a selected group key, rdflib's SAMPLE of it: see below
        node = node.p if node.name in ("Filter", "Extend") else node.p1
    if node.name == "AggregateJoin":
        if sampled is not None and not any(
                a.res == sampled and a.vars == focus and _key_sample(a, node) for a in node.A):
            raise _GiveUp(f"a BIND sets ?{focus}")
        return _leading(node.p.p, focus) & _group_keys(node)
    if sampled is not None:
        raise _GiveUp(f"a BIND sets ?{focus}")
    if node.name == "Join":
        leaves = list(_join_leaves(node))
        if leaves[0].name in ("Filter", "LeftJoin", "Minus", "Extend"):
            return _leading(leaves[0], focus)
    return _vars(node, {}, certain=True)


def _expression_vars(expression: object) -> set[Variable]:
    if isinstance(expression, Variable):
        return {expression}
    if isinstance(expression, CompValue):
        return set().union(*(_expression_vars(v) for v in expression.values()))
    if isinstance(expression, list):
        return set().union(*(_expression_vars(v) for v in expression))
    return set()


@cache  # rdflib parses in pure Python (~25 ms a query); a rule's text is asked for its
# template, its keys' analyses and their leading patterns: 78 parses for the 15 rules and 12
# checks, 51 texts
def query_algebra(text: str) -> Query:
    """A query's algebra (rdflib's), made once per text: read it, never change it."""
    return parsed(_algebra, text)


def _algebra(text: str) -> Query:
    return translateQuery(parseQuery(text))


@cache  # a check's text is analysed once
def _analyse(text: str, declared: str | None, partition: str | None = None) -> Analysis:
    query = query_algebra(text).algebra
    node = query.p
    if declared == FOCUS_NONE:
        return Analysis(None, "its #+ focus: is none")
    try:
        while node.name in ("Distinct", "Reduced"):
            node = node.p
        if node.name != "Project":
            raise _GiveUp(f"a {node.name} at the top of the query")
        if not node.PV:
            raise _GiveUp("no selected variable")
        focus = node.PV[0]
        if declared is not None and declared != str(focus):
            raise _GiveUp(f"#+ focus: {declared} is not the first selected variable ?{focus}")
        if partition is not None:
            focus = Variable(partition)
            if focus not in node.PV:
                raise _GiveUp(f"?{partition} is not a selected variable")
        body = node.p.p if node.p.name == "OrderBy" else node.p
        walker = _Walker(focus)
        walker.pattern(body, {})
        if focus not in _leading(body, focus):
            raise _GiveUp(f"?{focus} is not bound by the query's leading join")
        for index, pattern in enumerate(walker.patterns):
            used = pattern.variables() & walker.computed
            if used:
                raise _GiveUp(f"a pattern reads ?{min(used)}, a computed value or a graph name")
            for maybe, inside in walker.optional:
                if index not in inside and pattern.variables() & maybe:
                    raise _GiveUp(f"?{min(pattern.variables() & maybe)} may be unbound (an "
                                  "OPTIONAL or one branch of a UNION) and is joined again")
    except _GiveUp as reason:
        if declared is not None or partition is not None:
            on = "focus nodes" if partition is None else f"given values of ?{partition}"
            raise ValueError(f"cannot run on {on}: {reason}") from None
        return Analysis(None, str(reason))
    confined = [frozenset(inside) for inside, both in walker.minus if focus in both]
    openings, excluding = _scan(text, focus)
    return Analysis(str(focus), "", walker.patterns, walker.aliases, openings, confined,
                    excluding)


def analyse(check: Check) -> Analysis:
    """Whether, and on which variable, the check can run on given values: its first selected
    variable (its focus nodes), or the one ``#+ partition:`` names.

    :raises ValueError: when its ``#+ focus:`` or ``#+ partition:`` names a variable it cannot
        run on.
    """
    return _analyse(check.text, check.focus, check.partition)


# --- a run on given focus nodes ------------------------------------------------------------

#: What the scanner skips (strings, IRIs, comments) or stops at (braces, SELECT, and the
#: keywords that say what a brace opens).
_TOKENS = re.compile(r"""'''.*?'''|\"\"\".*?\"\"\"|'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|"""
                     r"""<[^<>"{}|^`\\\x00-\x20]*>|#[^\n]*|[{}]|(?<![?$\w:-])"""
                     r"""(?i:SELECT|OPTIONAL|MINUS|EXISTS|SERVICE|GRAPH|UNION|VALUES)\b(?!:)""",
                     re.DOTALL)

#: Groups whose rows are joined into the group around them (a VALUES block's braces hold
#: no group: no SELECT is ever inside one).
_JOINED = ("", "UNION", "GRAPH", "VALUES")
#: Groups whose rows are compared with the rows before them in the group around them.
_COMPARED = ("OPTIONAL", "MINUS", "EXISTS")


@dataclass
class _Brace:
    """A group the scanner is in: whether a subquery in it may take the VALUES block, and
    the subquery written in it (its SELECT, its WHERE brace's end)."""

    takes: bool
    select: int | None = None
    where: int | None = None
    #: Where the group's text starts, for an OPTIONAL or MINUS group that is a member of
    #: the WHERE group (it may take the VALUES block itself).
    compared: int | None = None
    #: That group is a MINUS (it may exclude nodes: :func:`_scan`).
    minus: bool = False
    #: A WHERE group (the query's or a subquery's): its members are judged against it, and
    #: the openings found in it are kept if its query selects and binds the focus.
    root: bool = False
    found: list[int] = field(default_factory=list)


def _openings(text: str, focus: Variable) -> list[int]:
    """Where the VALUES blocks go (:attr:`Analysis.openings`, :func:`_scan`)."""
    return _scan(text, focus)[0]


def _scan(text: str, focus: Variable) -> tuple[list[int], list[tuple[str, list[int]]]]:
    """:attr:`Analysis.openings` and :attr:`Analysis.excluding`, from one scan of the text.

    The VALUES blocks go after the first brace (the
    SELECT clause holds none), and after the WHERE brace of each subquery that selects the
    focus variable and binds it in every row of its leading join (the engine does not carry
    the outer block into a subquery: dangling-iri-violation's focus run at 10^5 triples took
    0.12 s so, 0.25 s in full), and so on into such a subquery, scanned as the query is
    (duplicate-label's innermost GROUP BY, two subqueries down, reads only the given classes'
    entities then), where every row it gives meets rows that bind the focus:

    - a member of the WHERE group, or of a group, UNION branch or GRAPH group in it and so
      on down (its rows are joined, at last, with the block's);
    - or of an OPTIONAL, MINUS or (NOT) EXISTS group that is a member of the WHERE group
      (compared with the rows before it there, which the block binds), or of a group, UNION
      branch or GRAPH group in one and so on down (unexplained-link-violation's MINUS).

    And after the brace of each OPTIONAL or MINUS group that is a member of the query's WHERE
    group (not a subquery's: duplicate-label's OPTIONAL, which reads a value its subquery
    made, then read every entity of the class: 1.0 s against 0.8 s at 10^6 triples) and binds
    the focus in every row of its leading join. pyoxigraph evaluates such a group
    on its own, for every focus node, before comparing: statement-without-evidence's run on
    4 focus nodes at 10^6 triples took 0.16 s so, 1 ms with the block, for its MINUS over
    every ekg:Statement. (In a group that does not bind the focus, a block would repeat each
    of its rows for every node.)

    A subquery's or group's row of another focus node then joins or matches no row, so
    dropping it changes nothing. Not inside a SERVICE, another subquery (its variables are
    its own), or an OPTIONAL or MINUS further down (the rows before it need not bind the
    focus).

    The excluding groups are the MINUS groups that are members of the WHERE group and whose
    one variable is the focus, bound in every row of their leading join. Such a group's row
    of a node is compatible with every row of that node before it (they share the focus
    alone), so it removes them all, and the WHERE group's rows after it come from those it
    kept: a node the group matches has no row, and a focus run need not look for any.
    external-iri-not-imported's run on an edit's 86 focus nodes at 10^6 triples spent 0.18 s
    listing the uses of the two it could not keep, `obo:RO_0002558` and an ECO code (a use
    per statement), before its MINUS over the imported IRIs removed them.
    """
    excluding: list[tuple[str, list[int]]] = []
    braces: list[_Brace] = []
    top: _Brace | None = None
    keyword = ""  # the keyword before the next brace
    prologue = len(text)
    for token in _TOKENS.finditer(text):
        word = token.group()
        upper = word.upper()
        if word == "{":
            if not braces:
                top = _Brace(True, root=True, found=[token.end()])
                braces.append(top)
            elif braces[-1].select is not None and braces[-1].where is None:
                # A subquery's WHERE group: its own variables but those it selects, so it is
                # scanned as the query's, and kept if it selects the focus (below).
                braces[-1].where = token.end()
                braces.append(_Brace(True, root=True))
            else:
                around = braces[-1]
                braces.append(_Brace(around.takes and around.select is None and (
                    keyword in _JOINED or (keyword in _COMPARED and around.root)),
                    compared=token.end() if keyword in ("OPTIONAL", "MINUS")
                    and around is top else None, minus=keyword == "MINUS"))
            keyword = ""
        elif word == "}":
            brace = braces.pop() if braces else None
            root = next((b for b in reversed(braces) if b.root), None)
            if brace is not None and brace.root and braces:
                braces[-1].found = brace.found  # the subquery's, until its end
            elif brace is not None and brace.select is not None and brace.where is not None:
                if root is not None and _binds(text[:prologue] + text[brace.select:token.start()],
                                               focus):
                    root.found += [brace.where, *brace.found]
            elif brace is not None and brace.compared is not None and root is not None \
                    and _binds(f"{text[:prologue]}SELECT * WHERE {{"
                               f"{text[brace.compared:token.start()]}}}", focus):
                root.found.append(brace.compared)
            if brace is not None and brace.compared is not None and brace.minus:
                group = f" {{ {text[brace.compared:token.start()]} }} }}"
                if _binds(f"{text[:prologue]}SELECT * WHERE {{{group}", focus, alone=True):
                    query = f"{text[:prologue]}SELECT DISTINCT ?{focus} WHERE {{{group}"
                    excluding.append((query, _openings(query, focus)))
            keyword = ""
        elif upper == "SELECT":
            prologue = min(prologue, token.start())
            if len(braces) >= 2 and braces[-1].takes:
                braces[-1].select, braces[-1].where = token.start(), None
            keyword = ""
        elif upper in _JOINED or upper in _COMPARED or upper == "SERVICE":
            keyword = upper
    openings = top.found if top is not None else []
    return sorted(openings), excluding


def _binds(query: str, focus: Variable, *, alone: bool = False) -> bool:
    """Whether a (sub)query selects ``focus`` (``alone``: and nothing else) and its leading
    join binds it in every row."""
    try:
        node = query_algebra(query).algebra.p
        while node.name in ("Distinct", "Reduced"):
            node = node.p
        if node.name != "Project" or focus not in node.PV or (alone and len(node.PV) != 1):
            return False
        return focus in _leading(node.p.p if node.p.name == "OrderBy" else node.p, focus)
    except _GiveUp:
        return False


def excluded(store: pyoxigraph.Store, analysis: Analysis, written: list[str],
             **options: object) -> set[str]:
    """Those of the focus nodes (N-Triples terms) a group of :attr:`Analysis.excluding`
    matches: they have no row. ``options``: the check's dataset, as for its own run."""
    found: set[str] = set()
    for query, openings in analysis.excluding:
        # Blocks in its subqueries too: one of the imported IRIs (external-iri-not-imported)
        # with the block outside took 0.44 s, evaluating the subquery for every IRI.
        group = Analysis(analysis.variable, openings=openings)
        for start in range(0, len(written), _EXCLUDED_BATCH):
            text = focused_text(query, group, written[start:start + _EXCLUDED_BATCH])
            found |= {str(row[0]) for row in store.query(text, **options)}
    return found


#: Focus nodes per query of :func:`excluded`.
_EXCLUDED_BATCH = 500


def focused_text(text: str, analysis: Analysis, written: Iterable[str]) -> str:
    """The check's query with ``VALUES ?focus { ... }`` at :attr:`Analysis.openings`."""
    values = f" VALUES ?{analysis.variable} {{ {' '.join(sorted(written))} }}"
    for opening in sorted(analysis.openings, reverse=True):
        text = text[:opening] + values + text[opening:]
    return text


# --- which focus nodes a change can reach ------------------------------------------------

def _splits(path: object, predicate: str) -> list[tuple[list, list, bool]]:
    """Where a step along ``predicate`` can lie on ``path``: (the path before it, the path
    after it, whether the step is walked from object to subject). A path through a triple
    ``(s p o)`` walked forward goes from its start along the first part to ``s``, and from
    ``o`` along the second part to its end."""
    if isinstance(path, URIRef):
        return [([], [], False)] if str(path) == predicate else []
    if isinstance(path, InvPath):
        return [([InvPath(p) for p in reversed(after)], [InvPath(p) for p in reversed(before)],
                 not backwards) for before, after, backwards in _splits(path.arg, predicate)]
    if isinstance(path, SequencePath):
        found = []
        for index, part in enumerate(path.args):
            for before, after, backwards in _splits(part, predicate):
                found.append((list(path.args[:index]) + before,
                              after + list(path.args[index + 1:]), backwards))
        return found
    if isinstance(path, AlternativePath):
        return [split for part in path.args for split in _splits(part, predicate)]
    if isinstance(path, MulPath):
        around = [MulPath(path.path, "*")] if path.mod in ("*", "+") else []
        return [(around + before, after + around, backwards)
                for before, after, backwards in _splits(path.path, predicate)]
    return []


class _Graph:
    """Reads the graph before and after the change (every graph of the store)."""

    def __init__(self, store: pyoxigraph.Store, removed: list[pyoxigraph.Quad]) -> None:
        self.union = UnionView(store, removed, every_graph=True)

    def step(self, nodes: set, predicate: str, forward: bool) -> set:
        named = pyoxigraph.NamedNode(predicate)
        if forward:
            return {o for n in nodes for o in self.union.objects(n, named)}
        return {s for n in nodes for s in self.union.subjects(named, n)}

    def walk(self, nodes: set, steps: list, *, backwards: bool = False) -> set:
        for step in reversed(steps) if backwards else steps:
            nodes = walk_path(nodes, step, self.step, inverse=backwards)
        return nodes

    def bindings(self, pattern: _Pattern, variable: Variable, value: object
                 ) -> Iterator[dict[Variable, object]]:
        """The other variables' values in the matches of ``pattern`` with ``variable``
        bound to ``value``."""
        s, p, o = pattern.subject, pattern.predicate, pattern.object
        if isinstance(p, RdfPath):
            if s == variable:
                for end in walk_path({value}, p, self.step):
                    yield {o: end} if isinstance(o, Variable) else {}
            if o == variable:
                for start in walk_path({value}, p, self.step, inverse=True):
                    yield {s: start} if isinstance(s, Variable) else {}
            return
        constants = pattern.constants
        terms = [value if t == variable else constant
                 for t, constant in zip((s, p, o), constants, strict=True)]
        predicates = [terms[1]]
        if terms[1] is None and pattern.predicates is not None:
            predicates = [pyoxigraph.NamedNode(iri) for iri in sorted(pattern.predicates)]
        elif isinstance(terms[1], pyoxigraph.NamedNode) and pattern.predicates is not None \
                and terms[1].value not in pattern.predicates:
            return
        for predicate in predicates:
            for triple in self.union.triples(terms[0], predicate, terms[2]):
                binding = _match(pattern, triple, constants)
                if binding is not None:
                    yield binding


def _match(pattern: _Pattern, triple: tuple, constants: tuple | None = None
           ) -> dict[Variable, object] | None:
    """The variables' values if the (non-path) pattern matches the triple, else None."""
    binding: dict[Variable, object] = {}
    for term, constant, value in zip((pattern.subject, pattern.predicate, pattern.object),
                                     constants or pattern.constants, triple, strict=True):
        if isinstance(term, Variable):
            if binding.setdefault(term, value) != value:
                return None
        elif constant != value:
            return None
    if pattern.predicates is not None and triple[1].value not in pattern.predicates:
        return None
    return binding


def _seeds(graph: _Graph, pattern: _Pattern, triple: tuple, constants: tuple
           ) -> Iterator[dict[Variable, object]]:
    """The bindings of the pattern's variables when the changed triple is one of its matches
    (for a path, one step of it)."""
    if not isinstance(pattern.predicate, RdfPath):
        binding = _match(pattern, triple, constants)
        if binding is not None:
            yield binding
        return
    s, p, o = triple
    subject, value = (isinstance(t, Variable) for t in (pattern.subject, pattern.object))
    for before, after, backwards in _splits(pattern.predicate, p.value):
        first, last = (o, s) if backwards else (s, o)
        if not subject and not value:
            yield {}  # a condition on every row
        # A constant end is not checked: more nodes, never fewer.
        if subject:
            for start in graph.walk({first}, before, backwards=True):
                yield {pattern.subject: start}
        if value:
            for end in graph.walk({last}, after):
                yield {pattern.object: end}


def affected(store: pyoxigraph.Store, check: Check,
             added: bytes | Iterable[tuple[Identifier, Identifier, Identifier]] = b"",
             removed: bytes | Iterable[tuple[Identifier, Identifier, Identifier]] = b"",
             ) -> set[Identifier] | None:
    """The focus nodes whose rows of ``check`` can differ after a change (the module
    docstring gives the rule): run the check on these over the changed store, and keep the
    other nodes' rows from before.

    :param store: the store of the checks after the change (every graph is read: the
        change's graph is not asked for, so this reads more than a check's scope, never less).
    :param added: the triples the change added, as N-Triples text (blank-node labels as in
        the store) or rdflib triples; for a check of scope ``inferred`` or ``union`` the
        reasoner's changes to graph/inferred are part of the change.
    :param removed: the triples it removed, likewise.
    :returns: rdflib terms, as the check's rows hold them; None: any node (a check that runs
        in full, or a change that reaches every row).
    """
    analysis = analyse(check)
    if analysis.variable is None:
        return None
    focus = Variable(analysis.variable)
    gone = change_quads(removed, encoded=False)
    changed = [(q.subject, q.predicate, q.object)
               for q in change_quads(added, encoded=False) + gone]
    graph = _Graph(store, gone)
    patterns = analysis.patterns
    constants = [pattern.constants for pattern in patterns]
    by_variable: dict[Variable, list[int]] = {}
    by_predicate: dict[str | None, list[int]] = {}
    for index, pattern in enumerate(patterns):
        for variable in pattern.variables():
            by_variable.setdefault(variable, []).append(index)
        for iri in pattern.iris() or [None]:
            by_predicate.setdefault(iri, []).append(index)
    alias_of: dict[Variable, set[Variable]] = {}
    for one, two in analysis.aliases:
        alias_of.setdefault(one, set()).add(two)
        alias_of.setdefault(two, set()).add(one)
    reaching = _component(focus, patterns, alias_of)
    # A pattern of a confined MINUS group: its group, and the variables linked to the focus
    # variable through the group's patterns.
    confined: dict[int, tuple[frozenset[int], set[Variable]]] = {}
    for group in analysis.confined:
        linked = _component(focus, [patterns[index] for index in group], alias_of)
        for index in group:
            confined[index] = (group, linked)

    # A state: a variable, its value, the patterns matched on the way from the changed
    # triple (a route uses each pattern once: a solution matches it with one triple), and
    # those it may match next (None: any).
    found: set[Identifier] = set()
    routes: dict[tuple[Variable, object, frozenset[int] | None], list[frozenset[int]]] = {}
    todo: list[tuple[Variable, object, frozenset[int], frozenset[int] | None]] = []

    def reach(variable: Variable, value: object, used: frozenset[int],
              within: frozenset[int] | None) -> None:
        if variable == focus:
            # The row's focus is its value here: going on finds no other.
            found.add(to_rdflib(value))
            return
        known = routes.setdefault((variable, value, within), [])
        if not any(other <= used for other in known):  # else a shorter route came here
            known.append(used)
            todo.append((variable, value, used, within))

    for triple in changed:
        for index in by_predicate.get(triple[1].value, []) + by_predicate.get(None, []):
            within, linked = confined.get(index, (None, reaching))
            for binding in _seeds(graph, patterns[index], triple, constants[index]):
                if not set(binding) & linked:
                    return None  # a condition every row shares
                if focus in binding:  # every row the pattern helps make is that node's
                    binding = {focus: binding[focus]}
                for variable, value in binding.items():
                    reach(variable, value, frozenset({index}), within)
    while todo:
        variable, value, used, within = todo.pop()
        for other in alias_of.get(variable, ()):
            reach(other, value, used, within)
        for index in by_variable.get(variable, ()):
            if index not in used and (within is None or index in within):
                for binding in graph.bindings(patterns[index], variable, value):
                    for other, term in binding.items():
                        if other != variable:
                            reach(other, term, used | {index}, within)
    return found


def _component(focus: Variable, patterns: list[_Pattern],
               alias_of: dict[Variable, set[Variable]]) -> set[Variable]:
    """The variables linked to the focus variable through patterns and aliases."""
    reached, todo = {focus}, [focus]
    while todo:
        variable = todo.pop()
        linked = set(alias_of.get(variable, ()))
        for pattern in patterns:
            if variable in pattern.variables():
                linked |= pattern.variables()
        for other in linked - reached:
            reached.add(other)
            todo.append(other)
    return reached

