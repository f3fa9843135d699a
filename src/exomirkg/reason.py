"""Reasoning: OWL 2 RL closure plus the rules in ontology/rules/, into graph/inferred.

First slice: owlrl over the union of the asserted graphs. The reasoning issue replaces this
with rules shipped as data and explanations.
"""

from __future__ import annotations

import logging

from rdflib import Dataset, Graph, Literal
from rdflib.namespace import OWL, RDF, RDFS

__all__ = ["infer"]

logger = logging.getLogger(__name__)


def _worth_keeping(triple: tuple) -> bool:
    """Drop generalised RDF (literal subjects) and trivia every resource entails."""
    subject, predicate, obj = triple
    if isinstance(subject, Literal) or isinstance(predicate, Literal):
        return False
    if predicate == OWL.sameAs and subject == obj:
        return False
    return not (predicate == RDF.type and obj in (OWL.Thing, RDFS.Resource))


def infer(dataset: Dataset) -> Graph:
    """Return the triples entailed by the dataset that it does not assert.

    :param dataset: the asserted dataset (left unchanged).
    :returns: a new graph holding only inferred triples.
    """
    import owlrl

    asserted = Graph()
    for triple in dataset.triples((None, None, None)):
        asserted.add(triple)
    closure = Graph()
    for triple in asserted:
        closure.add(triple)
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics, axiomatic_triples=False).expand(closure)
    inferred = Graph()
    for triple in closure:
        if triple not in asserted and _worth_keeping(triple):
            inferred.add(triple)
    logger.info("inferred %d triples", len(inferred))
    return inferred
