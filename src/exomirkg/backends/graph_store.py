"""Put the built dataset, named graphs kept, into an external engine over HTTP.

Two ways, chosen by ``method``:

- ``graphs``: the SPARQL 1.1 Graph Store HTTP Protocol, one ``PUT ?graph=IRI`` per named
  graph (replaces each graph). Works with any engine that implements the protocol, e.g.
  Virtuoso's ``/sparql-graph-crud-auth`` (digest auth as dba) or Oxigraph's ``/store``.
  A blank node shared by two graphs becomes two nodes (each request has its own blank node
  scope); the count is reported.
- ``dataset``: one ``POST`` of the whole dataset as N-Quads (Oxigraph's ``/store``), which
  keeps shared blank nodes. Chosen automatically for a URL ending in ``/store``.
"""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph

__all__ = ["LoadError", "LoadReport", "load_into"]


class LoadError(RuntimeError):
    """The engine refused the data or could not be reached."""


@dataclass
class LoadReport:
    """What was sent."""

    graphs: int
    triples: int
    shared_blank_nodes: int
    method: str


def _opener(url: str, user: str | None, password: str | None) -> urllib.request.OpenerDirector:
    if user is None:
        return urllib.request.build_opener()
    manager = urllib.request.HTTPPasswordMgrWithDefaultRealm()
    manager.add_password(None, url, user, password or "")
    # Digest for Virtuoso's /sparql-graph-crud-auth, basic for engines behind a proxy.
    return urllib.request.build_opener(urllib.request.HTTPDigestAuthHandler(manager),
                                       urllib.request.HTTPBasicAuthHandler(manager))


def _send(opener: urllib.request.OpenerDirector, method: str, url: str, body: bytes,
          media: str, timeout: float) -> None:
    req = urllib.request.Request(url, data=body, method=method, headers={"Content-Type": media})
    try:
        with opener.open(req, timeout=timeout) as response:
            response.read()
    except urllib.error.HTTPError as error:
        text = " ".join(error.read().decode("utf-8", "replace").split())[:400]
        hint = " (wrong --user/--password?)" if error.code in (401, 403) else ""
        raise LoadError(f"{method} {url} answered HTTP {error.code}{hint}: {text}") from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise LoadError(f"cannot reach {url}: {reason}; is the engine running?") from None


def _shared_blank_nodes(store: pyoxigraph.Store) -> int:
    seen: dict[str, set[str]] = defaultdict(set)
    for quad in store:
        for term in (quad.subject, quad.object):
            if isinstance(term, pyoxigraph.BlankNode):
                seen[term.value].add(str(quad.graph_name))
    return sum(1 for graphs in seen.values() if len(graphs) > 1)


def load_into(url: str, trig: Path, *, user: str | None = None, password: str | None = None,
              method: str = "auto", timeout: float = 600.0,
              progress: Callable[[str], None] | None = None) -> LoadReport:
    """Send the dataset in ``trig`` to the engine at ``url``.

    :param url: a Graph Store Protocol endpoint (``http://HOST:PORT/sparql-graph-crud-auth``,
        ``http://HOST:PORT/store``).
    :param method: ``graphs`` (PUT per named graph), ``dataset`` (POST N-Quads) or ``auto``.
    :raises LoadError: with the engine's answer.
    """
    if not urllib.parse.urlsplit(url).scheme.startswith("http"):
        raise LoadError(f"{url} is not an http(s) URL of a Graph Store endpoint")
    if not trig.is_file():
        raise LoadError(f"{trig} does not exist: run `exomirkg build` first")
    if method == "auto":
        method = "dataset" if urllib.parse.urlsplit(url).path.rstrip("/").endswith("/store") \
            else "graphs"
    store = pyoxigraph.Store()
    store.bulk_load(path=str(trig), format=pyoxigraph.RdfFormat.TRIG)
    opener = _opener(url, user, password)
    names = sorted(g.value for g in store.named_graphs() if isinstance(g, pyoxigraph.NamedNode))
    if method == "dataset":
        body = pyoxigraph.serialize(store, format=pyoxigraph.RdfFormat.N_QUADS) or b""
        _send(opener, "POST", url, body, "application/n-quads", timeout)
        return LoadReport(len(names), len(store), 0, method)
    if method != "graphs":
        raise LoadError(f"unknown method {method!r}: use graphs, dataset or auto")
    separator = "&" if "?" in url else "?"
    for name in names:
        triples = [pyoxigraph.Triple(q.subject, q.predicate, q.object)
                   for q in store.quads_for_pattern(None, None, None, pyoxigraph.NamedNode(name))]
        body = pyoxigraph.serialize(triples, format=pyoxigraph.RdfFormat.N_TRIPLES) or b""
        target = f"{url}{separator}{urllib.parse.urlencode({'graph': name})}"
        # text/turtle: every Graph Store implementation reads it, and N-Triples is Turtle.
        _send(opener, "PUT", target, body, "text/turtle", timeout)
        if progress:
            progress(f"put {len(triples):>7} triples  {name}")
    return LoadReport(len(names), len(store), _shared_blank_nodes(store), method)
