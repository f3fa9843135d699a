"""A synthetic graph in the shape of the review graph, of any size, for benchmarks.

Same TBox (the real ontology and import modules), same kinds of entities and the same
n-ary findings as ``triples/``: drugs with ChEBI roles and classes (so the defined classes
classify them), miRNAs, genes that regulate pathways (so the sign rules fire), ABC
transporters that export drugs, mechanisms, references (some retracted) and findings that
join them. Proportions are those of earlier versions of this generator, so benchmark figures
stay comparable: about 1 drug, 1.6 genes and 1.3 miRNAs per 8.5 findings (the curated review
has 1 drug, 1.7 genes and 1.5 miRNAs per 4.5 findings).
Like the curated graph it conforms to the shapes and checks of ``validation/``: each entity
carries a label and external IDs (synthetic ones, declared in a synthetic import module),
each reference its title and year, each domain triple an ``ekg:Statement``, and findings
cite the review's real parts (``triples/review.ttl``). Used by ``benchmarks/reasoners.py``
and reusable by server and scale benchmarks.

>>> ds = generate(3000, seed=1, with_ontology=False)
>>> 3000 <= len(ds) < 3100
True
"""

from __future__ import annotations

import itertools
import random
import shutil
from collections.abc import Callable
from pathlib import Path

import pyoxigraph
from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS, XSD

from exomirkg import paths
from exomirkg.load import parse_turtle, source_files
from exomirkg.namespaces import (
    DOI,
    EKG,
    GRAPH_ONTOLOGY,
    GRAPH_REVIEW,
    OBO,
    OBOINOWL,
    PREFIXES,
    entity_graph,
    import_graph,
    section_graph,
)

__all__ = ["generate", "write_data_root"]

_EFFECTS_RESISTANCE = ["confers_resistance", "transfers_resistance", "enhances_resistance"]
_EFFECTS_SENSITIVITY = ["restores_sensitivity", "reverses_resistance", "enhances_drug_efficacy"]
_EFFECTS_OTHER = [
    "biomarker_of_response", "induces_cell_transition", "promotes_malignant_phenotype",
]
#: The ChEBI roles and classes the ontology's defined classes name (owl:hasValue), declared as
#: triples/entities/drugs.ttl does: IRI -> (label, ChEBI number, already in chebi_import.ttl).
_ROLES = {
    "role_antimetabolite": ("antimetabolite", 35221),
    "role_tyrosine_kinase_inhibitor": ("tyrosine kinase inhibitor", 38637),
    "role_antineoplastic_agent": ("antineoplastic agent", 35610),
    "role_microtubule_stabilising_agent": ("microtubule-stabilising agent", 61950),
    "role_farnesyltransferase_inhibitor": ("farnesyltransferase inhibitor", 64133),
}
_CLASSES = {
    "class_platinum_coordination_entity": ("platinum coordination entity", 33862),
    "class_azole_antifungal": ("conazole antifungal agent", 86323),
}
#: Vocabulary -> (IRI template, CURIE template) of the synthetic external IDs, shaped as the
#: shapes' patterns want. Numbers start at 9,000,000 (MeSH: D900000000), above every real ID
#: the import modules hold, so a synthetic ID never names a real term.
_VOCABULARIES = {
    "chebi": ("http://purl.obolibrary.org/obo/CHEBI_{}", "CHEBI:{}"),
    "mirbase": ("https://identifiers.org/mirbase.mature:MIMAT{:07d}", "mirbase.mature:MIMAT{:07d}"),
    "hgnc": ("https://identifiers.org/hgnc:{}", "HGNC:{}"),
    "go": ("http://purl.obolibrary.org/obo/GO_{:07d}", "GO:{:07d}"),
    "cl": ("http://purl.obolibrary.org/obo/CL_{:07d}", "CL:{:07d}"),
    "doid": ("http://purl.obolibrary.org/obo/DOID_{}", "DOID:{}"),
    "mesh": ("https://identifiers.org/mesh:D{}", "mesh:D{}"),
}
_FIRST_ID = {"mesh": 900_000_000}
_JOURNALS = ["Cells", "Oncogene", "Mol. Cancer", "Cancer Res.", "J. Exp. Clin. Cancer Res."]
#: Entity pools are sized from (target size - TBox) / this. With entities carrying their IDs
#: and statements, 62 gives the pool-to-finding ratios of earlier versions (which used 45
#: before entities had IDs); the findings then fill the rest, about 2 per unit.
_TRIPLES_PER_POOL_UNIT = 62


def _label(text: str) -> Literal:
    return Literal(text, lang="en")


def _review_description() -> Graph:
    """The review as triples/entities/references.ttl declares it (reference 0)."""
    references = parse_turtle(paths.ENTITIES_DIR / "references.ttl")
    review = Graph()
    for triple in references.triples((EKG.review, None, None)):
        review.add(triple)
    return review


def generate(n_triples: int, seed: int = 0, *, with_ontology: bool = True) -> Dataset:
    """Generate a dataset of about ``n_triples`` triples (never fewer) shaped like the review's.

    :param n_triples: target size, counting the ontology and import modules when included.
    :param seed: random seed; the same seed gives the same graph.
    :param with_ontology: load the real ontology and import modules into their named graphs,
        so the result can be reasoned over as the real build is.
    :returns: a Dataset with ``graph/entities/synthetic``, ``graph/section/synthetic``, the
        synthetic import module ``graph/imports/synthetic`` and the review's parts
        (``graph/review``, read from ``triples/review.ttl``).
    """
    rng = random.Random(seed)
    dataset = Dataset(default_union=True)
    for prefix, namespace in PREFIXES.items():
        dataset.bind(prefix, namespace)
    if with_ontology:
        for source in source_files():
            if source.graph == GRAPH_ONTOLOGY or "/imports/" in str(source.graph):
                parse_turtle(source.path, dataset.graph(source.graph))
    # The review's real parts: the findings cite them (ekg:statedIn), as curated ones do.
    parse_turtle(paths.REVIEW_FILE, dataset.graph(GRAPH_REVIEW))
    entities = dataset.graph(entity_graph("synthetic"))
    findings = dataset.graph(section_graph("synthetic"))
    module = dataset.graph(import_graph("synthetic"))
    for triple in _review_description():
        entities.add(triple)
    module.add((EKG["ontology/imports/synthetic_import"], RDF.type, OWL.Ontology))
    module.add((EKG["ontology/imports/synthetic_import"], DCTERMS.title,
                _label("exomirkg import module: synthetic external IDs")))

    remaining = max(n_triples - len(dataset), 0)
    units = max(remaining // _TRIPLES_PER_POOL_UNIT, 4)
    pools: dict[str, list[URIRef]] = {}
    section = EKG.section_2_2
    counters = {name: itertools.count(_FIRST_ID.get(name, 9_000_000)) for name in _VOCABULARIES}

    def match(entity: URIRef, vocabulary: str, label: str) -> None:
        # An external ID as curated entities carry it (skos:exactMatch and the CURIE as
        # oboInOwl:hasDbXref), declared in the import module as `exomirkg imports` would.
        number = next(counters[vocabulary])
        iri_template, curie_template = _VOCABULARIES[vocabulary]
        iri, curie = URIRef(iri_template.format(number)), curie_template.format(number)
        entities.add((entity, SKOS.exactMatch, iri))
        entities.add((entity, OBOINOWL.hasDbXref, Literal(curie)))
        module.add((iri, RDF.type, OWL.Class))
        module.add((iri, RDFS.label, Literal(label)))
        module.add((iri, OBOINOWL.id, Literal(curie)))

    def pool(kind: str, size: int, cls: URIRef, vocabulary: str | None) -> list[URIRef]:
        members = []
        for i in range(size):
            iri = EKG[f"syn_{kind}_{i}"]
            entities.add((iri, RDF.type, cls))
            entities.add((iri, RDFS.label, _label(f"synthetic {kind} {i}")))
            if vocabulary is not None:
                match(iri, vocabulary, f"synthetic {kind} {i}")
            members.append(iri)
        pools[kind] = members
        return members

    statements = itertools.count()

    def state(subject: URIRef, predicate: URIRef, value: URIRef) -> None:
        # A domain triple outside a finding is a statement of the review: it goes in the
        # section with the ekg:Statement that gives its part, quote and reference.
        number = next(statements)
        node = EKG[f"syn_statement_{number}"]
        add = findings.add
        add((subject, predicate, value))
        add((node, RDF.type, EKG.Statement))
        add((node, RDFS.label, _label(f"synthetic statement {number}")))
        add((node, EKG.statementSubject, subject))
        add((node, EKG.statementPredicate, predicate))
        add((node, EKG.statementObject, value))
        add((node, EKG.statedIn, section))
        add((node, EKG.quote, Literal(f"Synthetic claim {number} of seed {seed}.")))
        add((node, EKG.supportingReference, rng.choice(references)))
        add((node, OBO.RO_0002558, OBO.ECO_0000304))
        add((node, DCTERMS.source, EKG.review))

    for table, cls in ((_ROLES, EKG.DrugRole), (_CLASSES, EKG.ChemicalClass)):
        for name, (label, chebi) in table.items():
            entities.add((EKG[name], RDF.type, cls))
            entities.add((EKG[name], RDFS.label, _label(label)))
            entities.add((EKG[name], SKOS.exactMatch, OBO[f"CHEBI_{chebi}"]))
            entities.add((EKG[name], OBOINOWL.hasDbXref, Literal(f"CHEBI:{chebi}")))
    references = pool("reference", max(units * 7 // 5, 2), EKG.Reference, None)
    for number, reference in enumerate(references, start=1):
        retracted = rng.random() < 0.03
        doi = f"10.0000/synthetic.{seed}.{number}"
        author = f"Synthetic A.{number}"
        title = f"Synthetic study {number} of seed {seed}."
        entities.add((reference, DCTERMS.title, Literal(title)))
        entities.add((reference, EKG.firstAuthor, Literal(author)))
        entities.add((reference, EKG.year, Literal(rng.randint(2005, 2020), datatype=XSD.integer)))
        entities.add((reference, EKG.journal, Literal(rng.choice(_JOURNALS))))
        entities.add((reference, EKG.doi, Literal(doi)))
        entities.add((reference, SKOS.exactMatch, DOI[doi]))
        entities.add((reference, EKG.referenceNumber, Literal(number, datatype=XSD.integer)))
        entities.add((reference, EKG.retracted, Literal(retracted)))
        if retracted:
            entities.add((reference, RDF.type, EKG.RetractedReference))
    drugs = pool("drug", max(units // 4, 2), EKG.Drug, "chebi")
    for drug in drugs:
        entities.add((drug, SKOS.altLabel, _label(f"{drug.split('_')[-1]}-syn")))
        entities.add((drug, EKG.hasRole, EKG[rng.choice(list(_ROLES))]))
        if rng.random() < 0.2:
            entities.add((drug, EKG.hasChemicalClass, EKG[rng.choice(list(_CLASSES))]))
    pool("mirna", max(units // 3, 2), EKG.ExosomalMiRNA, "mirbase")
    pathways = pool("pathway", max(units // 15, 2), EKG.Pathway, "go")
    genes = pool("gene", max(units * 2 // 5, 2), EKG.Gene, "hgnc")
    for gene in genes:
        draw = rng.random()
        if draw < 0.15:
            state(gene, EKG.negativelyRegulatesPathway, rng.choice(pathways))
        elif draw < 0.35:
            state(gene, EKG.positivelyRegulatesPathway, rng.choice(pathways))
    transporters = genes[: max(len(genes) // 15, 1)]
    for transporter in transporters:
        entities.add((transporter, RDF.type, EKG.ABCTransporter))
    # As the review states it: drugs are substrates of the transporter family, never of
    # its members one by one (issue 13); findings that name no drug carry the family.
    family = EKG.syn_transporter_family
    entities.add((family, RDF.type, EKG.GeneFamily))
    entities.add((family, RDFS.label, _label("synthetic transporter family")))
    match(family, "mesh", "synthetic transporter family")
    for drug in rng.sample(drugs, min(3, len(drugs))):
        state(family, EKG.familyExportsDrug, drug)
    pool("cell", max(units // 10, 3), EKG.CellType, "cl")
    pool("cancer", max(units // 8, 2), EKG.CancerType, "doid")
    processes = pool("process", max(units // 8, 2), EKG.BiologicalProcess, "go")
    mechanisms = pool("mechanism", max(units // 8, 2), EKG.Mechanism, None)
    mechanisms.append(EKG.drug_efflux)
    entities.add((EKG.drug_efflux, RDF.type, EKG.Mechanism))
    entities.add((EKG.drug_efflux, RDFS.label, _label("drug efflux")))
    for mechanism in mechanisms:
        process = rng.choice(processes)
        direction = rng.choice([EKG.increased, EKG.decreased])
        entities.add((mechanism, SKOS.definition, _label(
            f"Synthetic change ({direction.split('/')[-1]}) of {process.split('/')[-1]}.")))
        entities.add((mechanism, EKG.mechanismProcess, process))
        entities.add((mechanism, EKG.mechanismDirection, direction))
    for pathway in pathways:
        state(pathway, EKG.pathwayPromotesMechanism, rng.choice(mechanisms))

    index = 0
    while len(dataset) < n_triples or index < 4:
        _add_finding(findings.add, index, seed, rng, section, family, pools, transporters,
                     mechanisms)
        index += 1
    return dataset


def _add_finding(add: Callable, index: int, seed: int, rng: random.Random, section: URIRef,
                 family: URIRef, pools: dict[str, list[URIRef]], transporters: list[URIRef],
                 mechanisms: list[URIRef]) -> None:
    """Add one n-ary finding, as the curated sections write them."""
    finding = EKG[f"syn_finding_{index}"]
    cells = pools["cell"]
    add((finding, RDF.type, EKG.Finding))
    add((finding, RDFS.label, _label(f"synthetic finding {index}")))
    add((finding, EKG.sourceCellType, rng.choice(cells)))
    add((finding, EKG.recipientCellType, rng.choice(cells)))
    add((finding, EKG.inCancerType, rng.choice(pools["cancer"])))
    if rng.random() < 0.9:
        add((finding, EKG.hasMiRNA, rng.choice(pools["mirna"])))
        if rng.random() < 0.1:
            add((finding, EKG.hasMiRNA, rng.choice(pools["mirna"])))
    else:
        add((finding, EKG.hasProteinCargo, rng.choice(transporters)))
    draw = rng.random()
    effects = (
        _EFFECTS_RESISTANCE if draw < 0.7
        else _EFFECTS_SENSITIVITY if draw < 0.85 else _EFFECTS_OTHER
    )
    if effects is _EFFECTS_RESISTANCE and rng.random() < 0.05:
        add((finding, EKG.hasCargoFamily, family))
        add((finding, EKG.viaMechanism, EKG.drug_efflux))
    elif effects is not _EFFECTS_OTHER or rng.random() < 0.3:
        add((finding, EKG.concernsDrug, rng.choice(pools["drug"])))
    effect = rng.choice(effects)
    add((finding, EKG.hasEffect, EKG[effect]))
    if effect == "induces_cell_transition":
        # The shapes ask a transition for the cell type it produces.
        add((finding, EKG.inducesTransitionTo, rng.choice(cells)))
    for gene in rng.sample(pools["gene"], rng.randint(0, 2)):
        direction = EKG.downregulatesGene if rng.random() < 0.7 else EKG.upregulatesGene
        add((finding, direction, gene))
    if rng.random() < 0.25:
        pathway_property = rng.choice(
            [EKG.activatesPathway, EKG.inhibitsPathway, EKG.affectsPathway]
        )
        add((finding, pathway_property, rng.choice(pools["pathway"])))
    for mechanism in rng.sample(mechanisms, rng.randint(1, 2)):
        add((finding, EKG.viaMechanism, mechanism))
    add((finding, EKG.statedIn, section))
    add((finding, EKG.quote, Literal(f"Synthetic statement {index} of seed {seed}.")))
    for reference in rng.sample(pools["reference"], rng.randint(1, 2)):
        add((finding, EKG.supportingReference, reference))
    add((finding, OBO.RO_0002558, OBO.ECO_0000304))
    add((finding, DCTERMS.source, EKG.review))


def write_data_root(dataset: Dataset, folder: Path) -> Path:
    """Write a generated dataset as a data folder ``exomirkg build --data-root`` reads: the
    checkout's ontology (with imports and rules) and validation folders, and the synthetic
    graphs as ``triples/entities/synthetic.ttl``, ``triples/sections/synthetic.ttl``,
    ``triples/review.ttl`` and ``ontology/imports/synthetic_import.ttl``, so a benchmark
    measures the build as it runs, Turtle parse included.

    :returns: ``folder``.
    """
    shutil.copytree(paths.ONTOLOGY_DIR, folder / "ontology", dirs_exist_ok=True)
    shutil.copytree(paths.VALIDATION_DIR, folder / "validation", dirs_exist_ok=True)
    for graph, target in ((entity_graph("synthetic"), "triples/entities/synthetic.ttl"),
                          (section_graph("synthetic"), "triples/sections/synthetic.ttl"),
                          (GRAPH_REVIEW, "triples/review.ttl"),
                          (import_graph("synthetic"), "ontology/imports/synthetic_import.ttl")):
        out = folder / target
        out.parent.mkdir(parents=True, exist_ok=True)
        # rdflib's Turtle writer takes minutes at 10^6 triples; pyoxigraph's, seconds.
        lines = dataset.graph(graph).serialize(format="nt", encoding="utf-8").splitlines(True)
        # Sorted, so that the writer groups each subject's statements as a curator would.
        statements = pyoxigraph.parse(b"".join(sorted(lines)),
                                      format=pyoxigraph.RdfFormat.N_TRIPLES)
        pyoxigraph.serialize(statements, str(out), format=pyoxigraph.RdfFormat.TURTLE,
                             prefixes=PREFIXES)
    return folder
