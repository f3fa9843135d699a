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
cite the review's real parts (``triples/review.ttl``).

The generator writes N-Triples lines, not rdflib graphs, so that it runs in bounded memory at
any size (about 170 bytes a triple where rdflib takes about 1 KB): :func:`generate_ntriples`
gives them per named graph, ready for :func:`write_nquads` and :func:`write_data_root`
(``benchmarks/growth.py``, up to 10^7 triples); :func:`generate` reads them into an rdflib
Dataset for the callers that want one at small sizes (``benchmarks/reasoners.py``, the
server, search and validation benchmarks, tests). ``sections`` spreads the findings over
several section files, as the review's are.

>>> ds = generate(3000, seed=1, with_ontology=False)
>>> 3000 <= len(ds) < 3100
True
"""

from __future__ import annotations

import io
import itertools
import random
import shutil
from collections.abc import Iterable
from pathlib import Path

import pyoxigraph
from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS, XSD
from rdflib.term import Node

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

__all__ = ["NTriples", "generate", "generate_ntriples", "nt_line", "write_data_root",
           "write_nquads"]

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


def _quote(text: str) -> str:
    # As rdflib's nt serializer quotes a literal (rdflib.plugins.serializers.nt), so that the
    # files written are the bytes they were when the generator filled rdflib graphs.
    return '"' + text.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"').replace(
        "\r", "\\r") + '"'


def _term(term: Node) -> str:
    if isinstance(term, Literal):
        text = _quote(term)
        if term.language:
            return f"{text}@{term.language}"
        return f"{text}^^<{term.datatype}>" if term.datatype else text
    return term.n3()


def nt_line(triple: tuple[Node, Node, Node]) -> bytes:
    r"""One triple as an N-Triples line, byte for byte as rdflib's nt serializer writes it.

    >>> nt_line((EKG.a, EKG.b, Literal('a "b"', lang="en")))
    b'<https://w3id.org/exomirkg/a> <https://w3id.org/exomirkg/b> "a \\"b\\""@en .\n'
    """
    subject, predicate, value = triple
    if type(subject) is URIRef and type(value) is URIRef:
        # Most triples: formatted inline, twice as fast as through _term.
        return f"<{subject}> <{predicate}> <{value}> .\n".encode()
    return f"{_term(subject)} <{predicate}> {_term(value)} .\n".encode()


class _Size:
    """``len(dataset)`` of the rdflib Dataset the lines stand for, kept as lines are added.

    rdflib counts a triple once however many named graphs hold it. The loaded graphs
    (ontology, imports, review) share a few, and a generated triple could repeat one of theirs,
    so their lines are kept to look up. The generated triples are distinct without a look-up:
    their subjects are fresh or written once (a gene's type and label in the entities, its
    pathway in a section: other predicates), except a finding's, which may draw the same
    object twice and so go through :meth:`_Lines.add_distinct`. Kept this way, memory is the
    lines alone, about 170 bytes a triple.
    """

    def __init__(self, loaded: Dataset) -> None:
        self._loaded = {nt_line(triple) for triple in loaded.triples((None, None, None))}
        self.value = len(loaded)

    def count(self, line: bytes) -> None:
        if line not in self._loaded:
            self.value += 1


class _Lines:
    """One generated named graph, as N-Triples lines; what the generator ``add``s to."""

    __slots__ = ("lines", "_size")

    def __init__(self, size: _Size) -> None:
        self.lines: list[bytes] = []
        self._size = size

    def add(self, triple: tuple[Node, Node, Node]) -> None:
        line = nt_line(triple)
        self.lines.append(line)
        self._size.count(line)

    def add_distinct(self, triples: Iterable[tuple[Node, Node, Node]]) -> None:
        """Add triples that may repeat among themselves once each, as an rdflib graph would."""
        for line in dict.fromkeys(map(nt_line, triples)):
            self.lines.append(line)
            self._size.count(line)


class NTriples:
    """A generated dataset: each named graph's statements as N-Triples lines (rdflib's nt
    serializer's bytes, in no particular order), and its size as rdflib counts it."""

    # A plain class, not a dataclass: the benchmarks and tests load this file without
    # registering it in sys.modules, which dataclasses need to read string annotations.
    def __init__(self, graphs: dict[URIRef, list[bytes]], size: int) -> None:
        self.graphs = graphs
        #: ``len()`` of the Dataset these stand for: a triple in several graphs counts once.
        self.size = size

    def dataset(self) -> Dataset:
        """The graphs read into an rdflib Dataset (about 1 KB a triple: small sizes only)."""
        dataset = Dataset(default_union=True)
        for prefix, namespace in PREFIXES.items():
            dataset.bind(prefix, namespace)
        for name, lines in self.graphs.items():
            dataset.graph(name).parse(data=b"".join(lines), format="nt")
        return dataset


def _review_description() -> Graph:
    """The review as triples/entities/references.ttl declares it (reference 0)."""
    references = parse_turtle(paths.ENTITIES_DIR / "references.ttl")
    review = Graph()
    for triple in references.triples((EKG.review, None, None)):
        review.add(triple)
    return review


def generate(n_triples: int, seed: int = 0, *, with_ontology: bool = True,
             sections: int = 1) -> Dataset:
    """Generate a dataset of about ``n_triples`` triples (never fewer) shaped like the review's.

    :param n_triples: target size, counting the ontology and import modules when included.
    :param seed: random seed; the same seed gives the same graph.
    :param with_ontology: load the real ontology and import modules into their named graphs,
        so the result can be reasoned over as the real build is.
    :param sections: how many section graphs the findings are spread over (see
        :func:`generate_ntriples`).
    :returns: a Dataset with ``graph/entities/synthetic``, the findings' section graphs, the
        synthetic import module ``graph/imports/synthetic`` and the review's parts
        (``graph/review``, read from ``triples/review.ttl``).
    """
    return generate_ntriples(n_triples, seed, with_ontology=with_ontology,
                             sections=sections).dataset()


def _section_stems(sections: int) -> list[str]:
    """The section files' stems: ``synthetic``, or ``synthetic_1`` .. ``synthetic_<n>``."""
    return ["synthetic"] if sections == 1 else [f"synthetic_{k}" for k in range(1, sections + 1)]


def generate_ntriples(n_triples: int, seed: int = 0, *, with_ontology: bool = True,
                      sections: int = 1) -> NTriples:
    """The graph :func:`generate` gives, as N-Triples lines per named graph, at any size.

    :param n_triples: target size, counting the ontology and import modules when included.
    :param seed: random seed; the same seed gives the same graph, whatever ``sections``.
    :param with_ontology: include the real ontology and import modules' graphs.
    :param sections: spread the findings round-robin over this many section graphs,
        ``graph/section/synthetic_1`` .. ``synthetic_<n>`` (the statements of domain triples
        go in the first); 1 keeps them in ``graph/section/synthetic``.
    :returns: the loaded graphs (ontology and imports if asked, review), then
        ``graph/entities/synthetic``, the section graphs and ``graph/imports/synthetic``.
    """
    if sections < 1:
        raise ValueError(f"sections must be at least 1, not {sections}")
    rng = random.Random(seed)
    loaded = Dataset(default_union=True)
    sources = [(source.path, source.graph) for source in source_files() if with_ontology and (
        source.graph == GRAPH_ONTOLOGY or "/imports/" in str(source.graph))]
    # The review's real parts: the findings cite them (ekg:statedIn), as curated ones do.
    sources.append((paths.REVIEW_FILE, GRAPH_REVIEW))
    for path, name in sources:
        parse_turtle(path, loaded.graph(name))
    size = _Size(loaded)
    graphs = {name: [nt_line(triple) for triple in loaded.graph(name)] for _path, name in sources}
    del loaded
    entities, module = _Lines(size), _Lines(size)
    parts = [_Lines(size) for _ in range(sections)]
    findings = parts[0]
    for triple in _review_description():
        entities.add(triple)
    module.add((EKG["ontology/imports/synthetic_import"], RDF.type, OWL.Ontology))
    module.add((EKG["ontology/imports/synthetic_import"], DCTERMS.title,
                _label("exomirkg import module: synthetic external IDs")))

    remaining = max(n_triples - size.value, 0)
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
    while size.value < n_triples or index < 4:
        parts[index % sections].add_distinct(_finding(
            index, seed, rng, section, family, pools, transporters, mechanisms))
        index += 1
    graphs[entity_graph("synthetic")] = entities.lines
    for stem, part in zip(_section_stems(sections), parts, strict=True):
        graphs[section_graph(stem)] = part.lines
    graphs[import_graph("synthetic")] = module.lines
    return NTriples(graphs, size.value)


def _finding(index: int, seed: int, rng: random.Random, section: URIRef, family: URIRef,
             pools: dict[str, list[URIRef]], transporters: list[URIRef],
             mechanisms: list[URIRef]) -> list[tuple[Node, Node, Node]]:
    """One n-ary finding, as the curated sections write them. A triple may come twice (a
    second miRNA drawn equal to the first; drug efflux both as the cargo family's mechanism
    and drawn among the mechanisms): the caller keeps one of each."""
    triples: list[tuple[Node, Node, Node]] = []
    add = triples.append
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
    return triples


def write_nquads(data: NTriples, path: Path) -> Path:
    """Write the graphs as one N-Quads file, line by line (the lines as rdflib's nquads
    serializer writes them, in another order).

    :returns: ``path``.
    """
    with path.open("wb") as out:
        for name, lines in data.graphs.items():
            tail = f" <{name}> .\n".encode()
            # An N-Triples line ends " .\n"; the graph's name goes before the dot.
            out.writelines(line[:-3] + tail for line in lines)
    return path


class _LineStream(io.RawIOBase):
    """Lines read as one file: pyoxigraph parses them without a joined copy (1 GB at 10^7)."""

    def __init__(self, lines: Iterable[bytes]) -> None:
        self._lines = iter(lines)
        self._rest = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:
        wanted = len(buffer)
        pieces, size = [self._rest], len(self._rest)
        for line in self._lines:
            pieces.append(line)
            size += len(line)
            if size >= wanted:
                break
        chunk = b"".join(pieces)
        buffer[: min(size, wanted)] = chunk[:wanted]
        self._rest = chunk[wanted:]
        return min(size, wanted)


def _data_files(names: Iterable[URIRef]) -> list[tuple[URIRef, str]]:
    """The generated graphs and the data folder's files that hold them."""
    prefix = str(section_graph("synthetic"))
    sections = sorted(name for name in names
                      if str(name) == prefix or name.startswith(prefix + "_"))
    return [(entity_graph("synthetic"), "triples/entities/synthetic.ttl"),
            *((name, f"triples/sections/{name.rsplit('/', 1)[1]}.ttl") for name in sections),
            (GRAPH_REVIEW, "triples/review.ttl"),
            (import_graph("synthetic"), "ontology/imports/synthetic_import.ttl")]


def write_data_root(data: Dataset | NTriples, folder: Path) -> Path:
    """Write a generated dataset as a data folder ``exomirkg build --data-root`` reads: the
    checkout's ontology (with imports and rules) and validation folders, and the synthetic
    graphs as ``triples/entities/synthetic.ttl``, ``triples/sections/synthetic.ttl`` (or
    ``synthetic_<k>.ttl``, one per section graph), ``triples/review.ttl`` and
    ``ontology/imports/synthetic_import.ttl``, so a benchmark measures the build as it runs,
    Turtle parse included.

    :param data: from :func:`generate_ntriples` (any size) or :func:`generate`; the files are
        the same bytes either way.
    :returns: ``folder``.
    """
    shutil.copytree(paths.ONTOLOGY_DIR, folder / "ontology", dirs_exist_ok=True)
    shutil.copytree(paths.VALIDATION_DIR, folder / "validation", dirs_exist_ok=True)
    names = data.graphs if isinstance(data, NTriples) else [g.identifier for g in data.graphs()]
    for graph, target in _data_files(names):
        out = folder / target
        out.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, NTriples):
            lines = data.graphs[graph]
        else:
            lines = data.graph(graph).serialize(format="nt", encoding="utf-8").splitlines(True)
        # Sorted, so that the writer groups each subject's statements as a curator would.
        # rdflib's Turtle writer takes minutes at 10^6 triples; pyoxigraph's, seconds.
        statements = pyoxigraph.parse(io.BufferedReader(_LineStream(sorted(lines))),
                                      format=pyoxigraph.RdfFormat.N_TRIPLES)
        pyoxigraph.serialize(statements, str(out), format=pyoxigraph.RdfFormat.TURTLE,
                             prefixes=PREFIXES)
    return folder
