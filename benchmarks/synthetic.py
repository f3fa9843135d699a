"""A synthetic graph in the shape of the review graph, of any size, for benchmarks.

Same TBox (the real ontology and import modules), same kinds of entities and the same
n-ary findings as ``triples/``: drugs with ChEBI roles and classes (so the defined classes
classify them), miRNAs, genes that regulate pathways (so the sign rules fire), ABC
transporters that export drugs, mechanisms, references (some retracted) and findings that
join them. Proportions follow the curated review (about 1 drug and 1.5 genes per 4 findings).
Used by ``benchmarks/reasoners.py`` and reusable by server and scale benchmarks.

>>> ds = generate(3000, seed=1, with_ontology=False)
>>> 3000 <= len(ds) < 3100
True
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pyoxigraph
from rdflib import Dataset, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS, XSD

from exomirkg import paths
from exomirkg.load import parse_turtle, source_files
from exomirkg.namespaces import EKG, GRAPH_ONTOLOGY, OBO, PREFIXES, entity_graph, section_graph

__all__ = ["generate", "write_data_root"]

_EFFECTS_RESISTANCE = ["confers_resistance", "transfers_resistance", "enhances_resistance"]
_EFFECTS_SENSITIVITY = ["restores_sensitivity", "reverses_resistance", "enhances_drug_efficacy"]
_EFFECTS_OTHER = [
    "biomarker_of_response", "induces_cell_transition", "promotes_malignant_phenotype",
]
_ROLES = [
    "role_antimetabolite", "role_tyrosine_kinase_inhibitor", "role_antineoplastic_agent",
    "role_microtubule_stabilising_agent", "role_farnesyltransferase_inhibitor",
]
_CLASSES = ["class_platinum_coordination_entity", "class_azole_antifungal"]


def _label(text: str) -> Literal:
    return Literal(text, lang="en")


def generate(n_triples: int, seed: int = 0, *, with_ontology: bool = True) -> Dataset:
    """Generate a dataset of about ``n_triples`` triples (never fewer) shaped like the review's.

    :param n_triples: target size, counting the ontology and import modules when included.
    :param seed: random seed; the same seed gives the same graph.
    :param with_ontology: load the real ontology and import modules into their named graphs,
        so the result can be reasoned over as the real build is.
    :returns: a Dataset with ``graph/entities/synthetic`` and ``graph/section/synthetic``.
    """
    rng = random.Random(seed)
    dataset = Dataset(default_union=True)
    for prefix, namespace in PREFIXES.items():
        dataset.bind(prefix, namespace)
    if with_ontology:
        for source in source_files():
            if source.graph == GRAPH_ONTOLOGY or "/imports/" in str(source.graph):
                parse_turtle(source.path, dataset.graph(source.graph))
    entities = dataset.graph(entity_graph("synthetic"))
    findings = dataset.graph(section_graph("synthetic"))

    remaining = max(n_triples - len(dataset), 0)
    n_findings = max(remaining // 45, 4)  # a finding plus its share of entities ~ 45 triples
    pools: dict[str, list[URIRef]] = {}

    def pool(kind: str, size: int, cls: URIRef) -> list[URIRef]:
        members = []
        for i in range(size):
            iri = EKG[f"syn_{kind}_{i}"]
            entities.add((iri, RDF.type, cls))
            entities.add((iri, RDFS.label, _label(f"synthetic {kind} {i}")))
            members.append(iri)
        pools[kind] = members
        return members

    for name in _ROLES:
        entities.add((EKG[name], RDF.type, EKG.DrugRole))
    for name in _CLASSES:
        entities.add((EKG[name], RDF.type, EKG.ChemicalClass))
    drugs = pool("drug", max(n_findings // 4, 2), EKG.Drug)
    for drug in drugs:
        entities.add((drug, SKOS.altLabel, _label(f"{drug.split('_')[-1]}-syn")))
        entities.add((drug, EKG.hasRole, EKG[rng.choice(_ROLES)]))
        if rng.random() < 0.2:
            entities.add((drug, EKG.hasChemicalClass, EKG[rng.choice(_CLASSES)]))
    mirnas = pool("mirna", max(n_findings // 3, 2), EKG.ExosomalMiRNA)
    pathways = pool("pathway", max(n_findings // 15, 2), EKG.Pathway)
    genes = pool("gene", max(n_findings * 2 // 5, 2), EKG.Gene)
    for gene in genes:
        draw = rng.random()
        if draw < 0.15:
            entities.add((gene, EKG.negativelyRegulatesPathway, rng.choice(pathways)))
        elif draw < 0.35:
            entities.add((gene, EKG.positivelyRegulatesPathway, rng.choice(pathways)))
    transporters = genes[: max(len(genes) // 15, 1)]
    for transporter in transporters:
        entities.add((transporter, RDF.type, EKG.ABCTransporter))
    # As the review states it: drugs are substrates of the transporter family, never of
    # its members one by one (issue 13); findings that name no drug carry the family.
    family = EKG.syn_transporter_family
    entities.add((family, RDF.type, EKG.GeneFamily))
    entities.add((family, RDFS.label, _label("synthetic transporter family")))
    for drug in rng.sample(drugs, min(3, len(drugs))):
        entities.add((family, EKG.familyExportsDrug, drug))
    cells = pool("cell", max(n_findings // 10, 3), EKG.CellType)
    cancers = pool("cancer", max(n_findings // 8, 2), EKG.CancerType)
    processes = pool("process", max(n_findings // 8, 2), EKG.BiologicalProcess)
    mechanisms = pool("mechanism", max(n_findings // 8, 2), EKG.Mechanism)
    mechanisms.append(EKG.drug_efflux)
    entities.add((EKG.drug_efflux, RDF.type, EKG.Mechanism))
    entities.add((EKG.drug_efflux, RDFS.label, _label("drug efflux")))
    for mechanism in mechanisms:
        entities.add((mechanism, EKG.mechanismProcess, rng.choice(processes)))
        direction = rng.choice([EKG.increased, EKG.decreased])
        entities.add((mechanism, EKG.mechanismDirection, direction))
    for pathway in pathways:
        entities.add((pathway, EKG.pathwayPromotesMechanism, rng.choice(mechanisms)))
    references = pool("reference", max(n_findings * 7 // 5, 2), EKG.Reference)
    for number, reference in enumerate(references, start=1):
        retracted = rng.random() < 0.03
        entities.add((reference, EKG.doi, Literal(f"10.0000/synthetic.{seed}.{number}")))
        entities.add((reference, EKG.referenceNumber, Literal(number, datatype=XSD.integer)))
        entities.add((reference, EKG.retracted, Literal(retracted)))
        if retracted:
            entities.add((reference, RDF.type, EKG.RetractedReference))
    section = EKG.section_2_2

    index = 0
    while len(dataset) < n_triples or index < 4:
        finding = EKG[f"syn_finding_{index}"]
        add = findings.add
        add((finding, RDF.type, EKG.Finding))
        add((finding, RDFS.label, _label(f"synthetic finding {index}")))
        add((finding, EKG.sourceCellType, rng.choice(cells)))
        add((finding, EKG.recipientCellType, rng.choice(cells)))
        add((finding, EKG.inCancerType, rng.choice(cancers)))
        if rng.random() < 0.9:
            add((finding, EKG.hasMiRNA, rng.choice(mirnas)))
            if rng.random() < 0.1:
                add((finding, EKG.hasMiRNA, rng.choice(mirnas)))
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
            add((finding, EKG.concernsDrug, rng.choice(drugs)))
        add((finding, EKG.hasEffect, EKG[rng.choice(effects)]))
        for gene in rng.sample(genes, rng.randint(0, 2)):
            direction = EKG.downregulatesGene if rng.random() < 0.7 else EKG.upregulatesGene
            add((finding, direction, gene))
        if rng.random() < 0.25:
            pathway_property = rng.choice(
                [EKG.activatesPathway, EKG.inhibitsPathway, EKG.affectsPathway]
            )
            add((finding, pathway_property, rng.choice(pathways)))
        for mechanism in rng.sample(mechanisms, rng.randint(1, 2)):
            add((finding, EKG.viaMechanism, mechanism))
        add((finding, EKG.statedIn, section))
        add((finding, EKG.quote, Literal(f"Synthetic statement {index} of seed {seed}.")))
        for reference in rng.sample(references, rng.randint(1, 2)):
            add((finding, EKG.supportingReference, reference))
        add((finding, OBO.RO_0002558, OBO.ECO_0000304))
        add((finding, DCTERMS.source, EKG.review))
        index += 1
    dataset.graph(entity_graph("synthetic")).add((EKG.review, RDF.type, EKG.Review))
    dataset.graph(entity_graph("synthetic")).add((EKG.review, RDF.type, OWL.NamedIndividual))
    return dataset


def write_data_root(dataset: Dataset, folder: Path) -> Path:
    """Write a generated dataset as a data folder ``exomirkg build --data-root`` reads: the
    checkout's ontology (with imports and rules) and validation folders, and the synthetic
    graphs as ``triples/entities/synthetic.ttl`` and ``triples/sections/synthetic.ttl``, so a
    benchmark measures the build as it runs, Turtle parse included.

    :returns: ``folder``.
    """
    shutil.copytree(paths.ONTOLOGY_DIR, folder / "ontology", dirs_exist_ok=True)
    shutil.copytree(paths.VALIDATION_DIR, folder / "validation", dirs_exist_ok=True)
    for graph, target in ((entity_graph("synthetic"), "entities"),
                          (section_graph("synthetic"), "sections")):
        out = folder / "triples" / target / "synthetic.ttl"
        out.parent.mkdir(parents=True, exist_ok=True)
        # rdflib's Turtle writer takes minutes at 10^6 triples; pyoxigraph's, seconds.
        lines = dataset.graph(graph).serialize(format="nt", encoding="utf-8").splitlines(True)
        # Sorted, so that the writer groups each subject's statements as a curator would.
        statements = pyoxigraph.parse(b"".join(sorted(lines)),
                                      format=pyoxigraph.RdfFormat.N_TRIPLES)
        pyoxigraph.serialize(statements, str(out), format=pyoxigraph.RdfFormat.TURTLE,
                             prefixes=PREFIXES)
    return folder
