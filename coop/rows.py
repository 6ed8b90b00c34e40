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

_converters: dict[tuple[str, type[Model]], list] = {}


def select_list(model: type[Model], alias: str) -> str:
    """The model's concrete columns in `_meta` order, qualified by the table alias: `a."id", a."state", …`."""
    quote = connection.ops.quote_name
    return ", ".join(f"{alias}.{quote(field.column)}" for field in model._meta.concrete_fields)


def _converters_of(model: type[Model]) -> list:
    key = (connection.vendor, model)
    if key not in _converters:
        fields = model._meta.concrete_fields
        compiler = Query(model).get_compiler(connection=connection)
        _converters[key] = list(compiler.get_converters([field.get_col(model._meta.db_table) for field in fields]).items())
    return _converters[key]


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
    values = list(row)
    for position, (converters, expression) in _converters_of(model):
        for converter in converters:
            values[position] = converter(values[position], expression, connection)
    return model.from_db(connection.alias, [field.attname for field in model._meta.concrete_fields], values)
