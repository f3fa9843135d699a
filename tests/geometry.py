"""Plane geometry for the network layout's promise: no edge runs behind a drug it does not
end at. Shared by the Flask test client tests (positions from /network.json) and the browser
test (positions read from Cytoscape)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Box:
    """A node's box: centre and size, in the drawing's model coordinates."""

    x: float
    y: float
    width: float
    height: float


def segment_crosses_box(start: tuple[float, float], end: tuple[float, float], box: Box) -> bool:
    """True when the straight segment start-end meets the inside of the box (Liang-Barsky
    clipping: the part of the segment's parameter range left after each of the four sides)."""
    (x0, y0), (x1, y1) = start, end
    dx, dy = x1 - x0, y1 - y0
    low, high = 0.0, 1.0
    left, right = box.x - box.width / 2, box.x + box.width / 2
    top, bottom = box.y - box.height / 2, box.y + box.height / 2
    for p, q in ((-dx, x0 - left), (dx, right - x0), (-dy, y0 - top), (dy, bottom - y0)):
        if p == 0:
            if q < 0:
                return False   # parallel to this side and outside it
            continue
        t = q / p
        if p < 0:
            low = max(low, t)
        else:
            high = min(high, t)
        if low > high:
            return False
    return True


def edges_behind_drugs(boxes: Mapping[str, Box], kinds: Mapping[str, str],
                       edges: Iterable[tuple[str, str]]) -> list[str]:
    """``"source->target behind drug"`` for every edge whose straight segment passes through
    the box of a drug node it does not end at."""
    drugs = [node for node, kind in kinds.items() if kind == "drug"]
    found = []
    for source, target in edges:
        start = (boxes[source].x, boxes[source].y)
        end = (boxes[target].x, boxes[target].y)
        found += [f"{source}->{target} behind {drug}" for drug in drugs
                  if drug not in (source, target)
                  and segment_crosses_box(start, end, boxes[drug])]
    return found
