"""Generate the MIREOT-style import modules in ontology/imports/ from the reference table.

The reference table (``shared/reference/`` in the workplace: entities.tsv and relations.tsv) is
not shipped; its output, one ``<source>_terms.txt`` seed list and one ``<source>_import.ttl``
module per external vocabulary, is committed, so nothing at run time needs the table.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

from exomirkg import about
from exomirkg.namespaces import CURIE_PREFIXES, OBO, curie_to_iri, import_module_iri

__all__ = ["ONTOLOGY_TERMS", "read_reference_terms", "write_import_modules"]

#: Prefixes whose terms are relations (declared as object properties, not classes).
_PROPERTY_PREFIXES = {"RO"}
#: Prefixes whose terms are annotation properties.
_ANNOTATION_PREFIXES = {"IAO"}
#: Terms the ontology itself uses for its own annotations, whatever the reference table holds:
#: IAO:0000115 is the definition property OBO tools read (ROBOT, OLS).
ONTOLOGY_TERMS: dict[str, str] = {"IAO:0000115": "definition"}
#: Import module name per CURIE prefix.
_MODULE_OF_PREFIX = {
    "mirbase.mature": "mirbase",
    "NCBIGene": "ncbigene",
}


#: Module -> the vocabulary's name, for the module header.
_SOURCE_NAMES = {
    "cellosaurus": "Cellosaurus", "chebi": "ChEBI", "cl": "Cell Ontology (CL)",
    "doid": "Human Disease Ontology (DOID)", "drugbank": "DrugBank", "eco": "Evidence and "
    "Conclusion Ontology (ECO)", "go": "Gene Ontology (GO)", "hgnc": "HGNC",
    "iao": "Information Artifact Ontology (IAO)", "mesh": "MeSH",
    "mirbase": "miRBase", "mondo": "Mondo Disease Ontology", "ncbigene": "NCBI Gene",
    "reactome": "Reactome", "ro": "Relation Ontology (RO)", "so": "Sequence Ontology (SO)",
}
#: Module -> the vocabulary's home page (``dcterms:source`` of the module).
_SOURCE_HOMES = {
    "cellosaurus": "https://www.cellosaurus.org/",
    "chebi": str(OBO) + "chebi.owl",
    "cl": str(OBO) + "cl.owl",
    "doid": str(OBO) + "doid.owl",
    "drugbank": "https://go.drugbank.com/",
    "eco": str(OBO) + "eco.owl",
    "go": str(OBO) + "go.owl",
    "hgnc": "https://www.genenames.org/",
    "iao": str(OBO) + "iao.owl",
    "mesh": "https://meshb.nlm.nih.gov/",
    "mirbase": "https://www.mirbase.org/",
    "mondo": str(OBO) + "mondo.owl",
    "ncbigene": "https://www.ncbi.nlm.nih.gov/gene/",
    "reactome": "https://reactome.org/",
    "ro": str(OBO) + "ro.owl",
    "so": str(OBO) + "so.owl",
}


def _module(prefix: str) -> str:
    return _MODULE_OF_PREFIX.get(prefix, prefix.lower())


def read_reference_terms(reference_dir: Path) -> dict[str, str]:
    """Read every verified CURIE and its official label from the reference table.

    :param reference_dir: folder holding entities.tsv and relations.tsv.
    :returns: CURIE -> label.
    :raises ValueError: when a row's CURIEs and labels do not pair up.
    """
    terms: dict[str, str] = {}
    with (reference_dir / "entities.tsv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            if row["verified"] != "yes" or not row["curie"]:
                continue
            curies = row["curie"].split("|")
            labels = row["official_label"].split("|")
            if len(curies) != len(labels):
                raise ValueError(f"entities.tsv row {row['key']!r}: {len(curies)} CURIEs, "
                                 f"{len(labels)} labels")
            terms.update(zip(curies, labels, strict=False))
    with (reference_dir / "relations.tsv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            prefix = row["curie"].partition(":")[0]
            if prefix in CURIE_PREFIXES:
                terms.setdefault(row["curie"], row["label"])
    return terms


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _header(module: str) -> list[str]:
    """The module's ontology header, and declarations of the annotation properties it uses, so
    the module alone is OWL 2 DL (an undeclared property reads as a data property)."""
    return [
        f"<{import_module_iri(module)}> a owl:Ontology ;",
        f'    dcterms:title "exomirkg import module: {_SOURCE_NAMES.get(module, module)}"@en ;',
        f'    dcterms:description "The {_SOURCE_NAMES.get(module, module)} terms exomirkg '
        'uses (MIREOT: IRI, label and ID of each), extracted from the verified reference '
        'table."@en ;',
        f"    dcterms:license <{about.DATA_LICENSE}> ;",
        f"    dcterms:source <{_SOURCE_HOMES.get(module, about.REVIEW_IRI)}> .",
        "",
        *(f"{prop} a owl:AnnotationProperty ." for prop in (
            "dcterms:title", "dcterms:description", "dcterms:license", "dcterms:source",
            "oboInOwl:id")),
    ]


def write_import_modules(reference_dir: Path, imports_dir: Path) -> list[Path]:
    """Write ``<source>_terms.txt`` and ``<source>_import.ttl`` for every source used.

    :param reference_dir: folder holding entities.tsv and relations.tsv.
    :param imports_dir: the ontology/imports folder to (re)write.
    :returns: the module files written.
    """
    by_module: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for curie, label in {**read_reference_terms(reference_dir), **ONTOLOGY_TERMS}.items():
        by_module[_module(curie.partition(":")[0])].append((curie, label))
    imports_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for module, terms in sorted(by_module.items()):
        terms.sort(key=lambda item: str(curie_to_iri(item[0])))
        seed = imports_dir / f"{module}_terms.txt"
        seed.write_text("".join(f"{curie_to_iri(c)} # {label}\n" for c, label in terms),
                        encoding="utf-8")
        lines = [
            f"# Import module for {module}: generated by `exomirkg imports` from the reference",
            "# table (MIREOT: IRI and label of exactly the terms the graph uses). Do not edit.",
            "PREFIX dcterms: <http://purl.org/dc/terms/>",
            "PREFIX owl: <http://www.w3.org/2002/07/owl#>",
            "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>",
            "PREFIX oboInOwl: <http://www.geneontology.org/formats/oboInOwl#>",
            "",
            *_header(module),
            "",
        ]
        for curie, label in terms:
            prefix = curie.partition(":")[0]
            kind = ("owl:ObjectProperty" if prefix in _PROPERTY_PREFIXES
                    else "owl:AnnotationProperty" if prefix in _ANNOTATION_PREFIXES
                    else "owl:Class")
            lines.append(f'<{curie_to_iri(curie)}> a {kind} ;\n    rdfs:label "{_escape(label)}" ;'
                         f'\n    oboInOwl:id "{curie}" .\n')
        module_file = imports_dir / f"{module}_import.ttl"
        module_file.write_text("\n".join(lines), encoding="utf-8")
        written.append(module_file)
    return written
