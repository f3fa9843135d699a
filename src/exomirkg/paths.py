"""Where the data folders and build outputs live, in a checkout or an installed wheel."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "BUILD_DIR",
    "CHECKS_DIR",
    "DATA_ROOT",
    "ENTITIES_DIR",
    "IMPORTS_DIR",
    "ONTOLOGY_DIR",
    "ONTOLOGY_FILE",
    "PAGE_QUERIES_DIR",
    "QUERIES_DIR",
    "REVIEW_FILE",
    "REVIEW_TEXT_FILE",
    "RULES_DIR",
    "SECTIONS_DIR",
    "SERVER_DIR",
    "SHAPES_DIR",
    "TRIPLES_DIR",
    "VALIDATION_DIR",
]

_PACKAGE_DIR = Path(__file__).resolve().parent
#: The repository root when running from a checkout (src/exomirkg -> repo).
_CHECKOUT_ROOT = _PACKAGE_DIR.parents[1]
#: Data files packaged into the wheel (see ``force-include`` in pyproject.toml).
_WHEEL_DATA = _PACKAGE_DIR / "_data"


def _data_root() -> Path:
    override = os.environ.get("EXOMIRKG_DATA_ROOT")
    if override:
        return Path(override).resolve()
    if (_CHECKOUT_ROOT / "ontology" / "exomirkg-edit.ttl").is_file():
        return _CHECKOUT_ROOT
    return _WHEEL_DATA


#: Folder holding ontology/, triples/, validation/ and server/.
DATA_ROOT = _data_root()
ONTOLOGY_DIR = DATA_ROOT / "ontology"
#: The one hand-edited TBox file.
ONTOLOGY_FILE = ONTOLOGY_DIR / "exomirkg-edit.ttl"
#: MIREOT-style import modules generated from the reference table.
IMPORTS_DIR = ONTOLOGY_DIR / "imports"
#: Inference rules shipped as data (SPARQL CONSTRUCT files).
RULES_DIR = ONTOLOGY_DIR / "rules"
TRIPLES_DIR = DATA_ROOT / "triples"
#: The review and its sections as individuals.
REVIEW_FILE = TRIPLES_DIR / "review.ttl"
#: The review's text (CC BY 4.0), so provenance tests can check quotes without /work/shared.
REVIEW_TEXT_FILE = TRIPLES_DIR / "source" / "santos-almeida-2020.txt"
ENTITIES_DIR = TRIPLES_DIR / "entities"
SECTIONS_DIR = TRIPLES_DIR / "sections"
VALIDATION_DIR = DATA_ROOT / "validation"
SHAPES_DIR = VALIDATION_DIR / "shapes"
#: ``*-violation.rq`` checks: any row is a failure.
CHECKS_DIR = VALIDATION_DIR / "checks"
SERVER_DIR = DATA_ROOT / "server"
#: Competency queries served at /queries/<name>.
QUERIES_DIR = SERVER_DIR / "queries"
#: SPARQL behind the HTML pages (entity pages, search index, network, downloads).
PAGE_QUERIES_DIR = SERVER_DIR / "pages"
#: Generated artefacts: beside the data in a checkout (or an EXOMIRKG_DATA_ROOT folder);
#: in a wheel install, where site-packages is no place to write, under the working directory.
BUILD_DIR = Path.cwd() / "build" if DATA_ROOT == _WHEEL_DATA else DATA_ROOT / "build"
