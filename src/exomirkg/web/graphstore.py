"""/store: the SPARQL 1.1 Graph Store HTTP Protocol, read-only (GET and HEAD).

What Oxigraph's and Fuseki's users fetch a graph with: ``GET /store?graph=IRI`` gives one
named graph, ``GET /store?default`` the default graph (here the union of all graphs, as at
/sparql), and ``GET /store`` with neither the whole dataset as TriG or N-Quads. Writes (PUT,
POST, DELETE, PATCH) are refused with 405. A graph is sent whole, never cut at the row cap:
a partial graph would pass for the graph; its size is bounded by the data, not the request.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import pyoxigraph
from flask import Blueprint, Response, request

from exomirkg.sparql import negotiation
from exomirkg.sparql.negotiation import DATASET_FORMATS, DATASET_TYPES, GRAPH_FORMATS
from exomirkg.sparql.rdfout import union_triples, write_rdf
from exomirkg.web.helpers import choose_media, plain_error
from exomirkg.web.state import get_state

__all__ = ["bp"]

bp = Blueprint("graphstore", __name__)

_ALLOW = "GET, HEAD, OPTIONS"


def _serialize(items: Iterable[Any], fmt: pyoxigraph.RdfFormat) -> tuple[bytes, int]:
    """The serialised items and how many there were (streamed: no list of a whole graph)."""
    count = 0

    def counted() -> Iterator[Any]:
        nonlocal count
        for item in items:
            count += 1
            yield item

    return write_rdf(counted(), fmt), count


@bp.route("/store", methods=["GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS"])
def store() -> Response:
    """One graph, the default graph, or the whole dataset, in the negotiated format."""
    if request.method == "OPTIONS":
        return Response(status=204, headers={"Allow": _ALLOW})
    if request.method not in ("GET", "HEAD"):
        return plain_error(405, f"{request.method} would change the data: this Graph Store is "
                                "read-only (GET and HEAD)", Allow=_ALLOW)
    graphs = request.args.getlist("graph")
    default = "default" in request.args
    if len(graphs) > 1 or (graphs and default):
        return plain_error(400, "ask for one graph: either ?graph=IRI or ?default")
    state = get_state()
    if not graphs and not default:
        media = choose_media(DATASET_TYPES)
        if media is None:
            return plain_error(406, "the dataset is available as " + ", ".join(DATASET_FORMATS))
        quads = state.store.quads_for_pattern(None, None, None, None)
        return _answer(*_serialize(quads, DATASET_FORMATS[media]), media)
    media = choose_media(negotiation.GRAPH_TYPES)
    if media is None:
        return plain_error(406, "a graph is available as " + ", ".join(negotiation.GRAPH_TYPES))
    if default:
        # The default graph is the union of the named graphs, each triple once.
        return _answer(*_serialize(union_triples(state.store), GRAPH_FORMATS[media]), media)
    name = graphs[0]
    try:
        graph = pyoxigraph.NamedNode(name)
    except ValueError:
        return plain_error(400, f"graph {name!r} is not an absolute IRI")
    if name not in state.graph_names:
        return plain_error(404, f"no graph named <{name}>; the named graphs are listed in the "
                                "Service Description (GET /sparql)")
    triples = (pyoxigraph.Triple(q.subject, q.predicate, q.object)
               for q in state.store.quads_for_pattern(None, None, None, graph))
    return _answer(*_serialize(triples, GRAPH_FORMATS[media]), media)


def _answer(body: bytes, count: int, media: str) -> Response:
    response = Response(body, mimetype=media)
    response.headers["X-Exomirkg-Rows"] = str(count)
    response.vary.add("Accept")
    return response
