"""``${params.X}``, ``${env:X}``, ``${secret:X}`` and the ``$${`` escape."""

from __future__ import annotations

from typing import Any

import pytest

from enterprise_data_engineering.errors import ConfigError, Position
from enterprise_data_engineering.spec.interpolation import (
    REDACTED,
    Interpolator,
    NoSecretResolver,
    Redactor,
    iter_references,
)
from enterprise_data_engineering.spec.yaml_loader import Positions


def interpolator(
    params: dict[str, Any] | None = None,
    environ: dict[str, str] | None = None,
    secrets: Any = None,
) -> Interpolator:
    positions = Positions("f.yaml", values={("a",): (3, 5), ("a", "b"): (4, 9)})
    return Interpolator(
        params=params or {}, positions=positions, secrets=secrets, environ=environ or {}
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${params.n}", 5),
        ("${ params.n }", 5),
        ("${params.ratio}", 0.5),
        ("${params.flag}", False),
        ("${params.nothing}", None),
        ("${params.names}", ["a", "b"]),
        ("n = ${params.n}", "n = 5"),
        ("${params.n}${params.n}", "55"),
        ("${params.region}/${params.n}", "eu/5"),
        ("no references", "no references"),
        ("$${params.n}", "${params.n}"),
        ("cost: $${USD} ${params.n}", "cost: ${USD} 5"),
        ("$5 and $ {x}", "$5 and $ {x}"),
    ],
)
def test_params(text: str, expected: Any) -> None:
    interp = interpolator(
        {"n": 5, "ratio": 0.5, "flag": False, "nothing": None, "names": ["a", "b"], "region": "eu"}
    )

    assert interp.string(text, ("a",)) == expected
    assert interp.problems == []


def test_env() -> None:
    interp = interpolator(environ={"ROOT": "/data", "EMPTY": ""})

    assert interp.string("${env:ROOT}/x.csv", ("a",)) == "/data/x.csv"
    assert interp.string("[${env:EMPTY}]", ("a",)) == "[]"
    assert interp.problems == []


def test_unknown_env_is_a_problem_at_the_value() -> None:
    interp = interpolator()

    interp.string("${env:NOPE}/x", ("a", "b"))

    assert [str(p) for p in interp.problems] == [
        "f.yaml:4:9: environment variable `NOPE` is not set"
    ]
    assert interp.failed == {("a", "b")}


def test_unknown_param_suggests_the_close_name() -> None:
    interp = interpolator({"min_amount": 0})

    assert interp.string("amount > ${params.min_amout}", ("a",)) == "amount > "
    assert interp.string("${params.min_amout}", ("a",)) == ""

    assert [p.message for p in interp.problems] == [
        "unknown parameter `min_amout` in `${params.min_amout}` (did you mean `min_amount`?)"
    ] * 2
    assert interp.problems[0].position == Position("f.yaml", 3, 5)


@pytest.mark.parametrize("ref", ["${foo}", "${param.x}", "${env:}", "${secret:}"])
def test_unknown_reference_forms(ref: str) -> None:
    interp = interpolator({"x": 1})

    interp.string(ref, ("a",))

    (problem,) = interp.problems
    assert problem.message.startswith("unknown reference")


def test_walk_resolves_nested_values_and_can_skip() -> None:
    interp = interpolator({"n": 3})
    data = {"a": {"b": ["${params.n}", "x${params.n}"]}, "keep": "${params.n}", "k": 1}

    out = interp.walk(data, skip=lambda loc: loc == ("keep",))

    assert out == {"a": {"b": [3, "x3"]}, "keep": "${params.n}", "k": 1}


def test_secret_without_resolver_is_a_stand_in() -> None:
    interp = interpolator()

    assert interp.string("${secret:db#password}", ("a",)) == "<secret:db>"
    assert interp.problems == []
    assert interp.redactor.secrets == set()


def test_secret_resolved_once_and_redacted() -> None:
    calls: list[tuple[str, str | None]] = []

    class Resolver:
        def resolve(self, name: str, field: str | None) -> str:
            calls.append((name, field))
            return f"value-of-{name}-{field}"

    interp = interpolator(secrets=Resolver())

    first = interp.string("user:${secret:db#password}", ("a",))
    second = interp.string("${secret:db#password} ${secret:token}", ("a",))

    assert first == "user:value-of-db-password"
    assert second == "value-of-db-password value-of-token-None"
    assert calls == [("db", "password"), ("token", None)]
    assert interp.redactor.text(second) == f"{REDACTED} {REDACTED}"


def test_no_secret_resolver_names_the_secret_only() -> None:
    with pytest.raises(ConfigError, match="`db`") as info:
        NoSecretResolver().resolve("db", "password")

    assert info.value.exit_code == 1


def test_redactor_hides_values_in_nested_data() -> None:
    redactor = Redactor()
    redactor.add("s3cr3t")
    redactor.add("s3cr3t-longer")
    redactor.add("")

    assert redactor.text("a s3cr3t-longer b s3cr3t") == "a *** b ***"
    assert redactor.value({"x": ["s3cr3t", 1], "y": ("s3cr3t",), "z": None}) == {
        "x": ["***", 1],
        "y": ["***"],
        "z": None,
    }
    assert Redactor().value({"x": "s3cr3t"}) == {"x": "s3cr3t"}


def test_iter_references() -> None:
    assert list(iter_references("a ${params.x} $${no} ${ env:Y } ${secret:z#f}")) == [
        "params.x",
        "env:Y",
        "secret:z#f",
    ]
