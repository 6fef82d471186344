"""Simple diagram interchange (BPMN DI) for processes that have none, so bpmn-js can draw them.

Left-to-right layered layout: longest-path layers over the flow graph without its back edges, lanes
as horizontal bands inside one pool per process, boundary events on their host's bottom edge, and
embedded sub-processes drawn collapsed with their content on a drill-down plane (bpmn-js >= 9).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from lxml import etree

from engine.xmlsafe import safe_fromstring

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"

TASKS = {"task", "userTask", "serviceTask", "businessRuleTask", "callActivity", "subProcess",
         "receiveTask", "sendTask", "manualTask", "scriptTask"}
EVENTS = {"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent"}
SIZES = {"task": (100, 80), "event": (36, 36), "gateway": (50, 50)}
COL_W, ROW_H, PAD, HEADER, ORIGIN = 160, 120, 20, 30, (160, 80)


@dataclass
class Graph:
    """Flow nodes, boundary events and sequence flows of one flow-element container."""

    nodes: list[str] = field(default_factory=list)
    kinds: dict[str, str] = field(default_factory=dict)
    boundaries: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    host: dict[str, str] = field(default_factory=dict)
    flows: list[tuple[str, str, str]] = field(default_factory=list)


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _kind(tag: str) -> str | None:
    if tag in TASKS:
        return "task"
    if tag in EVENTS:
        return "event"
    return "gateway" if tag.endswith("Gateway") else None


def _graph(container: etree._Element) -> Graph:
    graph = Graph()
    for el in container:
        tag = _local(el)
        if tag == "boundaryEvent":
            graph.boundaries[el.get("attachedToRef")].append(el.get("id"))
            graph.host[el.get("id")] = el.get("attachedToRef")
        elif tag == "sequenceFlow":
            graph.flows.append((el.get("id"), el.get("sourceRef"), el.get("targetRef")))
        elif kind := _kind(tag):
            graph.nodes.append(el.get("id"))
            graph.kinds[el.get("id")] = kind
    return graph


def _layers(graph: Graph) -> tuple[dict[str, int], set[str]]:
    """Longest-path layer per node and the ids of back edges (found by iterative DFS)."""
    succ: dict[str, list[tuple[str, str]]] = defaultdict(list)
    indeg: dict[str, int] = defaultdict(int)
    for fid, src, tgt in graph.flows:
        succ[graph.host.get(src, src)].append((fid, tgt))
        indeg[tgt] += 1
    roots = [n for n in graph.nodes if indeg[n] == 0] + graph.nodes
    back, done, on_stack = set(), set(), set()
    for root in roots:
        if root in done:
            continue
        stack = [(root, iter(succ[root]))]
        on_stack.add(root)
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                on_stack.discard(node)
                done.add(node)
            elif child[1] in on_stack:
                back.add(child[0])
            elif child[1] not in done:
                on_stack.add(child[1])
                stack.append((child[1], iter(succ[child[1]])))
    return _longest_path(graph, succ, back), back


def _longest_path(graph: Graph, succ, back: set[str]) -> dict[str, int]:
    indeg = dict.fromkeys(graph.nodes, 0)
    for src in succ:
        for fid, tgt in succ[src]:
            if fid not in back and tgt in indeg:
                indeg[tgt] += 1
    layer = dict.fromkeys(graph.nodes, 0)
    ready = [n for n in graph.nodes if indeg[n] == 0]
    while ready:
        node = ready.pop(0)
        for fid, tgt in succ[node]:
            if fid in back or tgt not in indeg:
                continue
            layer[tgt] = max(layer[tgt], layer[node] + 1)
            indeg[tgt] -= 1
            if indeg[tgt] == 0:
                ready.append(tgt)
    return layer


def _rows(graph: Graph, layer: dict[str, int], band: dict[str, int]) -> dict[str, int]:
    """Row of each node in its band: a node follows its predecessor's track unless the cell, or the
    cells its incoming edges run through at that row, are taken (then it moves down)."""
    preds: dict[str, list[str]] = defaultdict(list)
    below = set()
    for _, src, tgt in graph.flows:
        preds[tgt].append(graph.host.get(src, src))
        if src in graph.host:
            below.add(tgt)
    order = {node: index for index, node in enumerate(graph.nodes)}
    taken: set[tuple[int, int, int]] = set()
    row: dict[str, int] = {}
    for node in sorted(graph.nodes, key=lambda n: (layer[n], order[n])):
        placed = [p for p in preds[node] if p in row and layer[p] < layer[node]]
        same = [row[p] for p in placed if band[p] == band[node]]
        want = min(same) + (1 if node in below and len(set(preds[node])) == 1 else 0) if same else 0
        spans = [range(layer[p] + 1, layer[node] + 1) for p in placed] or [range(layer[node], layer[node] + 1)]
        r = want
        while any((band[node], col, r) in taken for span in spans for col in span):
            r += 1
        taken.update((band[node], col, r) for span in spans for col in span)
        row[node] = r
    return row


class Canvas:
    """Collects DI elements for one plane."""

    def __init__(self, plane: etree._Element):
        self.plane = plane
        self.bounds: dict[str, tuple[float, float, float, float]] = {}

    def shape(self, element_id: str, x: float, y: float, w: float, h: float, **attrs: str) -> None:
        shape = etree.SubElement(self.plane, f"{{{BPMNDI}}}BPMNShape",
                                 {"id": f"{element_id}_di", "bpmnElement": element_id, **attrs})
        etree.SubElement(shape, f"{{{DC}}}Bounds",
                         {k: str(round(v)) for k, v in
                          zip(("x", "y", "width", "height"), (x, y, w, h), strict=True)})
        self.bounds[element_id] = (x, y, w, h)

    def edge(self, element_id: str, points: list[tuple[float, float]]) -> None:
        edge = etree.SubElement(self.plane, f"{{{BPMNDI}}}BPMNEdge",
                                {"id": f"{element_id}_di", "bpmnElement": element_id})
        for x, y in points:
            etree.SubElement(edge, f"{{{DI}}}waypoint", x=str(round(x)), y=str(round(y)))


def _lanes(container: etree._Element) -> list[tuple[str, list[str]]]:
    lanes = container.findall(f"{{{BPMN}}}laneSet/{{{BPMN}}}lane")
    return [(lane.get("id"), [r.text for r in lane.findall(f"{{{BPMN}}}flowNodeRef")]) for lane in lanes]


def _place(container: etree._Element, canvas: Canvas, top: float, pool_id: str | None) -> float:
    """Lay out one container on ``canvas`` starting at ``top``; returns the bottom y."""
    graph = _graph(container)
    lanes = _lanes(container)
    band = dict.fromkeys(graph.nodes, 0)
    for index, (_, refs) in enumerate(lanes):
        band.update({ref: index for ref in refs if ref in band})
    layer, back = _layers(graph)
    row = _rows(graph, layer, band)
    bands = max(len(lanes), 1)
    heights = [max([row[n] + 1 for n in graph.nodes if band[n] == b] or [1]) * ROW_H + 2 * PAD
               for b in range(bands)]
    x0 = ORIGIN[0] + (2 * HEADER if pool_id else 0) + PAD
    width = (max(layer.values(), default=0) + 1) * COL_W + 2 * PAD
    band_top = [top + sum(heights[:b]) for b in range(bands)]
    for node in graph.nodes:
        w, h = SIZES[graph.kinds[node]]
        cx = x0 + layer[node] * COL_W + COL_W / 2
        cy = band_top[band[node]] + PAD + row[node] * ROW_H + ROW_H / 2
        extra = {"isExpanded": "false"} if _is_subprocess(container, node) else {}
        canvas.shape(node, cx - w / 2, cy - h / 2, w, h, **extra)
    _boundaries(graph, canvas)
    for fid, src, tgt in graph.flows:
        canvas.edge(fid, _route(canvas.bounds[src], canvas.bounds[tgt], src in graph.host,
                                graph.kinds.get(src) == "gateway", fid in back))
    if pool_id:
        total = x0 + width - ORIGIN[0]
        canvas.shape(pool_id, ORIGIN[0], top, total, sum(heights), isHorizontal="true")
        for (lane_id, _), y, h in zip(lanes, band_top, heights, strict=True):
            canvas.shape(lane_id, ORIGIN[0] + HEADER, y, total - HEADER, h, isHorizontal="true")
    return top + sum(heights)


def _is_subprocess(container: etree._Element, node: str) -> bool:
    return container.find(f"{{{BPMN}}}subProcess[@id='{node}']") is not None


def _boundaries(graph: Graph, canvas: Canvas) -> None:
    for host, events in graph.boundaries.items():
        hx, hy, hw, hh = canvas.bounds[host]
        for index, event in enumerate(events):
            cx = hx + hw * (index + 1) / (len(events) + 1)
            canvas.shape(event, cx - 18, hy + hh - 18, 36, 36)


def _route(src, tgt, from_boundary: bool, from_gateway: bool, back: bool) -> list[tuple[float, float]]:
    """Orthogonal waypoints; long horizontal runs use the target's row (kept free by ``_rows``)."""
    sx, sy, sw, sh = src
    tx, ty, tw, th = tgt
    scx, scy, tcx, tcy = sx + sw / 2, sy + sh / 2, tx + tw / 2, ty + th / 2
    if back or tx <= sx:
        low = max(sy + sh, ty + th) + PAD
        return [(scx, sy + sh), (scx, low), (tcx, low), (tcx, ty + th)]
    if abs(scy - tcy) <= 1 and not from_boundary:
        return [(sx + sw, scy), (tx, tcy)]
    if from_boundary or from_gateway:
        start = (scx, sy + sh) if from_boundary or tcy > scy else (scx, sy)
        return [start, (scx, tcy), (tx, tcy)]
    gap = scx + COL_W / 2
    return [(sx + sw, scy), (gap, scy), (gap, tcy), (tx, tcy)]


def _has_di(root: etree._Element, container: etree._Element) -> bool:
    ids = {el.get("id") for el in container}
    refs = {s.get("bpmnElement") for s in root.iter(f"{{{BPMNDI}}}BPMNShape")}
    return bool(ids & refs)


def _collaboration(root: etree._Element, processes: list[etree._Element]) -> dict[str, str]:
    """A pool (participant) per process with lanes; returns process id -> participant id."""
    pools: dict[str, str] = {}
    for collab in root.iter(f"{{{BPMN}}}collaboration"):
        for part in collab.iter(f"{{{BPMN}}}participant"):
            pools[part.get("processRef")] = part.get("id")
    missing = [p for p in processes if p.get("id") not in pools]
    if not missing:
        return pools
    collab = etree.Element(f"{{{BPMN}}}collaboration", id=f"collaboration_{missing[0].get('id')}")
    processes[0].addprevious(collab)
    for process in missing:
        pool = f"participant_{process.get('id')}"
        etree.SubElement(collab, f"{{{BPMN}}}participant", id=pool,
                         name=process.get("name") or process.get("id"), processRef=process.get("id"))
        pools[process.get("id")] = pool
    return pools


def _diagram(root: etree._Element, element_id: str) -> etree._Element:
    diagram = etree.SubElement(root, f"{{{BPMNDI}}}BPMNDiagram", id=f"diagram_{element_id}")
    return etree.SubElement(diagram, f"{{{BPMNDI}}}BPMNPlane", id=f"plane_{element_id}",
                            bpmnElement=element_id)


def add_layout(xml_bytes: bytes, filename: str = "diagram.bpmn") -> bytes:
    """Return the BPMN with DI added for every process (and sub-process) that has none."""
    root = safe_fromstring(xml_bytes, filename)
    processes = [p for p in root.findall(f"{{{BPMN}}}process") if not _has_di(root, p)]
    if not processes:
        return xml_bytes
    pools = _collaboration(root, processes)
    collab = root.find(f"{{{BPMN}}}collaboration")
    canvas = Canvas(_diagram(root, collab.get("id")))
    top = float(ORIGIN[1])
    for process in processes:
        top = _place(process, canvas, top, pools[process.get("id")]) + 2 * PAD
        for subprocess in process.iter(f"{{{BPMN}}}subProcess"):
            _place(subprocess, Canvas(_diagram(root, subprocess.get("id"))), float(ORIGIN[1]), None)
    etree.indent(root, space="  ")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
