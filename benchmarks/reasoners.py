"""Compare the OWL 2 RL engines owlrl and reasonable on the review graph and a synthetic one.

Not a test: prints one table per graph and the ratios measured in this run.

    python benchmarks/reasoners.py                 # review graph + synthetic 10^5 triples
    python benchmarks/reasoners.py --sizes 20000   # other synthetic sizes

For each graph it times (a) each engine alone on the reasoning input (TBox + ABox without
literals and annotation triples, import modules only) and counts what it derives per OWL
construct, which shows what ``reasonable`` skips; (b) the full ``exomirkg.reason.infer``
(engine + rules to a fixpoint) with each engine, and whether both give the same ABox.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from rdflib import Dataset, Graph, URIRef
from rdflib.namespace import OWL, RDF, RDFS
from synthetic import generate

from exomirkg.load import load_dataset
from exomirkg.namespaces import EKG
from exomirkg.reason import _worth_keeping, infer, reasoning_input

#: What each OWL construct yields, counted in an engine's output.
CONSTRUCTS: dict[str, Callable[[set], int]] = {
    "property chain (drugLinkedToMechanism)": lambda s: sum(
        1 for t in s if t[1] == EKG.drugLinkedToMechanism),
    "property chain (miRNA sign rules)": lambda s: sum(
        1 for t in s if t[1] in (EKG.miRNAActivatesPathway, EKG.miRNAInhibitsPathway)),
    "hasValue + intersection (drug classes)": lambda s: sum(
        1 for t in s if t[1] == RDF.type and t[2] in (
            EKG.PlatinumDrug, EKG.Antimetabolite, EKG.TyrosineKinaseInhibitor,
            EKG.AzoleAntifungal, EKG.MicrotubuleStabilisingAgent,
            EKG.FarnesyltransferaseInhibitor)),
    "inverseOf (drugInFinding)": lambda s: sum(1 for t in s if t[1] == EKG.drugInFinding),
    "subPropertyOf (hasCargo, regulatesGene)": lambda s: sum(
        1 for t in s if t[1] in (EKG.hasCargo, EKG.regulatesGene)),
    "domain/range typing (rdf:type)": lambda s: sum(1 for t in s if t[1] == RDF.type),
    "TBox: subClassOf between named classes": lambda s: sum(
        1 for t in s if t[1] == RDFS.subClassOf and isinstance(t[2], URIRef)),
}


_SCHEMA = (str(RDFS), str(OWL))


def _is_abox(triple: tuple) -> bool:
    """A statement about individuals, not about classes and properties."""
    _subject, predicate, obj = triple
    if str(predicate).startswith(_SCHEMA):
        return False
    return not (predicate == RDF.type and str(obj).startswith(_SCHEMA))


def _owlrl(graph: Graph) -> set:
    import owlrl

    closure = Graph()
    for triple in graph:
        closure.add(triple)
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics, axiomatic_triples=False).expand(closure)
    return set(closure)


def _reasonable(graph: Graph) -> set:
    import reasonable

    reasoner = reasonable.PyReasoner()
    reasoner.from_graph(graph)
    return set(reasoner.reason())


def _timed(func, *args, **kwargs):
    start = time.perf_counter()
    result = func(*args, **kwargs)
    return time.perf_counter() - start, result


def compare(name: str, dataset: Dataset) -> None:
    """Print the comparison table for one dataset."""
    union = Graph()
    for triple in dataset.triples((None, None, None)):
        union.add(triple)
    source = reasoning_input(union)
    print(f"\n## {name}: {len(union)} triples; reasoning input {len(source)} triples")
    alone = {}
    for engine, run in (("owlrl", _owlrl), ("reasonable", _reasonable)):
        seconds, closure = _timed(run, source)
        new = {t for t in closure if _worth_keeping(t)} - set(source)
        alone[engine] = (seconds, new)
    print(f"{'engine alone':<42}{'owlrl':>12}{'reasonable':>12}")
    print(f"{'  seconds':<42}{alone['owlrl'][0]:>12.2f}{alone['reasonable'][0]:>12.2f}")
    print(f"{'  new triples (no trivia)':<42}{len(alone['owlrl'][1]):>12}"
          f"{len(alone['reasonable'][1]):>12}")
    for label, count in CONSTRUCTS.items():
        print(f"  {label:<40}{count(alone['owlrl'][1]):>12}{count(alone['reasonable'][1]):>12}")
    full = {}
    for engine in ("owlrl", "reasonable"):
        seconds, inferred = _timed(infer, dataset, engine=engine)
        full[engine] = (seconds, set(inferred))
    print(f"{'infer(): engine + rules to a fixpoint':<42}{'owlrl':>12}{'reasonable':>12}")
    print(f"{'  seconds':<42}{full['owlrl'][0]:>12.2f}{full['reasonable'][0]:>12.2f}")
    print(f"{'  inferred triples':<42}{len(full['owlrl'][1]):>12}{len(full['reasonable'][1]):>12}")
    for prop in ("drugLinkedToMechanism", "resistanceViaMechanism", "resistanceViaPathway",
                 "exposedToResistanceVia"):
        counts = [sum(1 for t in full[e][1] if t[1] == EKG[prop]) for e in ("owlrl", "reasonable")]
        print(f"  {prop + ' links':<40}{counts[0]:>12}{counts[1]:>12}")
    links = [sum(1 for t in full[e][1] if t[1] == RDF.type and t[2] == EKG.InferredLink)
             for e in ("owlrl", "reasonable")]
    print(f"  {'InferredLink explanation nodes':<40}{links[0]:>12}{links[1]:>12}")
    abox = [{t for t in full[e][1] if _is_abox(t)} for e in ("owlrl", "reasonable")]
    print(f"  ABox triples only in owlrl: {len(abox[0] - abox[1])}, "
          f"only in reasonable: {len(abox[1] - abox[0])} (of {len(abox[0])})")
    engine_ratio = alone["owlrl"][0] / alone["reasonable"][0]
    infer_ratio = full["owlrl"][0] / full["reasonable"][0]
    print(f"ratio owlrl / reasonable: engine alone {engine_ratio:.1f}x, infer() {infer_ratio:.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[100_000],
                        help="synthetic graph sizes in triples")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    compare("review graph", load_dataset())
    for size in args.sizes:
        seconds, dataset = _timed(generate, size, args.seed)
        compare(f"synthetic {size} (seed {args.seed}, generated in {seconds:.1f} s)", dataset)


if __name__ == "__main__":
    main()
