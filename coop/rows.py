"""Model instances from one row of hand-written SQL: a select_related the ORM does not have to compile; and the
hot path's single-row insert and updates, written the same way.

Compiling a three-table select_related costs the ORM about a millisecond (SQLCompiler.as_sql), more than the
database takes to answer it; two such reads happen on every answer (the submit's lease lock, the lease after a
claim). Here the SQL names each model's columns from its metadata (`select_list`), so a new field is read without
touching the query, and every value goes through the converters the ORM itself applies (what `Model.objects.raw`
does), so the instances are the ones a queryset would build.
"""

from __future__ import annotations

import functools

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
    found = fetch_row(sql, params, models)
    return None if found is None else found[0]


def fetch_row(sql: str, params, models: list[type[Model]]) -> tuple[list[Model], tuple] | None:
    """`fetch_instances`, and the columns the row has after the models' (an EXISTS, a count) as they come."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return None if row is None else from_row(row, models)


def from_row(row, models: list[type[Model]]) -> tuple[list[Model], tuple]:
    """One instance of each model from a row whose columns start with `select_list` of each in turn, and the
    columns after them as they come. A model whose columns are all NULL (an outer join that found nothing) is None."""
    instances, start = [], 0
    for model in models:
        width = len(model._meta.concrete_fields)
        values = row[start : start + width]
        instances.append(None if all(value is None for value in values) else _instance(model, values))
        start += width
    return instances, tuple(row[start:])


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


@functools.cache
def inserted_fields(model: type[Model]) -> tuple:
    """The fields an insert writes: every concrete field but the automatic primary key."""
    return tuple(field for field in model._meta.concrete_fields if not field.primary_key)


def insert_values(instance: Model, fields) -> list:
    """What `save()` would write for a new row in these fields: each field's pre_save (defaults, auto_now) and its
    database preparation."""
    return [field.get_db_prep_save(field.pre_save(instance, True), connection) for field in fields]


@functools.cache
def _insert_sql(vendor: str, model: type[Model]) -> tuple[str, tuple]:
    quote, meta = connection.ops.quote_name, model._meta
    fields = inserted_fields(model)
    columns, marks = ", ".join(quote(field.column) for field in fields), ", ".join(["%s"] * len(fields))
    return f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({marks}) RETURNING {quote(meta.pk.column)}", fields


def insert_instance(instance: Model) -> None:
    """`instance.save()` for a new row of a model with an automatic primary key and no save signals or overridden
    save(): the same values (each field's pre_save and database preparation), one INSERT ... RETURNING built once
    per model, not compiled on every call (half a millisecond on every answer)."""
    sql, fields = _insert_sql(connection.vendor, type(instance))
    with connection.cursor() as cursor:
        cursor.execute(sql, insert_values(instance, fields))
        instance.pk = cursor.fetchone()[0]
    instance._state.adding, instance._state.db = False, connection.alias


@functools.cache
def _update_sql(vendor: str, model: type[Model], names: tuple[str, ...]) -> tuple[str, list]:
    quote, meta = connection.ops.quote_name, model._meta
    fields = [meta.get_field(name) for name in names]
    changes = ", ".join(f"{quote(field.column)} = %s" for field in fields)
    return f"UPDATE {quote(meta.db_table)} SET {changes} WHERE {quote(meta.pk.column)} = %s", fields


def update_instance(instance: Model, names: list[str]) -> None:
    """`instance.save(update_fields=names)` for a model without save signals or an overridden save(): one UPDATE by
    primary key, its SQL built once per model and fields."""
    sql, fields = _update_sql(connection.vendor, type(instance), tuple(names))
    values = [field.get_db_prep_save(field.pre_save(instance, False), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values, instance.pk])
