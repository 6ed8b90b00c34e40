"""Model instances from one row of hand-written SQL: a select_related the ORM does not have to compile.

Compiling a three-table select_related costs the ORM about a millisecond (SQLCompiler.as_sql), more than the
database takes to answer it; two such reads happen on every answer (the submit's lease lock, the lease after a
claim). Here the SQL names each model's columns from its metadata (`select_list`), so a new field is read without
touching the query, and every value goes through the converters the ORM itself applies (what `Model.objects.raw`
does), so the instances are the ones a queryset would build.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import Model
from django.db.models.sql import Query

_readers: dict[tuple[str, type[Model]], tuple[list[str], list]] = {}


def select_list(model: type[Model], alias: str) -> str:
    """The model's concrete columns in `_meta` order, qualified by the table alias: `a."id", a."state", …`."""
    quote = connection.ops.quote_name
    return ", ".join(f"{alias}.{quote(field.column)}" for field in model._meta.concrete_fields)


def _reader(model: type[Model]) -> tuple[list[str], list]:
    """The model's attribute names in column order and the ORM's converters by position, worked out once."""
    key = (connection.vendor, model)
    if key not in _readers:
        fields = model._meta.concrete_fields
        compiler = Query(model).get_compiler(connection=connection)
        converters = list(compiler.get_converters([field.get_col(model._meta.db_table) for field in fields]).items())
        _readers[key] = ([field.attname for field in fields], converters)
    return _readers[key]


def fetch_instances(sql: str, params, models: list[type[Model]]) -> list[Model] | None:
    """Run `sql`, whose columns are `select_list` of each model in turn, and build one instance of each from its
    first row (None when there is none). The caller joins them (`assignment.task = task`)."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    instances, start = [], 0
    for model in models:
        width = len(model._meta.concrete_fields)
        instances.append(_instance(model, row[start : start + width]))
        start += width
    return instances


def fetch_all(sql: str, params, model: type[Model]) -> list[Model]:
    """Run `sql`, whose columns are `select_list(model, …)`, and build an instance from every row."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [_instance(model, row) for row in cursor.fetchall()]


def _instance(model: type[Model], row) -> Model:
    names, converters_by_position = _reader(model)
    values = list(row)
    for position, (converters, expression) in converters_by_position:
        for converter in converters:
            values[position] = converter(values[position], expression, connection)
    return model.from_db(connection.alias, names, values)
