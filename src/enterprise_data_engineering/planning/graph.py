"""The lineage graph of a plan, rendered as Mermaid, Graphviz DOT or a self-contained HTML page.

The HTML page draws the graph as inline SVG laid out here (layers by longest path from the
sources), so it opens offline: no script, font or stylesheet is fetched from anywhere.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass

from enterprise_data_engineering.planning.plan import Plan


@dataclass(frozen=True)
class Node:
    """A node of the lineage graph."""

    id: str
    label: str
    kind: str  # source | step | sink | quarantine
    detail: str


def lineage(plan: Plan) -> tuple[list[Node], list[tuple[str, str]]]:
    """Nodes and edges of the plan: sources → steps → sinks (and quarantine outputs)."""
    nodes: list[Node] = []
    edges: list[tuple[str, str]] = []
    checks_by_table: dict[str, list[str]] = {}
    for chk in plan.checks:
        checks_by_table.setdefault(chk.table, []).append(chk.name)
    for name, src in plan.sources.items():
        detail = f"{src.spec.format}: {src.spec.path}"
        if checks_by_table.get(name):  # a source's checks, as a step's (quarantine included)
            detail += f" | checks: {', '.join(checks_by_table[name])}"
        nodes.append(Node(f"source:{name}", name, "source", detail))
    for step in plan.steps:
        what = "sql" if step.query is not None else "transforms"
        ops = [t.name for t in step.transforms]
        detail = ", ".join(([what] if step.query is not None else []) + ops) or what
        if checks_by_table.get(step.name):
            detail += f" | checks: {', '.join(checks_by_table[step.name])}"
        nodes.append(Node(f"step:{step.name}", step.name, "step", detail))
        for table in step.inputs:
            kind = "source" if table in plan.sources else "step"
            edges.append((f"{kind}:{table}", f"step:{step.name}"))
    for sink in plan.sinks:
        kind = "source" if sink.name in plan.sources else "step"
        sink_id = f"sink:{sink.name}"
        nodes.append(Node(sink_id, f"{sink.name} ({sink.spec.format})", "sink", sink.spec.path))
        edges.append((f"{kind}:{sink.name}", sink_id))
    quarantined = sorted({c.table for c in plan.checks if c.quarantines})
    for table in quarantined:
        node_id = f"quarantine:{table}"
        folder = f"{plan.quarantine_path.rstrip('/')}/{table}"  # where its rows are published
        nodes.append(Node(node_id, f"quarantine/{table}", "quarantine", folder))
        kind = "source" if table in plan.sources else "step"
        edges.append((f"{kind}:{table}", node_id))
    return nodes, edges


def _safe_id(node_id: str) -> str:
    return "n_" + "".join(c if c.isalnum() else "_" for c in node_id)


def to_mermaid(plan: Plan) -> str:
    """Mermaid ``flowchart LR`` text."""
    nodes, edges = lineage(plan)
    shapes = {
        "source": ("[(", ")]"),
        "step": ("[", "]"),
        "sink": ("[/", "/]"),
        "quarantine": ("{{", "}}"),
    }
    lines = ["flowchart LR"]
    for n in nodes:
        left, right = shapes[n.kind]
        label = n.label.replace('"', "'")
        lines.append(f'    {_safe_id(n.id)}{left}"{label}"{right}')
    lines.extend(f"    {_safe_id(a)} --> {_safe_id(b)}" for a, b in edges)
    for kind in ("source", "step", "sink", "quarantine"):
        ids = [_safe_id(n.id) for n in nodes if n.kind == kind]
        if ids:
            lines.append(f"    class {','.join(ids)} {kind};")
    lines += [
        "    classDef source fill:#e3f2fd,stroke:#1e88e5;",
        "    classDef step fill:#f1f8e9,stroke:#7cb342;",
        "    classDef sink fill:#fff3e0,stroke:#fb8c00;",
        "    classDef quarantine fill:#fce4ec,stroke:#d81b60;",
    ]
    return "\n".join(lines) + "\n"


def _dot_string(text: str) -> str:
    """A DOT double-quoted string: ``"`` and ``\\`` escaped, other characters as they are.

    (JSON's ``\\u00e9`` escapes are not DOT: Graphviz would print them literally.)
    """
    return json.dumps(text, ensure_ascii=False)


def to_dot(plan: Plan) -> str:
    """Graphviz DOT text."""
    nodes, edges = lineage(plan)
    styles = {
        "source": 'shape=cylinder, style=filled, fillcolor="#e3f2fd"',
        "step": 'shape=box, style="rounded,filled", fillcolor="#f1f8e9"',
        "sink": 'shape=folder, style=filled, fillcolor="#fff3e0"',
        "quarantine": 'shape=folder, style=filled, fillcolor="#fce4ec"',
    }
    lines = [
        f"digraph {_dot_string(plan.name)} {{",
        "    rankdir=LR;",
        "    node [fontname=Helvetica];",
    ]
    for n in nodes:
        lines.append(
            f"    {_dot_string(n.id)} [label={_dot_string(n.label)}, "
            f"tooltip={_dot_string(n.detail)}, {styles[n.kind]}];"
        )
    lines.extend(f"    {_dot_string(a)} -> {_dot_string(b)};" for a, b in edges)
    lines.append("}")
    return "\n".join(lines) + "\n"


def _layout(nodes: list[Node], edges: list[tuple[str, str]]) -> dict[str, tuple[int, int]]:
    """Layer = longest path from a root; rows in order of appearance within a layer."""
    preds: dict[str, list[str]] = {n.id: [] for n in nodes}
    for a, b in edges:
        preds[b].append(a)
    layer: dict[str, int] = {}

    def depth(node_id: str, seen: frozenset[str] = frozenset()) -> int:
        if node_id not in layer:
            ps = [p for p in preds[node_id] if p not in seen]
            layer[node_id] = 1 + max((depth(p, seen | {node_id}) for p in ps), default=-1)
        return layer[node_id]

    rows: dict[int, int] = {}
    out: dict[str, tuple[int, int]] = {}
    for n in nodes:
        col = depth(n.id)
        out[n.id] = (col, rows.get(col, 0))
        rows[col] = rows.get(col, 0) + 1
    return out


def to_html(plan: Plan) -> str:
    """One self-contained HTML page with the graph as inline SVG (works offline)."""
    nodes, edges = lineage(plan)
    grid = _layout(nodes, edges)
    w, h, gap_x, gap_y, pad = 190, 46, 80, 28, 20
    pos = {nid: (pad + c * (w + gap_x), pad + r * (h + gap_y)) for nid, (c, r) in grid.items()}
    width = max((x for x, _ in pos.values()), default=0) + w + pad
    height = max((y for _, y in pos.values()), default=0) + h + pad
    fills = {
        "source": ("#e3f2fd", "#1e88e5"),
        "step": ("#f1f8e9", "#7cb342"),
        "sink": ("#fff3e0", "#fb8c00"),
        "quarantine": ("#fce4ec", "#d81b60"),
    }
    parts: list[str] = []
    for a, b in edges:
        (x1, y1), (x2, y2) = pos[a], pos[b]
        sx, sy, ex, ey = x1 + w, y1 + h / 2, x2, y2 + h / 2
        mx = (sx + ex) / 2
        parts.append(
            f'<path class="edge" d="M{sx},{sy} C{mx},{sy} {mx},{ey} {ex - 6},{ey}" '
            'marker-end="url(#arrow)"/>'
        )
    for n in nodes:
        x, y = pos[n.id]
        fill, stroke = fills[n.kind]
        label = n.label if len(n.label) <= 26 else n.label[:25] + "…"
        parts.append(
            f'<g class="node {n.kind}"><title>{html.escape(n.kind)}: {html.escape(n.label)}\n'
            f"{html.escape(n.detail)}</title>"
            f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="8" '
            f'fill="{fill}" stroke="{stroke}"/>'
            f'<text x="{x + w / 2}" y="{y + 19}" class="label">{html.escape(label)}</text>'
            f'<text x="{x + w / 2}" y="{y + 36}" class="kind">{html.escape(n.kind)}</text></g>'
        )
    title = html.escape(plan.name)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{title} — lineage</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 24px; color: #222; }}
.edge {{ fill: none; stroke: #90a4ae; stroke-width: 1.6; }}
.label {{ font-size: 13px; font-weight: 600; text-anchor: middle; }}
.kind {{ font-size: 10px; fill: #607d8b; text-anchor: middle; }}
.node:hover rect {{ stroke-width: 3; }}
</style></head>
<body><h1>{title}</h1>
<p>{html.escape(plan.loaded.spec.description or "")}</p>
<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"
     viewBox="0 0 {width} {height}" role="img" aria-label="lineage of {title}">
<defs><marker id="arrow" viewBox="0 0 10 10" refX="5" refY="5" markerWidth="7"
  markerHeight="7" orient="auto-start-reverse">
  <path d="M0,0 L10,5 L0,10 z" fill="#90a4ae"/></marker></defs>
{chr(10).join(parts)}
</svg>
</body></html>
"""


RENDERERS = {"mermaid": to_mermaid, "dot": to_dot, "html": to_html}
