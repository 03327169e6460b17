"""The fast verdict engine agrees with jsonschema, the reference, on every generated case."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from samples import QUICKSTART

from dagkit import schemas
from dagkit._fastschema import UnsupportedSchema, compile_schema

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"
REQUEST_DATA = SCHEMAS / "request-data.schema.json"


def reference(schema: Any, instance: Any) -> bool:
    validator = Draft202012Validator(
        schema, registry=schemas.registry(), format_checker=schemas.format_checker()
    )
    return validator.is_valid(instance)


def fast(schema: Any) -> Any:
    return compile_schema(schema, resolve=schemas.schema_by_id, formats=schemas.FORMATS)


# -- random schemas and instances ---------------------------------------------------------------

NAMES = ["a", "b", "c", "xa", "é"]
STRINGS = [
    "",
    "a",
    "abc",
    "xa",
    "é",
    "hi_res",
    "123e4567-e89b-12d3-a456-426614174000",
    "123e4567e89b12d3a456426614174000",
    "2025-01-31T12:00:00Z",
    "2025-02-30T12:00:00Z",
    "PT2M30S",
    "P1W",
    "P",
]
NUMBERS = [0, 1, -1, 2, 3, 10, 1.0, 2.5, -0.5, 1e20, 10**30]
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from(NUMBERS),
    st.sampled_from(STRINGS),
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(NAMES), inner, max_size=4),
    ),
    max_leaves=12,
)
TYPES = ["null", "boolean", "integer", "number", "string", "array", "object"]


def leaf_schemas() -> st.SearchStrategy[Any]:
    number = st.sampled_from([0, 1, 2, 2.5, -1, 10])
    count = st.integers(0, 3)
    return st.one_of(
        st.just({}),
        st.booleans(),
        st.builds(lambda t: {"type": t}, st.sampled_from(TYPES)),
        st.builds(
            lambda ts: {"type": ts}, st.lists(st.sampled_from(TYPES), min_size=1, max_size=3)
        ),
        st.builds(lambda vs: {"enum": vs}, st.lists(SCALARS, min_size=1, max_size=4)),
        st.builds(lambda v: {"const": v}, JSON_VALUES),
        st.fixed_dictionaries(
            {},
            optional={
                "type": st.sampled_from(["integer", "number"]),
                "minimum": number,
                "maximum": number,
                "exclusiveMinimum": number,
                "exclusiveMaximum": number,
                "multipleOf": st.sampled_from([1, 2, 0.5, 2.5]),
            },
        ),
        st.fixed_dictionaries(
            {},
            optional={
                "type": st.just("string"),
                "minLength": count,
                "maxLength": count,
                "pattern": st.sampled_from(["^a", "b$", "^[a-z]+$", "x"]),
                "format": st.sampled_from(["uuid", "date-time", "duration", "binary"]),
            },
        ),
    )


def extend(inner: st.SearchStrategy[Any], *, refs: bool = True) -> st.SearchStrategy[Any]:
    names = st.sampled_from(NAMES)
    shapes = [
        st.fixed_dictionaries(
            {},
            optional={
                "type": st.just("object"),
                "properties": st.dictionaries(names, inner, max_size=3),
                "required": st.lists(names, max_size=2, unique=True),
                "additionalProperties": inner,
                "patternProperties": st.dictionaries(
                    st.sampled_from(["^x", "a$"]), inner, max_size=1
                ),
                "dependentRequired": st.dictionaries(
                    names, st.lists(names, max_size=2, unique=True), max_size=2
                ),
            },
        ),
        st.fixed_dictionaries(
            {},
            optional={
                "type": st.just("array"),
                "items": inner,
                "prefixItems": st.lists(inner, max_size=2),
                "minItems": st.integers(0, 3),
                "maxItems": st.integers(0, 3),
                "uniqueItems": st.booleans(),
            },
        ),
        st.builds(
            lambda k, vs: {k: vs},
            st.sampled_from(["allOf", "anyOf", "oneOf"]),
            st.lists(inner, min_size=1, max_size=3),
        ),
        st.builds(lambda s: {"not": s}, inner),
        st.fixed_dictionaries({"if": inner}, optional={"then": inner, "else": inner}),
        st.builds(
            lambda k, vs, t: {
                "allOf": [{"if": {"properties": {k: {"enum": vs}}, "required": [k]}, "then": t}]
            },
            names,
            st.lists(SCALARS, min_size=1, max_size=3),
            inner,
        ),
        st.builds(
            lambda k, cases, typed: {
                "allOf": [
                    {
                        "if": {"properties": {k: {"const": v}}, "required": [k]}
                        | ({"type": "object"} if typed else {}),
                        "then": t,
                    }
                    for v, t in cases
                ]
            },
            names,
            st.lists(st.tuples(SCALARS, inner), min_size=1, max_size=3),
            st.booleans(),
        ),
    ]
    if refs:  # the shared definition itself has no $ref: no unguarded recursion
        shapes.append(st.just({"$ref": "#/$defs/shared", "description": "x"}))
    return st.one_of(*shapes)


SCHEMA = st.builds(
    lambda body, shared: {"$defs": {"shared": shared}, **body} if isinstance(body, dict) else body,
    st.recursive(leaf_schemas(), extend, max_leaves=6),
    st.recursive(leaf_schemas(), lambda inner: extend(inner, refs=False), max_leaves=3),
)


def mutate(data: st.DataObject, value: Any) -> Any:
    """A copy of ``value`` with one random change somewhere inside it."""
    value = copy.deepcopy(value)
    holder = [value]
    container: Any = holder
    key: Any = 0
    while True:
        current = container[key]
        if isinstance(current, dict) and current and data.draw(st.booleans()):
            container, key = current, data.draw(st.sampled_from(sorted(current)))
        elif isinstance(current, list) and current and data.draw(st.booleans()):
            container, key = current, data.draw(st.integers(0, len(current) - 1))
        else:
            break
    target = container[key]
    action = data.draw(st.sampled_from(["replace", "drop", "add", "nudge", "wrap"]))
    if action == "drop" and isinstance(target, dict) and target:
        del target[data.draw(st.sampled_from(sorted(target)))]
    elif action == "drop" and isinstance(target, list) and target:
        target.pop()
    elif action == "add" and isinstance(target, dict):
        target[data.draw(st.sampled_from([*NAMES, "colour"]))] = data.draw(JSON_VALUES)
    elif action == "add" and isinstance(target, list):
        target.append(data.draw(JSON_VALUES))
    elif action == "nudge" and isinstance(target, int | float) and not isinstance(target, bool):
        container[key] = target + data.draw(st.sampled_from([-1, 1, 0.5]))
    elif action == "wrap":
        container[key] = [target]
    else:
        container[key] = data.draw(JSON_VALUES)
    return holder[0]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schema=SCHEMA, instances=st.lists(JSON_VALUES, min_size=1, max_size=4), data=st.data())
def test_random_schemas_agree_with_jsonschema(schema: Any, instances: list[Any], data: Any) -> None:
    check = fast(schema)
    for instance in instances:
        expected = reference(schema, instance)
        assert check(instance) is expected, (schema, instance)
        if expected:
            mutated = mutate(data, instance)
            assert check(mutated) is reference(schema, mutated), (schema, mutated)


# -- the real schemas -----------------------------------------------------------------------------


SEEDS: list[Any] = [
    QUICKSTART,
    {"template_id": "hi_res_and_enrichment"},
    {
        "job_nodes": [
            {
                "name": "Partitioner",
                "type": "partition",
                "subtype": "unstructured_api",
                "settings": {"strategy": "hi_res", "include_page_breaks": True},
            },
            {
                "name": "Chunker",
                "type": "chunk",
                "subtype": "chunk_by_similarity",
                "settings": {"similarity_threshold": 0.5, "max_characters": 500},
            },
        ]
    },
]

# Values the request-data schema cares about, so mutations hit its interesting branches.
REQUEST_VALUES = st.one_of(
    JSON_VALUES,
    st.sampled_from(
        [
            "partition",
            "prompter",
            "chunk",
            "embed",
            "structured_data_extractor",
            "vlm",
            "unstructured_api",
            "chunk_by_title",
            "chunk_by_page",
            "hi_res",
            "fast",
            "fastest",
            0.0,
            1.0,
            0.99,
            2048,
            -1,
            True,
            False,
            None,
            {},
            [],
        ]
    ),
)


def mutate_request(data: st.DataObject, value: Any) -> Any:
    """One random change, or one of the values the request-data schema tests put somewhere."""
    if data.draw(st.booleans()):
        return mutate(data, value)
    holder = [copy.deepcopy(value)]
    container: Any = holder
    key: Any = 0
    while isinstance(container[key], dict | list) and container[key]:
        inner = container[key]
        if isinstance(inner, dict):
            container, key = inner, data.draw(st.sampled_from(sorted(inner)))
        else:
            container, key = inner, data.draw(st.integers(0, len(inner) - 1))
        if data.draw(st.integers(0, 3)) == 0:
            break
    container[key] = data.draw(REQUEST_VALUES)
    return holder[0]


needs_request_schema = pytest.mark.skipif(
    not REQUEST_DATA.exists(), reason="schemas/request-data.schema.json not written yet"
)


@needs_request_schema
def test_request_data_schema_compiles_and_accepts_the_seeds() -> None:
    schema = schemas.load_schema("request-data")
    check = fast(schema)
    for seed in SEEDS:
        assert reference(schema, seed), seed
        assert check(seed)


@needs_request_schema
@settings(max_examples=120, deadline=None)
@given(seed=st.sampled_from(SEEDS), data=st.data())
def test_request_data_mutations_agree(seed: Any, data: Any) -> None:
    schema = schemas.load_schema("request-data")
    check = fast(schema)
    mutated = mutate_request(data, seed)
    assert check(mutated) is reference(schema, mutated), mutated


@needs_request_schema
def test_request_data_from_testing_strategies_agree() -> None:
    testing = pytest.importorskip("dagkit.testing")
    schema = schemas.load_schema("request-data")
    check = fast(schema)

    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
    @given(text=testing.request_data(), data=st.data())
    def run(text: str, data: Any) -> None:
        doc = json.loads(text)
        assert check(doc) and reference(schema, doc)
        mutated = mutate_request(data, doc)
        assert check(mutated) is reference(schema, mutated), mutated

    run()


JOB = {
    "id": "123e4567-e89b-12d3-a456-426614174000",
    "workflow_id": "123e4567-e89b-12d3-a456-426614174001",
    "workflow_name": "quickstart",
    "status": "SCHEDULED",
    "created_at": "2025-01-31T12:00:00Z",
    "runtime": "PT2M30S",
}


@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_component_schemas_agree_on_job_information(data: Any) -> None:
    schema = schemas.load_schema("JobInformation")
    check = fast(schema)
    assert check(JOB) is reference(schema, JOB) is True
    mutated = mutate_request(data, JOB)
    assert check(mutated) is reference(schema, mutated), mutated


def test_every_packaged_schema_compiles() -> None:
    # dagkit's own schemas stay inside the fast subset: none falls back to jsonschema.
    for name in schemas.schema_names():
        if name != "openapi":
            assert callable(fast(schemas.load_schema(name))), name


# -- semantics, case by case ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schema", "instance", "valid"),
    [
        ({"type": "integer"}, 1.0, True),
        ({"type": "integer"}, 1.5, False),
        ({"type": "integer"}, True, False),
        ({"type": "number"}, False, False),
        ({"type": ["string", "null"]}, None, True),
        ({"const": 1}, 1.0, True),
        ({"const": 1}, True, False),
        ({"const": True}, 1, False),
        ({"enum": [[1, {"a": False}]]}, [1.0, {"a": False}], True),
        ({"enum": [[1, {"a": False}]]}, [1.0, {"a": 0}], False),
        ({"uniqueItems": True}, [1, 1.0], False),
        ({"uniqueItems": True}, [1, True], True),
        ({"uniqueItems": True}, [{"a": 1}, {"a": 1.0}], False),
        ({"maxLength": 1}, "é", True),
        ({"maxLength": 1}, "😀", True),
        ({"pattern": "b"}, "abc", True),
        ({"multipleOf": 0.1}, 0.3, False),
        ({"multipleOf": 3}, 9.0, True),
        ({"prefixItems": [{"type": "string"}], "items": False}, ["a", 1], False),
        ({"prefixItems": [{"type": "string"}], "items": False}, ["a"], True),
        ({"format": "uuid"}, "not-a-uuid", False),
        ({"format": "uuid"}, 5, True),
        ({"format": "email"}, "no at sign", True),
        ({"if": {"properties": {"k": {"const": "a"}}, "required": ["k"]}, "then": False}, 5, False),
        (
            {
                "allOf": [
                    {
                        "if": {
                            "type": "object",
                            "properties": {"k": {"const": "a"}},
                            "required": ["k"],
                        },
                        "then": False,
                    }
                ]
            },
            5,
            True,
        ),
        (
            {
                "allOf": [
                    {
                        "if": {"properties": {"k": {"const": "a"}}, "required": ["k"]},
                        "then": {"required": ["z"]},
                    }
                ]
            },
            {"k": "a"},
            False,
        ),
        (
            {
                "allOf": [
                    {
                        "if": {"properties": {"k": {"const": 1}}, "required": ["k"]},
                        "then": {"required": ["z"]},
                    }
                ]
            },
            {"k": True},
            True,
        ),
    ],
)
def test_semantics_match_jsonschema(schema: Any, instance: Any, valid: bool) -> None:
    assert fast(schema)(instance) is valid
    assert reference(schema, instance) is valid


def test_huge_integers_get_an_exact_verdict() -> None:
    # jsonschema's float division overflows here; exact fractions answer instead.
    check = fast({"multipleOf": 0.5})
    assert check(10**400)
    assert not fast({"multipleOf": 0.3})(10**400 + 1)
    with pytest.raises(OverflowError):
        reference({"multipleOf": 0.5}, 10**400)


def test_recursive_refs() -> None:
    schema = {
        "$defs": {
            "tree": {
                "type": "object",
                "properties": {"children": {"type": "array", "items": {"$ref": "#/$defs/tree"}}},
                "required": ["name"],
            }
        },
        "$ref": "#/$defs/tree",
    }
    check = fast(schema)
    good = {"name": "r", "children": [{"name": "a", "children": [{"name": "b"}]}]}
    bad = {"name": "r", "children": [{"name": "a", "children": [{"nom": "b"}]}]}
    assert check(good) and reference(schema, good)
    assert not check(bad) and not reference(schema, bad)


def test_refs_to_other_documents_resolve_relative_to_the_id() -> None:
    documents = {
        "https://example.invalid/s/main.json": {
            "$id": "https://example.invalid/s/main.json",
            "properties": {"n": {"$ref": "defs/num.json#/$defs/small"}},
        },
        "https://example.invalid/s/defs/num.json": {
            "$id": "https://example.invalid/s/defs/num.json",
            "$defs": {"small": {"type": "integer", "maximum": 3}},
        },
    }
    check = compile_schema(
        documents["https://example.invalid/s/main.json"], resolve=documents.__getitem__
    )
    assert check({"n": 3}) and not check({"n": 4}) and check({})


@pytest.mark.parametrize(
    "schema",
    [
        {"minProperties": 1},
        {"contains": {"type": "string"}},
        {"unevaluatedProperties": False},
        {"$dynamicRef": "#x"},
        {"$ref": "#anchor"},
        {"$ref": "other.json"},
        {"$schema": "http://json-schema.org/draft-07/schema#"},
        {"properties": {"a": {"$id": "inner"}}},
        {"type": "whatever"},
        {"pattern": "("},
        {"multipleOf": 0},
        {"items": [{"type": "string"}]},
        {"$ref": "#/$defs/missing"},
        "not a schema",
    ],
)
def test_unsupported_schemas_are_refused(schema: Any) -> None:
    with pytest.raises(UnsupportedSchema):
        compile_schema(schema)


def test_annotations_are_ignored() -> None:
    schema = {
        "title": "t",
        "description": "d",
        "default": 1,
        "examples": [1],
        "$comment": "c",
        "deprecated": True,
        "x-dagkit-note": "n",
        "type": "integer",
    }
    assert fast(schema)(1) and not fast(schema)("1")


def test_float_subclasses_are_numbers() -> None:
    from dagkit.jsontext import loads

    doc = loads('{"x": 0.50, "y": 2.0}')
    schema = {"properties": {"x": {"type": "number", "maximum": 1}, "y": {"type": "integer"}}}
    assert fast(schema)(doc)
    assert not fast({"properties": {"x": {"type": "integer"}}})(doc)
