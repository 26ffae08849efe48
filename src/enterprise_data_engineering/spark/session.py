"""Spark sessions: one configuration object, one way to create a session, one default.

A session that ede creates always computes in UTC (``spark.sql.session.timeZone``), never
shows the console progress bar, and logs only errors unless told otherwise; everything
else is Spark's default, overridden by :attr:`SparkConfig.conf`.

The master URL decides where the work runs:

- ``local[*]`` (or ``local[N]``): in this process, on N cores (the default);
- ``spark://host:7077``: a Spark standalone cluster;
- ``yarn``, ``k8s://https://host:443``: a YARN or Kubernetes cluster;
- ``sc://host:15002``: a Spark Connect server (needs ``pyspark[connect]``);
- ``None`` under ``spark-submit``: whatever ``spark-submit --master`` said.

>>> from enterprise_data_engineering.spark import SparkConfig, create_spark_session
>>> config = SparkConfig(app_name="orders", master="local[2]")
>>> spark = create_spark_session(config)  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
import shutil
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from enterprise_data_engineering.errors import ConfigError, EdeRuntimeError, MissingExtraError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)

#: the environment variable naming the default master URL (``ede run --spark-master``)
MASTER_ENV = "EDE_SPARK_MASTER"
#: the driver logging configuration of sessions ede starts
LOG4J2_CONFIG = Path(__file__).with_name("log4j2.properties")
_JAVA_OPTIONS = "spark.driver.extraJavaOptions"


@dataclass
class SparkConfig:
    """How to create a Spark session.

    Attributes:
        app_name: the application name shown by the cluster manager and the Spark UI;
            ``None`` keeps the one already configured (``spark-submit --name``).
        master: the master URL (``local[*]``, ``spark://…``, ``yarn``, ``k8s://…``,
            ``sc://…``); ``None`` leaves it to ``spark-submit`` (``local[*]`` otherwise).
        conf: extra Spark configuration, e.g. ``{"spark.executor.memory": "4g"}``; it
            overrides the defaults below.
        timezone: the session time zone (``spark.sql.session.timeZone``).
        log_level: the driver's log level once started (``ERROR``, ``WARN``, ``INFO``...).
        ui: start the Spark web UI (``spark.ui.enabled``).

    >>> SparkConfig(master="local[2]", conf={"spark.sql.shuffle.partitions": "8"}).master
    'local[2]'
    """

    app_name: str | None = "ede"
    master: str | None = None
    conf: dict[str, str] = field(default_factory=dict)
    timezone: str = "UTC"
    log_level: str = "ERROR"
    ui: bool = True

    @classmethod
    def from_env(cls, app_name: str = "ede") -> SparkConfig:
        """A configuration whose master is ``EDE_SPARK_MASTER`` (if set)."""
        return cls(app_name=app_name, master=os.environ.get(MASTER_ENV) or None)

    @property
    def is_connect(self) -> bool:
        """Whether the master is a Spark Connect endpoint (``sc://``)."""
        return bool(self.master and self.master.startswith("sc://"))

    def settings(self) -> dict[str, str]:
        """Every configuration entry given to the session builder: defaults, then ``conf``."""
        values: dict[str, str] = {"spark.sql.session.timeZone": self.timezone}
        if not self.is_connect:  # driver settings: a Connect server's are fixed at its start
            values["spark.ui.showConsoleProgress"] = "false"
            values["spark.ui.enabled"] = "true" if self.ui else "false"
        values.update({str(k): str(v) for k, v in self.conf.items()})
        java_options = values.get(_JAVA_OPTIONS, "")
        if not self.is_connect and "log4j2.configurationFile" not in java_options:
            quiet = f"-Dlog4j2.configurationFile={LOG4J2_CONFIG.as_uri()}"
            values[_JAVA_OPTIONS] = f"{java_options} {quiet}".strip()
        return values


def import_pyspark() -> Any:
    """Import and return the ``pyspark.sql`` module, or say which extra to install.

    Raises:
        MissingExtraError: pyspark is not installed.
    """
    try:
        with warnings.catch_warnings():
            # pyspark warns about pandas versions it has not been tested with; ede's runs do
            # not go through pandas.
            warnings.filterwarnings("ignore", category=FutureWarning, module=r"pyspark\..*")
            import pyspark.sql
    except ImportError as exc:
        raise MissingExtraError("pyspark", "spark") from exc
    return pyspark.sql


def _require_java(config: SparkConfig) -> None:
    if config.is_connect:
        return  # the JVM runs on the Connect server
    if os.environ.get("JAVA_HOME") or shutil.which("java"):
        return
    raise ConfigError(
        "Spark needs Java 17 or later and none was found: install a JDK or JRE "
        "(e.g. `apt-get install openjdk-17-jre-headless`) or set JAVA_HOME"
    )


def active_session() -> SparkSession | None:
    """The SparkSession already active in this process (e.g. under ``spark-submit``), if any."""
    sql = import_pyspark()
    session: SparkSession | None = sql.SparkSession.getActiveSession()
    return session


def is_connect_session(session: Any) -> bool:
    """Whether ``session`` is a Spark Connect client session."""
    return "connect" in type(session).__module__


def create_spark_session(config: SparkConfig | None = None) -> SparkSession:
    """Create (or join) the process's Spark session with ``config``.

    Spark allows one SparkContext per process: if one is already running, its session is
    returned with ``config``'s runtime SQL settings applied, and settings that only
    apply at start-up (master, executor memory...) are ignored, as Spark itself does.

    Raises:
        MissingExtraError: pyspark (or, for ``sc://``, its Connect client) is not installed.
        ConfigError: Java is missing, or Spark rejects the configuration.
        EdeRuntimeError: Spark failed to start.
    """
    config = config or SparkConfig()
    sql = import_pyspark()
    _require_java(config)
    builder = sql.SparkSession.builder
    if config.app_name:
        builder = builder.appName(config.app_name)
    if config.is_connect:
        builder = builder.remote(config.master)
    elif config.master:
        builder = builder.master(config.master)
    for key, value in config.settings().items():
        builder = builder.config(key, value)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=FutureWarning, module=r"pyspark\..*")
            session: SparkSession = builder.getOrCreate()
    except ImportError as exc:  # sc:// without grpcio & co
        raise MissingExtraError(f"{exc.name or 'pyspark[connect]'}", "spark") from exc
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "JAVA_GATEWAY_EXITED" in str(exc) or "Java gateway" in str(exc):
            raise EdeRuntimeError(
                f"Spark could not start (master `{config.master or 'local[*]'}`): {first}; "
                "check `java -version` (17 or later) and JAVA_HOME"
            ) from exc
        raise ConfigError(f"cannot create a Spark session: {first}") from exc
    if not is_connect_session(session):
        session.sparkContext.setLogLevel(config.log_level.upper())
    return session


def get_default_session(app_name: str = "ede") -> SparkSession:
    """The active Spark session, or a new one (master ``EDE_SPARK_MASTER`` or ``local[*]``).

    >>> spark = get_default_session("orders")  # doctest: +SKIP
    """
    session = active_session()
    if session is not None:
        return session
    return create_spark_session(SparkConfig.from_env(app_name))


def master_of(session: Any) -> str:
    """The master URL of ``session`` (``sc://…`` for a Connect session when unknown)."""
    if is_connect_session(session):
        return str(getattr(getattr(session, "client", None), "host", "sc://"))
    return str(session.sparkContext.master)


__all__ = [
    "LOG4J2_CONFIG",
    "MASTER_ENV",
    "SparkConfig",
    "active_session",
    "create_spark_session",
    "get_default_session",
    "import_pyspark",
    "is_connect_session",
    "master_of",
]
