"""A plan as a list of nodes in execution order (what ``ede plan`` prints)."""

from __future__ import annotations

from typing import Any

from enterprise_data_engineering.planning.plan import Plan


def describe_plan(plan: Plan) -> list[dict[str, Any]]:
    """Each node in order: name, kind, inputs, what it does, its checks, what it writes."""
    checks: dict[str, list[str]] = {}
    for chk in plan.checks:
        suffix = f" [{chk.severity}]" if not chk.quarantines else " [quarantine]"
        checks.setdefault(chk.table, []).append(chk.name + suffix)
    writes: dict[str, list[str]] = {}
    for sink in plan.sinks:
        extra = f" by {', '.join(sink.spec.partition_by)}" if sink.spec.partition_by else ""
        writes.setdefault(sink.name, []).append(
            f"{sink.spec.format} {sink.spec.mode} → {sink.path}{extra}"
        )
    for table in sorted({c.table for c in plan.checks if c.quarantines}):
        writes.setdefault(table, []).append(f"quarantine → {plan.quarantine_path}/{table}")
    nodes: list[dict[str, Any]] = []
    for name, src in plan.sources.items():
        nodes.append(
            {
                "name": name,
                "kind": "source",
                "inputs": [],
                "does": f"read {src.spec.format} {src.request.path}",
                "checks": checks.get(name, []),
                "writes": writes.get(name, []),
            }
        )
    for step in plan.steps:
        parts = ["sql"] if step.query is not None else []
        parts += [t.name for t in step.transforms]
        nodes.append(
            {
                "name": step.name,
                "kind": "step",
                "inputs": list(step.inputs),
                "does": " → ".join(parts) or "select *",
                "checks": checks.get(step.name, []),
                "writes": writes.get(step.name, []),
            }
        )
    return nodes
