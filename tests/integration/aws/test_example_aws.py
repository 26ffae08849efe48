"""examples/aws runs end to end against its own local emulator, and validates offline."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.aws

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "aws"


def test_example_runs_against_a_local_emulator(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(EXAMPLE / "run_local.py")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert '"status": "succeeded"' in proc.stdout
    assert "curated/revenue_by_region/region=eu/part-" in proc.stdout
    assert ".ede-staging" not in proc.stdout
    assert "monitor-bot" not in proc.stdout + proc.stderr  # the secret's value
    assert "Glue table ede_example.revenue_by_region" in proc.stdout


def test_example_validates_without_aws(ede: Any) -> None:
    code, _, err = ede("validate", EXAMPLE / "pipeline.yaml", env={"AWS_ENDPOINT_URL": None})
    assert code == 0, err
