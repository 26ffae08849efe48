"""Built-in transforms that choose which rows a table keeps: ``filter`` and ``deduplicate``."""

from __future__ import annotations

from pydantic import Field
from sqlglot import exp

from enterprise_data_engineering.transforms import sql
from enterprise_data_engineering.transforms.base import Relation, Transform, TransformContext
from enterprise_data_engineering.transforms.common import (
    ColumnList,
    OrderByText,
    SqlPredicateText,
    TransformArgs,
    check_references,
    is_orderable,
    parse_order_by,
    parse_value,
    select_from,
)


class FilterRows(Transform):
    """Keep the rows where a SQL predicate (DuckDB dialect) is true.

    Rows where it is false or null are removed, as with SQL's ``WHERE``.

    ```yaml
    transforms:
      - filter: "amount > ${params.min_amount} and status <> 'cancelled'"
    ```
    """

    name = "filter"
    args_type = SqlPredicateText
    description = "keep rows where the SQL predicate is true"

    def apply(self, relation: Relation, args: str, ctx: TransformContext) -> exp.Select:
        """``SELECT columns FROM source WHERE predicate``."""
        predicate = parse_value(args, "predicate")
        check_references(predicate, relation, "`filter`")
        return select_from(relation, (sql.column(name) for name in relation.names)).where(
            predicate, copy=False
        )


class DeduplicateArgs(TransformArgs):
    """Arguments of ``deduplicate``."""

    keys: ColumnList
    order_by: OrderByText | None = Field(default=None)


#: name of the row-number helper column (suffixed if a column already has this name)
_ROW_NUMBER = "_ede_row_number"


class DeduplicateRows(Transform):
    """Keep one row per key: the first in ``order_by`` order.

    ``order_by`` is the items of a SQL ``ORDER BY`` (DuckDB dialect), such as
    ``"updated_at desc"`` or ``"priority, updated_at desc nulls last"``; without a
    direction an item sorts ascending, and nulls sort last. Ties, and the whole choice when
    ``order_by`` is omitted, are broken by the other columns (ascending), so the same input
    gives the same output on every engine and every run. Rows whose keys are null form one
    group, as in ``GROUP BY``.

    ```yaml
    transforms:
      - deduplicate: {keys: [order_id], order_by: "updated_at desc"}
    ```
    """

    name = "deduplicate"
    args_type = DeduplicateArgs
    description = "keep the first row per key in order_by order"

    def apply(self, relation: Relation, args: DeduplicateArgs, ctx: TransformContext) -> exp.Select:
        """``ROW_NUMBER() OVER (PARTITION BY keys ORDER BY ...) = 1``, helper column dropped."""
        relation.require(args.keys, "key column")
        order = parse_order_by(args.order_by) if args.order_by else []
        for item in order:
            check_references(item, relation, "`deduplicate` order_by")
        # Tie-breakers: every column that is not a key and not already sorted on.
        taken = {key.casefold() for key in args.keys} | {
            item.this.name.casefold()
            for item in order
            if isinstance(item.this, exp.Column) and not item.this.table
        }
        order += [
            exp.Ordered(this=sql.column(col.name), desc=False, nulls_first=False)
            for col in relation.columns
            if col.name.casefold() not in taken and is_orderable(col.type)
        ]
        window = exp.Window(
            this=exp.RowNumber(),
            partition_by=[sql.column(key) for key in dict.fromkeys(args.keys)],
            order=exp.Order(expressions=order) if order else None,
        )
        helper = _ROW_NUMBER
        while helper.casefold() in {name.casefold() for name in relation.names}:
            helper = f"_{helper}"
        numbered = select_from(
            relation, [*(sql.column(name) for name in relation.names), sql.alias(window, helper)]
        )
        return (
            exp.select(*(sql.column(name) for name in relation.names))
            .from_(numbered.subquery(exp.to_identifier("_ede_deduplicate", quoted=True)))
            .where(exp.EQ(this=sql.column(helper), expression=exp.Literal.number(1)))
        )


__all__ = ["DeduplicateArgs", "DeduplicateRows", "FilterRows"]
