"""Downloads: the list, one file, and SHA256SUMS (the files: :mod:`exomirkg.web.artefacts`).

Files go out with ETag, Last-Modified, gzip and CORS (:mod:`exomirkg.web.delivery`).
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, url_for

from exomirkg.downloads import CATALOGUE, Download
from exomirkg.web.artefacts import downloads
from exomirkg.web.delivery import cors_for_data, send
from exomirkg.web.graphdata import quote_input
from exomirkg.web.state import get_state

__all__ = ["bp"]

bp = Blueprint("downloads", __name__)
cors_for_data(bp)

#: Downloads holding the same statements in another format (``Link: rel=alternate``).
_SAME_CONTENT = [("exomirkg.trig", "exomirkg.jsonld"),
                 ("exomirkg.ttl", "exomirkg.nt", "exomirkg.rdf"), ("findings.tsv", "findings.csv")]
#: RDF dumps: VoID describes them (``Link: rel=describedby``).
_RDF_DUMPS = {"exomirkg.trig", "exomirkg.jsonld", "exomirkg.ttl", "exomirkg.nt", "exomirkg.rdf"}


def _links(item: Download) -> list[tuple[str, str, str | None]]:
    media = {name: media_type for name, _title, media_type in CATALOGUE}
    links: list[tuple[str, str, str | None]] = [
        (url_for(".file", name=other), "alternate", media[other])
        for group in _SAME_CONTENT if item.name in group for other in group
        if other != item.name]
    if item.name in _RDF_DUMPS:
        links.append((url_for("sparql.void"), "describedby", "text/turtle"))
    return links


@bp.route("/download")
def page() -> str:
    """The list of downloads with size, sha256 and data version."""
    info = get_state().info
    return render_template("download.html", title="Downloads", files=list(downloads().values()),
                           version=info.get("version"), built=info.get("built"))


@bp.route("/download/<name>")
def file(name: str) -> Response:
    """One download, as an attachment, with its checksum and the data version in headers."""
    item = downloads().get(name)
    if item is None:
        abort(404, description=f"No download called {quote_input(name)!r}; see /download.")
    response = send(item.body, item.media_type, digest=item.sha256, gzipped=item.gzipped,
                    links=_links(item))
    response.headers["Content-Disposition"] = f'attachment; filename="{item.name}"'
    response.headers["X-Checksum-Sha256"] = item.sha256
    response.headers["X-Data-Version"] = str(get_state().info.get("version", ""))
    return response


@bp.route("/download/SHA256SUMS")
def checksums() -> Response:
    """``sha256sum -c`` compatible list of the downloads (the same in every worker)."""
    body = "".join(f"{d.sha256}  {d.name}\n" for d in downloads().values())
    return send(body.encode("utf-8"), "text/plain")
