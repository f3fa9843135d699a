"""Where the data folders and build outputs live, in a checkout or an installed wheel."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "BUILD_DIR",
    "CHECKS_DIR",
    "DATA_ROOT",
    "LAYOUT",
    "DataLayout",
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
    "layout",
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


@dataclass(frozen=True)
class DataLayout:
    """Every data folder of one data root, named once; pass it whole.

    >>> DataLayout(Path("/data")).shapes_dir
    PosixPath('/data/validation/shapes')
    """

    root: Path

    @property
    def ontology_dir(self) -> Path:
        return self.root / "ontology"

    @property
    def ontology_file(self) -> Path:
        """The one hand-edited TBox file."""
        return self.ontology_dir / "exomirkg-edit.ttl"

    @property
    def imports_dir(self) -> Path:
        """MIREOT-style import modules generated from the reference table."""
        return self.ontology_dir / "imports"

    @property
    def rules_dir(self) -> Path:
        """Inference rules shipped as data (SPARQL CONSTRUCT files)."""
        return self.ontology_dir / "rules"

    @property
    def triples_dir(self) -> Path:
        return self.root / "triples"

    @property
    def review_file(self) -> Path:
        """The review and its sections as individuals."""
        return self.triples_dir / "review.ttl"

    @property
    def review_text_file(self) -> Path:
        """The review's text (CC BY 4.0), so tests can check quotes without /work/shared."""
        return self.triples_dir / "source" / "santos-almeida-2020.txt"

    @property
    def entities_dir(self) -> Path:
        return self.triples_dir / "entities"

    @property
    def sections_dir(self) -> Path:
        return self.triples_dir / "sections"

    @property
    def validation_dir(self) -> Path:
        return self.root / "validation"

    @property
    def shapes_dir(self) -> Path:
        return self.validation_dir / "shapes"

    @property
    def checks_dir(self) -> Path:
        """``*-violation.rq`` checks: any row is a failure."""
        return self.validation_dir / "checks"

    @property
    def server_dir(self) -> Path:
        return self.root / "server"

    @property
    def queries_dir(self) -> Path:
        """Competency queries served at /queries/<name>."""
        return self.server_dir / "queries"

    @property
    def page_queries_dir(self) -> Path:
        """SPARQL behind the HTML pages (entity pages, search index, network, downloads)."""
        return self.server_dir / "pages"


def layout(root: Path | None = None) -> DataLayout:
    """The layout of ``root``, or of :data:`DATA_ROOT` when not given."""
    return LAYOUT if root is None else DataLayout(Path(root))


#: Folder holding ontology/, triples/, validation/ and server/.
DATA_ROOT = _data_root()
#: The layout of DATA_ROOT; the names below are its folders, kept for existing callers.
LAYOUT = DataLayout(DATA_ROOT)
ONTOLOGY_DIR = LAYOUT.ontology_dir
ONTOLOGY_FILE = LAYOUT.ontology_file
IMPORTS_DIR = LAYOUT.imports_dir
RULES_DIR = LAYOUT.rules_dir
TRIPLES_DIR = LAYOUT.triples_dir
REVIEW_FILE = LAYOUT.review_file
REVIEW_TEXT_FILE = LAYOUT.review_text_file
ENTITIES_DIR = LAYOUT.entities_dir
SECTIONS_DIR = LAYOUT.sections_dir
VALIDATION_DIR = LAYOUT.validation_dir
SHAPES_DIR = LAYOUT.shapes_dir
CHECKS_DIR = LAYOUT.checks_dir
SERVER_DIR = LAYOUT.server_dir
QUERIES_DIR = LAYOUT.queries_dir
PAGE_QUERIES_DIR = LAYOUT.page_queries_dir
#: Generated artefacts: beside the data in a checkout (or an EXOMIRKG_DATA_ROOT folder);
#: in a wheel install, where site-packages is no place to write, under the working directory.
BUILD_DIR = Path.cwd() / "build" if DATA_ROOT == _WHEEL_DATA else DATA_ROOT / "build"
