"""Run a pipeline as a Spark application: the entry point for ``spark-submit``.

``spark-submit`` decides where the application runs (``--master yarn``, ``k8s://…``, an EMR
step, a Dataproc job, a Glue job); this entry creates (or joins) the application's Spark
session and runs the spec on it with ``ede run``'s own options, exit codes and reports::

    spark-submit --master yarn --deploy-mode client \\
        "$(python -m enterprise_data_engineering.spark.submit --print-path)" \\
        s3://my-bucket/pipelines/orders_daily.yaml --param day=2026-01-31 \\
        --output-format json --status-file /tmp/orders_daily.json

    python -m enterprise_data_engineering.spark.submit pipeline.yaml --param day=2026-01-31

Arguments: the spec (a local path, or any URL the cluster's Hadoop filesystems read, such as
``s3://`` on EMR or Glue, ``gs://`` on Dataproc; or ``--spec SPEC`` for schedulers that
pass only ``--key value`` pairs), then any option of ``ede run``
(``--param``, ``--select``, ``--output-format``, ``--status-file``, ``--no-history``);
``--engine spark`` is implied. Arguments a scheduler adds that are not for ede (Glue's
``--JOB_NAME …``) are ignored with a note on stderr. The exit code is the run's (CONTRACT §3).
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

#: ``ede run`` options that take a value, and those that do not
_VALUE_OPTIONS = frozenset(
    {"--param", "-p", "--select", "-s", "--output-format", "-f", "--status-file", "--spark-master"}
)
_FLAG_OPTIONS = frozenset({"--history", "--no-history", "--debug"})


def _split_arguments(argv: Sequence[str]) -> tuple[list[str], list[str], int | None]:
    """``(ede run arguments, arguments for someone else, index of the spec in the first)``."""
    ours: list[str] = []
    theirs: list[str] = []
    spec: int | None = None
    i = 0
    while i < len(argv):
        arg = argv[i]
        name = arg.split("=", 1)[0]
        if name == "--spec":  # for schedulers that pass only `--key value` (Glue)
            value = (
                arg.split("=", 1)[1] if "=" in arg else (argv[i + 1] if i + 1 < len(argv) else "")
            )
            spec = len(ours)
            ours.append(value)
            i += 1 if "=" in arg else 2
        elif name in _VALUE_OPTIONS:
            take = 1 if "=" in arg else 2
            ours.extend(argv[i : i + take])
            i += take
        elif arg in _FLAG_OPTIONS or not arg.startswith("-"):
            if spec is None and not arg.startswith("-"):
                spec = len(ours)
            ours.append(arg)
            i += 1
        else:
            # A foreign option and, if the next word is not an option, its value.
            theirs.append(arg)
            i += 1
            if i < len(argv) and not argv[i].startswith("-") and "=" not in arg:
                theirs.append(argv[i])
                i += 1
    return ours, theirs, spec


def _fetch_spec(session: Any, spec: str, folder: Path) -> str:
    """A local copy of a spec given as a URL, read through the cluster's Hadoop filesystems."""
    if "://" not in spec or spec.startswith("file://"):
        return spec
    context = session.sparkContext
    jvm = context._jvm
    source = jvm.org.apache.hadoop.fs.Path(spec)
    fs = source.getFileSystem(context._jsc.hadoopConfiguration())
    target = folder / Path(spec.rstrip("/")).name
    fs.copyToLocalFile(False, source, jvm.org.apache.hadoop.fs.Path(target.as_uri()), True)
    return str(target)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``SPEC [ede run options]`` on Spark; return the run's exit code.

    The Spark session is the one ``spark-submit`` configured (or ``local[*]`` when run with
    plain ``python``); it is stopped at the end only if this function started it.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if args in (["--print-path"], ["--path"]):
        print(Path(__file__).resolve())
        return 0
    if not args or args[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if args else 1
    ours, theirs, spec = _split_arguments(args)
    if theirs:
        print(f"note: ignoring arguments not for ede: {' '.join(theirs)}", file=sys.stderr)
    from enterprise_data_engineering.cli.app import main as ede_main
    from enterprise_data_engineering.errors import EdeError
    from enterprise_data_engineering.spark.session import (
        SparkConfig,
        active_session,
        create_spark_session,
    )

    session = active_session()
    owned = session is None
    try:
        if session is None:
            # Under spark-submit (a JVM is waiting for us) its --name stays the app's name.
            launched = "PYSPARK_GATEWAY_PORT" in os.environ
            session = create_spark_session(SparkConfig(app_name=None if launched else "ede"))
    except EdeError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return exc.exit_code
    try:
        with tempfile.TemporaryDirectory(prefix="ede-submit-") as folder:
            if spec is not None:
                ours[spec] = _fetch_spec(session, ours[spec], Path(folder))
            try:
                ede_main(["run", *ours, "--engine", "spark"])
            except SystemExit as done:
                code = done.code
                return code if isinstance(code, int) else (0 if code is None else 1)
            return 0
    finally:
        if owned:
            session.stop()


if __name__ == "__main__":  # spark-submit runs this file as a script
    sys.exit(main())
