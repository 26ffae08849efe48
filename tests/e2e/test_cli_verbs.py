"""The happy path of every ``ede`` verb, through the real command line (a subprocess)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from enterprise_data_engineering.__about__ import __version__

HEAVY = ("duckdb", "pyspark", "boto3", "botocore")

PIPELINE = """\
    name: orders_daily
    description: Clean and aggregate orders
    params:
      min_amount: 0
      region: eu
    sources:
      orders:
        format: csv
        path: data/${params.region}/orders.csv
        options: {header: true}
      customers: {format: csv, path: data/customers.csv}
    steps:
      # declared before the step it reads: the plan orders them
      - name: revenue_by_region
        sql: |
          SELECT c.region, sum(o.amount) AS revenue
          FROM orders_clean o JOIN customers c USING (customer_id)
          GROUP BY c.region
      - name: orders_clean
        input: orders
        transforms:
          - clean_column_names
          - filter: "amount > ${params.min_amount}"
          - deduplicate: {keys: [order_id], order_by: "order_id"}
    checks:
      - {table: orders_clean, check: not_null, columns: [order_id, amount]}
      - {table: orders_clean, check: unique, columns: [order_id]}
      - {table: revenue_by_region, check: row_count, min: 1}
    sinks:
      revenue_by_region:
        format: parquet
        path: out/revenue_by_region
      orders_clean: {format: csv, path: out/orders_clean}
    """

ORDERS_CSV = """\
Order ID,Customer ID,Amount
1,10,5.5
2,11,7.0
2,11,7.0
3,10,-1
"""

CUSTOMERS_CSV = """\
customer_id,region
10,north
11,south
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project folder with the spec and its (tiny) data; returns the spec's path."""
    root = tmp_path / "project"
    (root / "data" / "eu").mkdir(parents=True)
    (root / "data" / "eu" / "orders.csv").write_text(ORDERS_CSV, encoding="utf-8")
    (root / "data" / "customers.csv").write_text(CUSTOMERS_CSV, encoding="utf-8")
    spec = root / "pipeline.yaml"
    spec.write_text(textwrap.dedent(PIPELINE), encoding="utf-8")
    return spec


# --- version, help, info ---------------------------------------------------------------------


def test_version(ede: Any) -> None:
    from importlib.metadata import version

    code, stdout, stderr = ede("--version")

    assert code == 0, stderr
    assert stdout.strip() == f"ede {__version__}"
    assert version("enterprise-data-engineering") == __version__


def test_console_script_is_the_same_cli() -> None:
    script = Path(sys.executable).with_name("ede")
    if not script.exists():
        pytest.skip("the `ede` console script is not installed next to this interpreter")
    out = subprocess.run([script, "--version"], capture_output=True, text=True, check=False)
    assert out.returncode == 0
    assert out.stdout.strip() == f"ede {__version__}"


def test_help_lists_the_verbs(ede: Any) -> None:
    code, stdout, stderr = ede("--help")

    assert code == 0, stderr
    for verb in ("validate", "plan", "graph", "run", "runs", "schema", "info"):
        assert re.search(rf"\b{verb}\b", stdout), verb


def _imported_top_level(importtime_stderr: str) -> set[str]:
    """Top-level package names from ``python -X importtime`` output."""
    names: set[str] = set()
    for line in importtime_stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return names


def test_help_does_not_import_heavy_libraries(ede: Any) -> None:
    code, _, stderr = ede("--help", python_flags=("-X", "importtime"))

    assert code == 0
    imported = _imported_top_level(stderr)
    assert "enterprise_data_engineering" in imported  # the probe works
    assert imported.isdisjoint(HEAVY), imported & set(HEAVY)


@pytest.mark.parametrize("args", [["--help"], ["validate", "SPEC"]], ids=["help", "validate"])
def test_fast_path_leaves_heavy_libraries_unimported(project: Path, args: list[str]) -> None:
    argv = [str(project) if a == "SPEC" else a for a in args]
    probe = textwrap.dedent(
        f"""\
        import json, sys
        from enterprise_data_engineering.cli.app import main
        try:
            main({argv!r})
        except SystemExit as exc:
            code = exc.code
        print(json.dumps({{"code": code, "heavy": [m for m in {HEAVY!r} if m in sys.modules]}}))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False, timeout=60
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"code": 0, "heavy": []}, out.stderr


def test_a_duckdb_run_loads_neither_spark_s3_nor_plugins(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What the embedded engine's run path must not pay for (docs/performance.md).
    monkeypatch.setenv("EDE_HOME", str(tmp_path / "home"))
    probe = textwrap.dedent(
        f"""\
        import json, sys
        from enterprise_data_engineering.cli.app import main
        from enterprise_data_engineering.common_utils import registry
        try:
            main(["run", {str(project)!r}, "--output-format", "json"])
        except SystemExit as exc:
            code = exc.code
        unwanted = ["pyspark", "boto3", "enterprise_data_engineering.engines.spark",
                    "enterprise_data_engineering.storage.s3"]
        print(json.dumps({{"code": code, "loaded": [m for m in unwanted if m in sys.modules],
                          "entry_points_read": registry._all_entry_points.cache_info().currsize}}))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False, timeout=120
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"code": 0, "loaded": [], "entry_points_read": 0}, out.stderr


def test_info(ede: Any) -> None:
    code, stdout, stderr = ede("info")

    assert code == 0, stderr
    lowered = stdout.lower()
    assert "duckdb" in lowered
    assert "python" in lowered
    assert __version__ in stdout


def test_python_dash_m_version(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "enterprise_data_engineering", "--version"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert out.returncode == 0
    assert out.stdout.strip() == f"ede {__version__}"


# --- validate, plan ----------------------------------------------------------------------------


def test_validate_ok(ede: Any, project: Path) -> None:
    code, stdout, stderr = ede("validate", "project/pipeline.yaml")

    assert code == 0, stderr
    assert "ok" in stdout
    assert "orders_daily" in stdout
    assert "2 source(s), 2 step(s), 3 check(s), 2 sink(s)" in stdout
    assert not (project.parent / "out").exists()


def test_plan_text_lists_nodes_in_execution_order(ede: Any, project: Path) -> None:
    code, stdout, stderr = ede("plan", project)

    assert code == 0, stderr
    positions = [stdout.index(name) for name in ("customers", "orders_clean", "revenue_by_region")]
    assert positions == sorted(positions)
    assert stdout.index("orders_clean") < stdout.rindex("revenue_by_region")
    for fragment in ("source", "step", "orders_clean.not_null", "parquet overwrite"):
        assert fragment in stdout


def test_plan_json(ede: Any, project: Path) -> None:
    code, stdout, stderr = ede("plan", project, "--output-format", "json")

    assert code == 0, stderr
    plan = json.loads(stdout)
    assert plan["pipeline"] == "orders_daily"
    nodes = {n["name"]: n for n in plan["nodes"]}
    names = [n["name"] for n in plan["nodes"]]
    assert names == ["orders", "customers", "orders_clean", "revenue_by_region"]
    assert nodes["orders"]["kind"] == "source"
    assert nodes["orders_clean"]["inputs"] == ["orders"]
    assert sorted(nodes["revenue_by_region"]["inputs"]) == ["customers", "orders_clean"]
    out = project.parent / "out"
    assert any(str(out / "revenue_by_region") in w for w in nodes["revenue_by_region"]["writes"])
    assert any(str(out / "orders_clean") in w for w in nodes["orders_clean"]["writes"])
    assert nodes["customers"]["writes"] == []
    assert "orders_clean.unique.order_id [error]" in nodes["orders_clean"]["checks"]


def test_plan_select_keeps_what_the_step_needs(ede: Any, project: Path) -> None:
    code, stdout, stderr = ede("plan", project, "-f", "json", "--select", "orders_clean")

    assert code == 0, stderr
    assert [n["name"] for n in json.loads(stdout)["nodes"]] == ["orders", "orders_clean"]


def test_param_override_is_visible_in_the_plan(ede: Any, project: Path) -> None:
    (project.parent / "data" / "us").mkdir()

    default = json.loads(ede("plan", project, "-f", "json").stdout)
    code, stdout, stderr = ede("plan", project, "-f", "json", "--param", "region=us")

    assert code == 0, stderr
    does = {n["name"]: n["does"] for n in json.loads(stdout)["nodes"]}
    before = {n["name"]: n["does"] for n in default["nodes"]}
    assert str(project.parent / "data" / "eu" / "orders.csv") in before["orders"]
    assert str(project.parent / "data" / "us" / "orders.csv") in does["orders"]


def test_relative_paths_resolve_against_the_spec_folder(
    ede: Any, project: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "somewhere" / "else"
    elsewhere.mkdir(parents=True)

    code, stdout, stderr = ede("plan", "../../project/pipeline.yaml", "-f", "json", cwd=elsewhere)

    assert code == 0, stderr
    does = {n["name"]: n["does"] for n in json.loads(stdout)["nodes"]}
    assert does["customers"] == f"read csv {project.parent / 'data' / 'customers.csv'}"
    assert str(elsewhere) not in stdout


# --- graph ---------------------------------------------------------------------------------------

NODE_NAMES = ("orders", "customers", "orders_clean", "revenue_by_region")


def test_graph_mermaid(ede: Any, project: Path) -> None:
    code, stdout, stderr = ede("graph", project, "--format", "mermaid")

    assert code == 0, stderr
    assert stdout.startswith("flowchart")
    for name in NODE_NAMES:
        assert f'"{name}"' in stdout
    assert "-->" in stdout


def test_graph_dot(ede: Any, project: Path) -> None:
    code, stdout, stderr = ede("graph", project, "--format", "dot")

    assert code == 0, stderr
    text = stdout.strip()
    assert re.match(r'^digraph "orders_daily" \{', text)
    assert text.endswith("}")
    assert text.count("{") == text.count("}")
    edges = re.findall(r'^\s*"([^"]+)" -> "([^"]+)";$', text, flags=re.MULTILINE)
    assert ("source:orders", "step:orders_clean") in edges
    assert ("step:orders_clean", "step:revenue_by_region") in edges
    assert ("step:revenue_by_region", "sink:revenue_by_region") in edges


def test_graph_html_is_one_self_contained_page(ede: Any, project: Path) -> None:
    code, stdout, stderr = ede("graph", project, "--format", "html")

    assert code == 0, stderr
    assert stdout.lstrip().lower().startswith("<!doctype html>")
    assert "<script src" not in stdout.lower()
    assert "<link" not in stdout.lower()
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", stdout))
    assert urls <= {"http://www.w3.org/2000/svg"}, urls
    assert "<svg" in stdout
    for name in NODE_NAMES:
        assert name in stdout


def test_graph_output_file(ede: Any, project: Path, tmp_path: Path) -> None:
    target = tmp_path / "docs" / "lineage.html"

    code, stdout, stderr = ede("graph", project, "-f", "html", "-o", target)

    assert code == 0, stderr
    assert stdout == ""
    assert target.read_text(encoding="utf-8") == ede("graph", project, "-f", "html").stdout


# --- schema --------------------------------------------------------------------------------------


def test_schema_is_a_json_schema_of_the_spec(ede: Any) -> None:
    code, stdout, stderr = ede("schema")

    assert code == 0, stderr
    schema = json.loads(stdout)
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert schema["type"] == "object"
    assert {"name", "sources", "steps", "checks", "sinks", "params"} <= set(schema["properties"])
    assert "name" in schema["required"]
    defs = schema["$defs"]
    transforms = defs["StepSpec"]["properties"]["transforms"]["items"]["anyOf"]
    consts = {item.get("const") for item in transforms}
    keyed = {key for item in transforms for key in item.get("properties", {})}
    assert "clean_column_names" in consts
    assert {"cast", "filter", "deduplicate", "select"} <= keyed
    assert {"not_null", "unique", "row_count"} <= set(
        defs["CheckSpec"]["properties"]["check"]["enum"]
    )
    assert set(defs["SourceSpec"]["properties"]["format"]["enum"]) == {"csv", "parquet", "json"}


# --- run -----------------------------------------------------------------------------------------


def test_run_with_unknown_select_is_a_configuration_error(ede: Any, project: Path) -> None:
    code, _, stderr = ede("run", project, "--select", "orders_clen")

    assert code == 1
    assert "orders_clen" in stderr
    assert "did you mean `orders_clean`?" in stderr
    assert "Traceback" not in stderr
    assert not (project.parent / "out").exists()


def test_run_then_runs_list_and_show(ede: Any, project: Path) -> None:
    code, stdout, stderr = ede("run", project, "--output-format", "json")

    assert code == 0, stderr
    report = json.loads(stdout)
    assert report["status"] == "succeeded"
    assert {s["name"]: s["rows"] for s in report["sinks"]} == {
        "revenue_by_region": 2,
        "orders_clean": 2,
    }

    code, stdout, stderr = ede("runs", "list", "--output-format", "json")
    assert code == 0, stderr
    assert [r["run_id"] for r in json.loads(stdout)] == [report["run_id"]]

    code, stdout, stderr = ede("runs", "show", report["run_id"])
    assert code == 0, stderr
    assert json.loads(stdout)["run_id"] == report["run_id"]


# --- usage errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["validate"],
        ["graph", "project/pipeline.yaml", "--format", "png"],
        ["no-such-verb"],
        ["plan", "project/pipeline.yaml", "--no-such-option"],
    ],
    ids=["missing_argument", "bad_choice", "unknown_command", "unknown_option"],
)
def test_usage_errors_exit_1(ede: Any, project: Path, args: list[str]) -> None:
    code, _, stderr = ede(*args)

    assert code == 1, stderr
    assert "Traceback" not in stderr
    assert "unexpected" not in stderr
    assert "Usage:" in stderr or "Error" in stderr
