"""What the dataset says about itself: title, description, licences, creators, source.

One place for the facts that VoID, the Service Description, the landing page's schema.org
``Dataset``, the SSSOM header and ``CITATION.cff`` all state, so they cannot drift apart
(``tests/test_artefacts.py`` checks ``CITATION.cff`` and ``pyproject.toml`` against it).
"""

from __future__ import annotations

from exomirkg.namespaces import BASE

__all__ = [
    "CODE_LICENSE",
    "CREATORS",
    "DATASET_IRI",
    "DATA_LICENSE",
    "DESCRIPTION",
    "KEYWORDS",
    "MAPPING_SET_ID",
    "REVIEW_CITATION",
    "REVIEW_DOI",
    "REVIEW_IRI",
    "SERVICE_NS",
    "TITLE",
]

TITLE = "exomirkg: exosomal miRNAs, the tumour microenvironment and drug resistance"
DESCRIPTION = (
    "A knowledge graph of every finding of one review (Santos & Almeida, Cells 2020, "
    "9(6):1450): how exosomal microRNAs and other exosomal cargo passed between "
    "cancer-associated fibroblasts, tumour-associated macrophages, cancer stem cells, "
    "endothelial and cancer cells change the response of cancers to anticancer drugs. Each "
    "finding names donor and recipient cell, cargo, cancer, drug, effect, target genes, "
    "pathways and mechanisms, with the review section, a verbatim quote, the cited references "
    "(with DOIs and retraction status) and an ECO evidence code; a reasoner derives "
    "drug-mechanism links with their explanations."
)
KEYWORDS = ("exosome", "microRNA", "tumour microenvironment", "drug resistance",
            "cancer-associated fibroblast", "tumour-associated macrophage", "knowledge graph")
#: The review's text is CC BY 4.0, so the data derived from it is too.
DATA_LICENSE = "https://creativecommons.org/licenses/by/4.0/"
CODE_LICENSE = "https://opensource.org/licenses/MIT"
#: Who made the graph (the ``authors`` of pyproject.toml and CITATION.cff).
CREATORS = ("exomirkg developers",)

#: The review every finding comes from.
REVIEW_DOI = "10.3390/cells9061450"
REVIEW_IRI = "https://doi.org/" + REVIEW_DOI
REVIEW_CITATION = ("Santos P, Almeida F. Role of Exosomal miRNAs and the Tumor Microenvironment "
                   "in Drug Resistance. Cells 2020;9(6):1450.")

#: IRIs the project mints for itself besides its entities and graphs; each one dereferences
#: on the server (web/about.py).
DATASET_IRI = BASE + "dataset"
#: Terms for the endpoint's limits, which the Service Description vocabulary has no words for.
SERVICE_NS = BASE + "service#"
MAPPING_SET_ID = BASE + "mappings/exomirkg.sssom.tsv"
