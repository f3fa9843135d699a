"""The query core, free of Flask: guard, killable engine pool, sandbox, result and RDF writers,
media types. ``web`` and ``backends`` build on it; it imports neither.

A query process (``python -m exomirkg.sparql.engine``) imports only this package, rdflib's
parser and pyoxigraph, so a respawn does not pay for Flask.
"""
