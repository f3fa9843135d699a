"""An external SPARQL 1.1 engine (Virtuoso, Oxigraph server, ...) behind the same interface.

Two duck types let the app run unchanged on an engine reached over the SPARQL Protocol:

- :class:`SparqlHttpStore` answers the read calls the app makes on a ``pyoxigraph.Store``
  (``query`` with the union / dataset / substitution arguments, ``len``, ``named_graphs``)
  and returns pyoxigraph result objects parsed from the engine's answer;
- :class:`SparqlHttpEngine` answers :meth:`run` like :class:`exomirkg.sparql.engine.QueryEngine`,
  writing results with the same serialisers, so formats, caps and truncation notes match.

Safety rules stay in the web layer (read-only, no SERVICE/LOAD), which checks every query
before it reaches an engine; this module adds its own check as a second line. Engine quirks:

- Virtuoso silently cuts results at ``ResultSetMaxRows`` and says so only in an
  ``X-SPARQL-MaxRows`` response header; any cut by the engine is reported as a truncation.
- Virtuoso's "anytime" partial answers (``X-SQL-State: S1TAT``) are reported as a timeout.
- Virtuoso's default graph also holds its system graphs; when the dataset's graph names are
  known the union is asked for explicitly (``default-graph-uri`` for each name).
"""

from __future__ import annotations

import logging
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pyoxigraph

from exomirkg.namespaces import XSD
from exomirkg.sparql.engine import EngineTimeout, Job, Outcome, Parker
from exomirkg.sparql.guard import inspect_query, lex
from exomirkg.sparql.negotiation import rdf_format

__all__ = [
    "PING_TIMEOUT",
    "BackendUnavailable",
    "DistinctSolutions",
    "SparqlHttpEngine",
    "SparqlHttpStore",
    "endpoint_url",
]

log = logging.getLogger(__name__)

#: What we ask the engine for: formats every SPARQL 1.1 engine writes and pyoxigraph reads.
_SOLUTIONS_MEDIA = "application/sparql-results+json"
_JSON = pyoxigraph.QueryResultsFormat.JSON
_GRAPH_MEDIA = "application/n-triples"
#: Seconds to wait for a TCP connection (a dead host fails fast, never hangs).
CONNECT_TIMEOUT = 3.0
#: Seconds a health check waits for the engine's ``ASK {}`` (connection and answer).
PING_TIMEOUT = 2.0
#: Markers of a syntax error in an engine's error body (Virtuoso answers 500 with these).
_SYNTAX_MARKERS = ("SP030", "SP031", "37000", "syntax error", "Parse error", "parse error")
#: Virtuoso names blank nodes nodeID://b123 in results and accepts <nodeID://b123> in queries.
_VIRTUOSO_BNODE = "nodeID://"
_XSD_BOOLEAN = str(XSD.boolean)
#: Virtuoso stores xsd:boolean as an integer and writes it back as 0/1.
_BOOLEAN_FORMS = {"0": "false", "1": "true"}
_TIMEOUT_MARKERS = ("S1T00", "exceeds the limit", "timeout", "Timeout")


class BackendUnavailable(ConnectionError):
    """The external engine cannot be reached, or failed in a way that is not the query's.

    Not a RuntimeError on purpose: it passes the views' generic handlers and reaches the
    app's handler (``exomirkg.web.helpers.install``), which answers 503.
    """


def endpoint_url(backend: str) -> str:
    """The HTTP URL of a ``sparql+http(s)://HOST:PORT/PATH`` backend setting.

    >>> endpoint_url("sparql+http://127.0.0.1:8890/sparql")
    'http://127.0.0.1:8890/sparql'

    :raises ValueError: when the setting is not of that form.
    """
    if not backend.startswith(("sparql+http://", "sparql+https://")):
        raise ValueError(f"backend {backend!r} is not sparql+http://HOST:PORT/PATH")
    url = backend[len("sparql+"):]
    parts = urllib.parse.urlsplit(url)
    if not parts.hostname:
        raise ValueError(f"backend {backend!r} has no host")
    return url


def _nn(term: Any) -> str:
    return term.value if isinstance(term, pyoxigraph.NamedNode) else str(term)


def _sparql_term(term: Any) -> str:
    """A pyoxigraph term in SPARQL syntax (its ``str`` is N-Triples, which SPARQL accepts)."""
    return str(term)


def bind_values(query: str, substitutions: Mapping[Any, Any]) -> str:
    """Pre-bind variables (SEP-0007) by a VALUES block opening the WHERE group.

    The protocol has no pre-binding, and a trailing VALUES clause does not work everywhere
    (Virtuoso applies it after projection). A VALUES block first in the WHERE group joins
    the bindings with the whole pattern, which is what substitution does for page queries.

    >>> bind_values("SELECT ?l WHERE { ?d <p> ?l }", {"d": pyoxigraph.NamedNode("http://x/")})
    'SELECT ?l WHERE { VALUES (?d) { (<http://x/>) } ?d <p> ?l }'
    """
    names = list(substitutions)
    head = " ".join(f"?{getattr(v, 'value', v)}" for v in names)
    row = " ".join(_sparql_term(substitutions[v]) for v in names)
    block = f" VALUES ({head}) {{ ({row}) }}"
    tokens = list(lex(query))
    start = 0
    for index, (kind, token, _) in enumerate(tokens):
        if kind == "word" and token.upper() == "WHERE":
            start = index
            break
    for kind, token, end in tokens[start:]:
        if kind == "other" and token == "{":
            return query[:end] + block + query[end:]
    raise ValueError("cannot pre-bind variables: the query has no WHERE group")


@dataclass
class Answer:
    """An engine's reply: body, media type and the quirk signals read from its headers."""

    body: bytes
    media: str
    engine_cut: bool = False


class SparqlHttpStore:
    """The read API of ``pyoxigraph.Store`` over the SPARQL 1.1 Protocol."""

    def __init__(self, url: str, *, graphs: Iterable[str] | None = None,
                 timeout: float = 30.0, connect_timeout: float = CONNECT_TIMEOUT) -> None:
        """Point at an engine.

        :param url: ``sparql+http://HOST:PORT/sparql`` or a plain ``http(s)://`` endpoint URL.
        :param graphs: the dataset's named graphs; the union default graph is asked for as
            exactly these (keeps an engine's own system graphs out). ``None``: the engine's
            default graph is taken as the union (e.g. ``oxigraph serve --union-default-graph``).
        :param timeout: seconds an answer may take.
        """
        self.url = endpoint_url(url) if url.startswith("sparql+") else url
        self.graphs = tuple(graphs) if graphs is not None else None
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        #: Set when the engine says it is Virtuoso (blank nodes can then be named in queries).
        self.virtuoso = False

    # -- transport ---------------------------------------------------------------------------

    def _reachable(self, connect_timeout: float | None = None) -> None:
        """Fail fast (within ``connect_timeout``) when nothing listens at the endpoint."""
        parts = urllib.parse.urlsplit(self.url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        limit = self.connect_timeout if connect_timeout is None else connect_timeout
        try:
            socket.create_connection((parts.hostname, port), limit).close()
        except OSError as error:
            raise BackendUnavailable(
                f"the SPARQL engine at {self.url} cannot be reached ({error}); start it (e.g. "
                "scripts/virtuoso.sh start DIR PORT) or fix the BACKEND setting") from None

    def request(self, query: str, accept: str, *, params: Mapping[str, Any] | None = None,
                timeout: float | None = None, connect_timeout: float | None = None) -> Answer:
        """POST ``query`` (form encoded) and return the engine's answer.

        :raises SyntaxError: the engine rejected the query text.
        :raises EngineTimeout: the engine ran out of time, or sent a partial "anytime" answer.
        :raises BackendUnavailable: the engine is unreachable or failed.
        """
        self._reachable(connect_timeout)
        fields: list[tuple[str, str]] = [("query", query)]
        for key, value in (params or {}).items():
            values = value if isinstance(value, (list, tuple)) else [value]
            fields += [(key, str(v)) for v in values]
        data = urllib.parse.urlencode(fields).encode("utf-8")
        req = urllib.request.Request(self.url, data=data, method="POST", headers={
            "Accept": accept, "Content-Type": "application/x-www-form-urlencoded"})
        limit = self.timeout if timeout is None else timeout
        try:
            with urllib.request.urlopen(req, timeout=limit) as response:  # noqa: S310
                body = response.read()
                headers = response.headers
        except urllib.error.HTTPError as error:
            text = error.read().decode("utf-8", "replace").strip()
            first = " ".join(text.split())[:600]
            if error.code == 400 or any(m in text for m in _SYNTAX_MARKERS):
                raise SyntaxError(first or f"HTTP {error.code}") from None
            if any(m in text for m in _TIMEOUT_MARKERS):
                raise EngineTimeout from None
            raise BackendUnavailable(
                f"the SPARQL engine at {self.url} answered HTTP {error.code}: {first}") from None
        except TimeoutError:
            raise EngineTimeout from None
        except urllib.error.URLError as error:
            if isinstance(error.reason, TimeoutError):
                raise EngineTimeout from None
            raise BackendUnavailable(
                f"the SPARQL engine at {self.url} cannot be reached ({error.reason})") from None
        except (ConnectionError, OSError) as error:
            raise BackendUnavailable(
                f"the SPARQL engine at {self.url} dropped the connection ({error})") from None
        if headers.get("X-SQL-State") == "S1TAT":
            # Virtuoso's anytime query: a partial answer that is not a prefix of the full one.
            raise EngineTimeout
        media = (headers.get_content_type() or "").lower()
        self.virtuoso = self.virtuoso or "virtuoso" in (headers.get("Server") or "").lower()
        return Answer(body=body, media=media, engine_cut="X-SPARQL-MaxRows" in headers)

    # -- the pyoxigraph.Store read API ---------------------------------------------------------

    def _dataset_params(self, use_default_graph_as_union: bool, default_graph: Any,
                        named_graphs: Any) -> dict[str, list[str]]:
        if default_graph is not None or named_graphs is not None:
            defaults = default_graph if isinstance(default_graph, list) else (
                [] if default_graph is None else [default_graph])
            return {"default-graph-uri": [_nn(g) for g in defaults],
                    "named-graph-uri": [_nn(g) for g in named_graphs or []]}
        if use_default_graph_as_union and self.graphs is not None:
            return {"default-graph-uri": list(self.graphs), "named-graph-uri": list(self.graphs)}
        return {}

    def query_answer(self, query: str, *, use_default_graph_as_union: bool = False,
                     default_graph: Any = None, named_graphs: Any = None,
                     substitutions: Mapping[Any, Any] | None = None,
                     timeout: float | None = None) -> tuple[Any, bool]:
        """Like :meth:`query`, and also whether the engine cut the answer short."""
        shape = inspect_query(query)
        if shape.is_update or shape.has_service:
            # Second line of defence; the web layer refuses these with a 403 first.
            raise PermissionError("updates, LOAD and SERVICE are never sent to the engine")
        if substitutions:
            query = bind_values(query, substitutions)
        params = self._dataset_params(use_default_graph_as_union, default_graph, named_graphs)
        if shape.form in ("CONSTRUCT", "DESCRIBE"):
            answer = self.request(query, _GRAPH_MEDIA, params=params, timeout=timeout)
            quads = pyoxigraph.parse(answer.body, format=_graph_format(answer.media))
            triples = (pyoxigraph.Triple(q.subject, q.predicate, _canonical(q.object))
                       for q in quads)
            return triples, answer.engine_cut
        answer = self.request(query, _SOLUTIONS_MEDIA, params=params, timeout=timeout)
        fmt = (pyoxigraph.QueryResultsFormat.XML if "xml" in answer.media
               else pyoxigraph.QueryResultsFormat.JSON)
        body = answer.body
        if fmt == pyoxigraph.QueryResultsFormat.JSON and (b'"bnode"' in body
                                                          or _XSD_BOOLEAN.encode() in body):
            body = _normalise_json(body)
        try:
            result = pyoxigraph.parse_query_results(body, format=fmt)
        except (SyntaxError, ValueError) as error:
            raise BackendUnavailable(f"the SPARQL engine at {self.url} sent an unreadable "
                                     f"result ({error})") from None
        if _is_select_distinct(query) and isinstance(result, pyoxigraph.QuerySolutions):
            result = DistinctSolutions(result)
        return result, answer.engine_cut

    def query(self, query: str, **kwargs: Any) -> Any:
        """Evaluate a query on the engine; returns pyoxigraph result objects.

        Accepts pyoxigraph's ``use_default_graph_as_union``, ``default_graph``,
        ``named_graphs`` and ``substitutions`` arguments.
        """
        return self.query_answer(query, **kwargs)[0]

    def _pattern_term(self, term: Any, var: str) -> str:
        if term is None:
            return var
        if isinstance(term, pyoxigraph.BlankNode):
            if not self.virtuoso:
                raise LookupError("this engine cannot look up a blank node by its label")
            return f"<{_VIRTUOSO_BNODE}{term.value}>"
        return str(term)

    def quads_for_pattern(self, subject: Any = None, predicate: Any = None, object: Any = None,
                          graph_name: Any = None) -> Iterator[pyoxigraph.Quad]:
        """The quads matching a pattern (``None`` is a wildcard), as pyoxigraph's Store has.

        :raises BackendUnavailable: when the engine cut the answer short (a partial download
            must never pass for the whole dataset).
        """
        try:
            s, p, o = (self._pattern_term(t, v) for t, v in
                       ((subject, "?s"), (predicate, "?p"), (object, "?o")))
            g = self._pattern_term(graph_name, "?g")
        except LookupError:
            return iter(())
        query = f"SELECT ?s ?p ?o ?g WHERE {{ GRAPH {g} {{ {s} {p} {o} }} }}"
        params = ({"default-graph-uri": list(self.graphs), "named-graph-uri": list(self.graphs)}
                  if self.graphs is not None else None)
        answer = self.request(query, _SOLUTIONS_MEDIA, params=params)
        if answer.engine_cut:
            raise BackendUnavailable(
                f"the SPARQL engine at {self.url} cut this answer at its own row limit "
                "(Virtuoso: ResultSetMaxRows); raise that limit to serve whole-dataset downloads")
        body = _normalise_json(answer.body)
        fixed = (subject, predicate, object, graph_name)

        def quads() -> Iterator[pyoxigraph.Quad]:
            for row in pyoxigraph.parse_query_results(body, format=_JSON):
                terms = [fixed[i] if fixed[i] is not None else row[i] for i in range(4)]
                yield pyoxigraph.Quad(*terms)

        return quads()

    def dump(self, *, format: pyoxigraph.RdfFormat,
             from_graph: pyoxigraph.NamedNode) -> bytes | None:
        """One graph's triples written in ``format``, as pyoxigraph's ``Store.dump`` with
        ``from_graph`` gives them (the ontology release reads its graphs so)."""
        return pyoxigraph.serialize(
            (pyoxigraph.Triple(q.subject, q.predicate, q.object)
             for q in self.quads_for_pattern(None, None, None, from_graph)), format=format)

    def __len__(self) -> int:
        result = self.query("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }",
                            use_default_graph_as_union=True)
        for row in result:
            return int(row[0].value)
        return 0

    def named_graphs(self) -> Iterator[pyoxigraph.NamedNode]:
        """The dataset's named graphs (the configured list when one was given)."""
        if self.graphs is not None:
            return iter(pyoxigraph.NamedNode(g) for g in self.graphs)
        result = self.query("SELECT DISTINCT ?g WHERE { GRAPH ?g { } }")
        return iter([row[0] for row in result])

    def contains_named_graph(self, graph: Any) -> bool:
        """Whether the dataset has a named graph of that name."""
        name = _nn(graph)
        if self.graphs is not None:
            return name in self.graphs
        return bool(self.query(f"ASK {{ GRAPH <{name}> {{ ?s ?p ?o }} }}"))

    def ping(self, timeout: float = PING_TIMEOUT) -> None:
        """Ask the engine ``ASK {}``: cheap on any engine, and proof that it answers queries.

        :param timeout: seconds for the connection and for the answer (``/health`` keeps it
            short: a health check must not hang on a stuck engine).
        :raises BackendUnavailable: with a sentence saying what is wrong.
        """
        try:
            answer = self.request("ASK {}", _SOLUTIONS_MEDIA, timeout=timeout,
                                  connect_timeout=min(self.connect_timeout, timeout))
            fmt = (pyoxigraph.QueryResultsFormat.XML if "xml" in answer.media else _JSON)
            result = pyoxigraph.parse_query_results(answer.body, format=fmt)
        except EngineTimeout:
            raise BackendUnavailable(f"the SPARQL engine at {self.url} did not answer ASK {{}} "
                                     f"within {timeout:g} s") from None
        except (SyntaxError, ValueError) as error:
            raise BackendUnavailable(f"{self.url} does not look like a SPARQL endpoint: "
                                     f"{error}") from None
        if not isinstance(result, pyoxigraph.QueryBoolean):
            raise BackendUnavailable(f"{self.url} answered ASK {{}} with something other than "
                                     "a boolean: it does not look like a SPARQL endpoint")

    def check(self) -> int:
        """Ask the engine for its triple count; the app calls this at start.

        :raises BackendUnavailable: with a sentence saying what to fix.
        """
        try:
            return len(self)
        except EngineTimeout:
            raise BackendUnavailable(f"the SPARQL engine at {self.url} did not answer a count "
                                     f"within {self.timeout:g} s") from None
        except SyntaxError as error:
            raise BackendUnavailable(f"{self.url} does not look like a SPARQL endpoint: "
                                     f"{error}") from None


def _is_select_distinct(query: str) -> bool:
    """Whether the top-level query is ``SELECT DISTINCT`` (its first SELECT is top-level)."""
    words = [token.upper() for kind, token, _ in lex(query) if kind == "word"]
    for index, word in enumerate(words[:-1]):
        if word == "SELECT":
            return words[index + 1] == "DISTINCT"
    return False


class DistinctSolutions:
    """Solutions with duplicates dropped, keeping order (``QuerySolutions``' read API).

    Virtuoso 7.2 leaves duplicate rows in a ``SELECT DISTINCT`` when a projected variable is
    unbound (an OPTIONAL that did not match); the rows are deduplicated again here.
    """

    def __init__(self, solutions: pyoxigraph.QuerySolutions) -> None:
        self.variables = solutions.variables
        self._solutions = solutions

    def __iter__(self) -> Iterator[Any]:
        seen: set[tuple[str, ...]] = set()
        width = len(self.variables)
        for row in self._solutions:
            key = tuple(str(row[i]) for i in range(width))
            if key not in seen:
                seen.add(key)
                yield row


def _normalise_json(body: bytes) -> bytes:
    """Undo two Virtuoso habits in JSON results.

    Blank node labels pyoxigraph refuses (``nodeID://b10001``) get a safe label, and
    booleans stored as integers (``"0"^^xsd:boolean``) get their canonical form.
    """
    import json
    import re

    doc = json.loads(body)
    for row in doc.get("results", {}).get("bindings", []):
        for term in row.values():
            if term.get("type") == "bnode":
                label = term["value"].removeprefix(_VIRTUOSO_BNODE)
                term["value"] = re.sub(r"[^A-Za-z0-9_]", "_", label)
            elif term.get("datatype") == _XSD_BOOLEAN:
                term["value"] = _BOOLEAN_FORMS.get(term["value"], term["value"])
    return json.dumps(doc).encode("utf-8")


def _canonical(term: Any) -> Any:
    if isinstance(term, pyoxigraph.Literal) and term.datatype.value == _XSD_BOOLEAN:
        value = _BOOLEAN_FORMS.get(term.value)
        if value is not None:
            return pyoxigraph.Literal(value, datatype=term.datatype)
    return term


def _graph_format(media: str) -> pyoxigraph.RdfFormat:
    try:
        return rdf_format(media)
    except KeyError:
        # Engines label N-Triples text/plain (or not at all); N-Triples is the safe reading.
        return pyoxigraph.RdfFormat.N_TRIPLES


class SparqlHttpEngine:
    """:class:`exomirkg.sparql.engine.QueryEngine`'s ``run`` over an external engine."""

    def __init__(self, store: SparqlHttpStore, *, size: int = 4, timeout: float = 30.0,
                 prefixes: Mapping[str, str] | None = None) -> None:
        """Wrap a store.

        :param size: how many queries the app sends at once (reported in busy messages).
        :param timeout: default seconds per query.
        """
        self.store = store
        self.size = size
        self.timeout = timeout
        self.prefixes = dict(prefixes or {})
        self.kills = 0

    def start(self) -> None:
        """Nothing to start (the engine is not ours); the app checks it once when built.

        Never raises: a server's worker must come up and answer 503 until the engine does.
        """

    def close(self) -> None:
        """Nothing to stop: the engine is not ours."""

    def run(self, job: Job, timeout: float | None = None, *,
            deadline: float | None = None, parker: Parker | None = None) -> Outcome:
        """Evaluate ``job`` on the engine and write the answer as the embedded path does.

        :param deadline: ``time.monotonic()`` by which the answer must be in (wins over
            ``timeout``), as for the embedded pool.
        :param parker: not used: the web layer calls an external engine from a thread only.

        :raises EngineTimeout: the engine ran out of time (or sent a partial answer).
        :raises BackendUnavailable: the engine is unreachable or failed.
        """
        from exomirkg.sparql import results
        from exomirkg.sparql.guard import QueryRefused, verify

        shape = inspect_query(job.query)
        if not (shape.is_update or shape.has_service):  # the store refuses those itself
            try:
                # Wall (a), the parser's verdict, before anything reaches the engine. Wall
                # (b), no network from the query process, is the engine's: docs/scale.md.
                verify(job.query)
            except QueryRefused as refused:
                if refused.status == 400:
                    return Outcome("syntax", message=refused.message.removeprefix(
                        "malformed query: "))
                return Outcome("refused", message=refused.message, status=refused.status)
        kwargs: dict[str, Any] = {}
        if job.default_graphs is not None or job.named_graphs is not None:
            kwargs["default_graph"] = [pyoxigraph.NamedNode(n) for n in job.default_graphs or ()]
            kwargs["named_graphs"] = [pyoxigraph.NamedNode(n) for n in job.named_graphs or ()]
        elif job.union:
            kwargs["use_default_graph_as_union"] = True
        if deadline is not None:
            timeout = max(0.001, deadline - time.monotonic())
        try:
            answer, engine_cut = self.store.query_answer(
                job.query, timeout=self.timeout if timeout is None else timeout, **kwargs)
        except SyntaxError as error:
            return Outcome("syntax", message=str(error))
        except PermissionError as error:
            return Outcome("error", message=str(error))
        cap = job.row_cap
        if isinstance(answer, pyoxigraph.QueryBoolean):
            written = results.write_boolean(bool(answer), job.media)
        else:
            items = list(answer)
            if engine_cut and len(items) <= cap:
                # The engine stopped early without an error: never pass that on as a full
                # answer. Cut one row below what it sent, so the serialiser writes the note.
                log.warning("engine cut the answer at %d rows (below the cap of %d)",
                            len(items), cap)
                cap = max(len(items) - 1, 0)
            if hasattr(answer, "variables"):
                names = [v.value for v in answer.variables]
                written = results.write_solutions(names, iter(items), job.media, cap)
            else:
                written = results.write_graph(iter(items), job.media, cap, self.prefixes)
        return Outcome("ok", body=written.body, rows=written.rows, truncated=written.truncated)
