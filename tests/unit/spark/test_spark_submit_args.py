"""The spark-submit entry's arguments: ede's own, the spec, and a scheduler's to ignore."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from enterprise_data_engineering.spark.submit import _split_arguments, main


@pytest.mark.parametrize(
    ("argv", "ours", "theirs"),
    [
        (
            ["spec.yaml", "--param", "day=1", "-p", "x=2", "--output-format=json"],
            ["spec.yaml", "--param", "day=1", "-p", "x=2", "--output-format=json"],
            [],
        ),
        (
            [
                "--JOB_NAME",
                "nightly",
                "--spec",
                "s3://b/p.yaml",
                "--enable-metrics",
                "--no-history",
            ],
            ["s3://b/p.yaml", "--no-history"],
            ["--JOB_NAME", "nightly", "--enable-metrics"],
        ),
        (
            ["--select", "orders", "p.yaml", "--TempDir", "s3://tmp", "--status-file", "s.json"],
            ["--select", "orders", "p.yaml", "--status-file", "s.json"],
            ["--TempDir", "s3://tmp"],
        ),
    ],
)
def test_arguments_are_split(argv: list[str], ours: list[str], theirs: list[str]) -> None:
    mine, foreign, spec = _split_arguments(argv)
    assert (mine, foreign) == (ours, theirs)
    assert spec is not None and mine[spec].endswith(".yaml")


def test_print_path_names_a_file_spark_submit_can_run(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--print-path"]) == 0
    path = Path(capsys.readouterr().out.strip())
    assert path.name == "submit.py" and path.is_file()


def test_help_prints_the_usage() -> None:
    code = "from enterprise_data_engineering.spark.submit import main; import sys; sys.exit(main(['--help']))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0
    assert "spark-submit" in done.stdout
