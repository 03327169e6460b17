"""Schema findings: codes, pointers and sentences for broken documents; valid ones cost nothing.

The verdict comes from jsonschema-rs and the findings from jsonschema, the reference: the
differential tests at the end hold the two to the same verdict, with dagkit's formats and
registry, on generated schemas and on mutations of real documents.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from samples import QUICKSTART

from dagkit.core.jsontext import JSONFloat, loads
from dagkit.errors import SchemaError
from dagkit.schemas import check as schemacheck
from dagkit.schemas import store as schemas

ROOT = Path(__file__).resolve().parent.parent


def forget_compiled() -> None:
    schemacheck._verdict.cache_clear()
    schemacheck._cache.clear()


@pytest.fixture(params=["jsonschema-rs", "jsonschema only"])
def engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Each test that takes it runs with jsonschema-rs, then as if it could not be imported."""
    if request.param == "jsonschema only":
        monkeypatch.setattr(schemacheck, "_engine", lambda: None)
    forget_compiled()
    yield request.param
    forget_compiled()


def changed(path: list[str | int], value: Any = ..., *, drop: bool = False) -> dict[str, Any]:
    """The quickstart with the value at ``path`` replaced (or removed)."""
    doc = copy.deepcopy(QUICKSTART)
    target: Any = doc
    for token in path[:-1]:
        target = target[token]
    if drop:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return doc


def unstructured_api(settings: dict[str, Any]) -> dict[str, Any]:
    node = {"name": "P", "type": "partition", "subtype": "unstructured_api", "settings": settings}
    return {"job_nodes": [node]}


BROKEN = [
    # (case, document, [(code, pointer), ...], words the first message must contain)
    ("neither key", {}, [("DK207", "")], "neither"),
    ("both keys", {"template_id": "t", **QUICKSTART}, [("DK207", "")], "both"),
    ("no nodes", {"job_nodes": []}, [("DK208", "/job_nodes")], "empty"),
    ("empty template id", {"template_id": ""}, [("DK206", "/template_id")], "empty"),
    ("not an object", [1], [("DK202", "")], "must be an object"),
    ("unknown top key", {"template_id": "t", "foo": 1}, [("DK205", "/foo")], '"foo"'),
    (
        "unknown node key",
        changed(["job_nodes", 0, "colour"], "red"),
        [("DK205", "/job_nodes/0/colour")],
        '"colour"',
    ),
    (
        "unknown key that needs escaping",
        changed(["job_nodes", 2, "x~/y"], 1),
        [("DK205", "/job_nodes/2/x~0~1y")],
        '"x~/y"',
    ),
    (
        "bad node type",
        changed(["job_nodes", 1, "type"], "chunker"),
        [("DK203", "/job_nodes/1/type")],
        '"chunker"',
    ),
    (
        "missing subtype",
        changed(["job_nodes", 1, "subtype"], drop=True),
        [("DK201", "/job_nodes/1")],
        '"subtype"',
    ),
    (
        "bad chunk subtype",
        changed(["job_nodes", 1, "subtype"], "by_title"),
        [("DK203", "/job_nodes/1/subtype")],
        "chunk_by_title",
    ),
    (
        "quoted integer",
        changed(["job_nodes", 1, "settings", "max_characters"], "2048"),
        [("DK202", "/job_nodes/1/settings/max_characters")],
        "integer",
    ),
    (
        "zero max_characters",
        changed(["job_nodes", 1, "settings", "max_characters"], 0),
        [("DK204", "/job_nodes/1/settings/max_characters")],
        "greater than 0",
    ),
    (
        "boolean in quotes",
        changed(["job_nodes", 0, "settings", "is_dynamic"], "true"),
        [("DK202", "/job_nodes/0/settings/is_dynamic")],
        "true or false",
    ),
    (
        "auto with allow_fast false",
        changed(["job_nodes", 0, "settings", "allow_fast"], False),
        [("DK203", "/job_nodes/0/settings/allow_fast")],
        "true",
    ),
    (
        "unknown strategy",
        unstructured_api({"strategy": "fastest"}),
        [("DK203", "/job_nodes/0/settings/strategy")],
        '"fastest"',
    ),
    (
        "node is a number",
        {"job_nodes": [5]},
        [("DK202", "/job_nodes/0")],
        "object",
    ),
    (
        "settings is a list",
        changed(["job_nodes", 1, "settings"], [1]),
        [("DK202", "/job_nodes/1/settings")],
        "an object or null",
    ),
    (
        "several problems",
        changed(["job_nodes", 2, "name"], 5) | {"skip_preflight": "yes"},
        [("DK202", "/job_nodes/2/name"), ("DK202", "/skip_preflight")],
        "string",
    ),
]


@pytest.mark.parametrize(
    ("document", "expected", "words"),
    [pytest.param(doc, exp, words, id=case) for case, doc, exp, words in BROKEN],
)
def test_broken_request_data(
    engine: str, document: Any, expected: list[tuple[str, str]], words: str
) -> None:
    findings = schemacheck.check("request-data", document)
    assert [(f.code, f.pointer) for f in findings] == expected
    assert words in findings[0].message
    assert all(f.severity == "error" and f.hint for f in findings)
    assert not schemas.validator("request-data").is_valid(document)


def test_valid_request_data_has_no_findings(engine: str) -> None:
    assert schemacheck.check("request-data", QUICKSTART) == []
    assert schemacheck.check("request-data", {"template_id": "t", "skip_preflight": True}) == []


def test_messages_read_as_one_sentence_with_a_hint() -> None:
    (f,) = schemacheck.check("request-data", unstructured_api({"strategy": "fastest"}))
    assert f.message == (
        'job_nodes[0].settings.strategy must be one of "hi_res", "fast"; got "fastest"'
    )
    assert f.hint == 'did you mean "fast"?'
    (f,) = schemacheck.check("request-data", changed(["job_nodes", 0, "colour"], "red"))
    assert f.message == 'job_nodes[0] has an unknown key "colour"'
    assert "name, type, subtype, settings, id" in f.hint


def test_base_path_prefixes_every_path() -> None:
    doc = changed(["job_nodes", 1, "settings", "overlap"], -1)
    (f,) = schemacheck.check("request-data", doc, base_path=("request_data",))
    assert f.pointer == "/request_data/job_nodes/1/settings/overlap"


@settings(max_examples=60, deadline=None)
@given(
    path=st.sampled_from(
        [
            ["job_nodes", 0, "settings", "is_dynamic"],
            ["job_nodes", 1, "settings", "max_characters"],
            ["job_nodes", 1, "subtype"],
            ["job_nodes", 2, "type"],
            ["job_nodes", 2, "settings"],
            ["job_nodes", 0],
        ]
    ),
    value=st.one_of(
        st.none(), st.booleans(), st.integers(-5, 5000), st.text(max_size=5), st.just({})
    ),
)
def test_findings_exist_exactly_when_jsonschema_says_invalid(path: list[Any], value: Any) -> None:
    doc = changed(path, value)
    findings = schemacheck.check("request-data", doc)
    assert (findings == []) is schemas.validator("request-data").is_valid(doc)
    order = [
        [(0, int(t)) if t.isdigit() else (1, t) for t in f.pointer.split("/")[1:]] for f in findings
    ]
    assert order == sorted(order)
    for f in findings:
        assert f.code.startswith("DK2") and f.message


# -- any schema ----------------------------------------------------------------------------------


def test_one_of_is_reduced_to_the_most_relevant_branch() -> None:
    schema = {
        "oneOf": [
            {
                "type": "object",
                "properties": {"kind": {"const": "a"}, "size": {"type": "integer"}},
                "required": ["kind"],
            },
            {"type": "string"},
        ]
    }
    findings = schemacheck.check_schema(schema, {"kind": "a", "size": "big"})
    assert [(f.code, f.pointer) for f in findings] == [("DK202", "/size")]


def test_branches_failing_only_on_type_merge_into_one_sentence() -> None:
    schema = {"properties": {"runtime": {"anyOf": [{"type": "string"}, {"type": "null"}]}}}
    (f,) = schemacheck.check_schema(schema, {"runtime": 5})
    assert (f.code, f.pointer) == ("DK202", "/runtime")
    assert f.message == "runtime must be a string or null; got the number 5"


def test_branches_each_requiring_a_key_merge_into_one_sentence() -> None:
    schema = {"properties": {"s": {"anyOf": [{"required": ["a"]}, {"required": ["b"]}]}}}
    (f,) = schemacheck.check_schema(schema, {"s": {}})
    assert (f.code, f.pointer) == ("DK201", "/s")
    assert f.message == 's needs at least one of "a", "b"'


def test_formats_are_asserted(engine: str) -> None:
    schema = {"properties": {"id": {"type": "string", "format": "uuid"}}}
    assert schemacheck.check_schema(schema, {"id": "123e4567-e89b-12d3-a456-426614174000"}) == []
    (f,) = schemacheck.check_schema(schema, {"id": "nope"})
    assert (f.code, f.pointer) == ("DK206", "/id") and "uuid" in f.message


def test_response_schemas_with_refs_to_components(engine: str) -> None:
    schema = schemas.response_schema("get_job", 200)
    assert schema is not None
    job = {
        "id": "123e4567-e89b-12d3-a456-426614174000",
        "workflow_id": "123e4567-e89b-12d3-a456-426614174001",
        "workflow_name": "w",
        "status": "SCHEDULED",
        "created_at": "2025-01-31T12:00:00Z",
    }
    assert schemacheck.check_schema(schema, job) == []
    findings = schemacheck.check_schema(schema, job | {"status": "REJECTED", "created_at": "x"})
    assert [(f.code, f.pointer) for f in findings] == [
        ("DK206", "/created_at"),
        ("DK203", "/status"),
    ]


def test_every_error_is_reported_in_a_stable_order() -> None:
    schema = {
        "type": "object",
        "properties": {"b": {"type": "integer"}, "a": {"type": "array", "items": {"minimum": 0}}},
        "required": ["c"],
    }
    doc = {"b": "x", "a": [-1, 1, -2] + [0] * 8 + [-3]}
    findings = schemacheck.check_schema(schema, doc)
    assert [(f.code, f.pointer) for f in findings] == [
        ("DK201", ""),
        ("DK204", "/a/0"),
        ("DK204", "/a/2"),
        ("DK204", "/a/11"),
        ("DK202", "/b"),
    ]
    assert schemacheck.check_schema(schema, doc) == findings


def test_keywords_without_a_sentence_of_their_own_get_findings() -> None:
    (f,) = schemacheck.check_schema({"minProperties": 2}, {"a": 1})
    assert f.code == "DK200"
    assert schemacheck.check_schema({"minProperties": 1}, {"a": 1}) == []


def test_a_broken_schema_is_a_schema_error(engine: str) -> None:
    with pytest.raises(SchemaError):
        schemacheck.check_schema({"type": 5}, {})
    with pytest.raises(SchemaError):
        schemacheck.check("no-such-schema", {})


def test_deep_nesting_is_a_finding_not_a_crash(engine: str) -> None:
    schema = {
        "$defs": {"n": {"type": "array", "items": {"$ref": "#/$defs/n"}}},
        "$ref": "#/$defs/n",
    }
    deep: Any = []
    for _ in range(5000):
        deep = [deep, 1]
    findings = schemacheck.check_schema(schema, deep)
    assert [f.code for f in findings] == ["DK103"]


def test_huge_numbers_do_not_crash(engine: str) -> None:
    found = schemacheck.check_schema({"multipleOf": 0.5}, 10**400)
    if engine == "jsonschema-rs":
        assert found == []
    else:  # jsonschema divides in floats, which overflow: it says so rather than guess
        assert [f.code for f in found] == ["DK200"] and "cannot be checked" in found[0].message
    (f,) = schemacheck.check_schema({"maximum": 3}, 10**400)
    assert f.code == "DK204"


def test_valid_documents_never_import_jsonschema() -> None:
    code = (
        "import sys; from dagkit.schemas import check as schemacheck; "
        f"assert schemacheck.check('request-data', {QUICKSTART!r}) == []; "
        "assert 'jsonschema' not in sys.modules, 'jsonschema imported'; "
        "assert 'referencing' not in sys.modules, 'referencing imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_the_template_or_nodes_rule_belongs_to_request_data_only() -> None:
    found = schemacheck.check_schema({"title": "Config", "required": ["job_nodes"]}, {})
    assert [f.code for f in found] == ["DK201"]
    assert schemacheck.check("request-data", {})[0].code == "DK207"


def test_without_jsonschema_rs_jsonschema_gives_the_same_findings() -> None:
    # The import itself fails here, as on a machine without the compiled wheel.
    cases = [doc for _, doc, _, _ in BROKEN] + [QUICKSTART]
    code = (
        "import json, sys; sys.modules['jsonschema_rs'] = None; "
        "from dagkit.schemas import check as schemacheck; "
        "assert schemacheck._engine() is None; "
        "docs = json.loads(sys.stdin.read()); "
        "print(json.dumps([[f.to_dict() for f in schemacheck.check('request-data', d)] "
        "for d in docs]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    expected = [[f.to_dict() for f in schemacheck.check("request-data", d)] for d in cases]
    assert json.loads(done.stdout) == expected
    assert expected[-1] == [] and all(expected[:-1])


# -- the verdict engine against the reference ----------------------------------------------------


def reference(schema: Any, instance: Any) -> bool:
    validator = Draft202012Validator(
        schema, registry=schemas.registry(), format_checker=schemas.format_checker()
    )
    return validator.is_valid(instance)


def verdict(schema: Any, instance: Any) -> bool:
    """jsonschema-rs's verdict, as :func:`schemacheck.check_schema` gets it."""
    valid, _ = schemacheck._judge(schemacheck._compile(schema), instance)
    assert valid is not None, "left to jsonschema"
    return valid


def test_jsonschema_rs_is_the_verdict_engine() -> None:
    assert schemacheck._engine() is not None
    assert schemacheck._verdict("request-data") is not None


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
            lambda ts: {"type": ts},
            st.lists(st.sampled_from(TYPES), min_size=1, max_size=3, unique=True),
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
                "prefixItems": st.lists(inner, min_size=1, max_size=2),
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


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schema=SCHEMA, instances=st.lists(JSON_VALUES, min_size=1, max_size=4), data=st.data())
def test_random_schemas_agree_with_jsonschema(schema: Any, instances: list[Any], data: Any) -> None:
    for instance in instances:
        expected = reference(schema, instance)
        assert verdict(schema, instance) is expected, (schema, instance)
        if expected:
            mutated = mutate(data, instance)
            assert verdict(schema, mutated) is reference(schema, mutated), (schema, mutated)


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


def test_request_data_seeds_are_valid_for_both() -> None:
    schema = schemas.load_schema("request-data")
    for seed in SEEDS:
        assert reference(schema, seed), seed
        assert verdict(schema, seed), seed


@settings(max_examples=300, deadline=None)
@given(seed=st.sampled_from(SEEDS), data=st.data())
def test_request_data_mutations_agree(seed: Any, data: Any) -> None:
    schema = schemas.load_schema("request-data")
    mutated = mutate_request(data, seed)
    assert verdict(schema, mutated) is reference(schema, mutated), mutated
    # and the public entry point says the same
    assert (schemacheck.check("request-data", mutated) == []) is reference(schema, mutated)


def test_request_data_from_testing_strategies_agree() -> None:
    from dagkit import testing

    schema = schemas.load_schema("request-data")

    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
    @given(text=testing.request_data(), data=st.data())
    def run(text: str, data: Any) -> None:
        doc = loads(text)  # the floats keep their JSON text, as dagkit validate parses them
        assert verdict(schema, doc) and reference(schema, doc)
        mutated = mutate_request(data, doc)
        assert verdict(schema, mutated) is reference(schema, mutated), mutated

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
    assert verdict(schema, JOB) is reference(schema, JOB) is True
    mutated = mutate_request(data, JOB)
    assert verdict(schema, mutated) is reference(schema, mutated), mutated


def test_every_packaged_schema_compiles_and_has_no_ref_cycle() -> None:
    # Packaged schemas skip the depth limit that a $ref cycle needs (see _Verdict.recursive).
    for name in schemas.schema_names():
        if name != "openapi":
            assert schemacheck._verdict(name) is not None, name
            compiled = schemacheck._compile(schemas.load_schema(name))
            assert compiled is not None and not compiled.recursive, name
    with pytest.raises(SchemaError, match="not a schema"):
        schemacheck.check("openapi", {})


def test_packaged_schemas_resolve_each_others_ids() -> None:
    # A $ref to another file's $id is retrieved from the package, never from the network.
    schema = {"$ref": schemas.schema_id("JobStatus")}
    assert verdict(schema, "SCHEDULED") and not verdict(schema, "REJECTED")
    with pytest.raises(SchemaError, match="does not resolve"):
        schemacheck.check_schema({"$ref": schemas.SCHEMA_BASE + "nope.json"}, 1)


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
    assert verdict(schema, instance) is valid
    assert reference(schema, instance) is valid


@pytest.mark.parametrize(
    ("schema", "instance"),
    [
        ({"minProperties": 1}, {}),
        ({"contains": {"type": "string"}}, [1, 2]),
        ({"unevaluatedProperties": False, "properties": {"a": {}}}, {"a": 1, "b": 2}),
        ({"$defs": {"x": {"$anchor": "x", "type": "integer"}}, "$ref": "#x"}, "1"),
        ({"dependentSchemas": {"a": {"required": ["b"]}}}, {"a": 1}),
        ({"propertyNames": {"maxLength": 1}}, {"ab": 1}),
        ({"prefixItems": [{"type": "string"}], "items": False}, ["a", 1]),
    ],
)
def test_keywords_dagkit_does_not_use_still_agree(schema: Any, instance: Any) -> None:
    assert verdict(schema, instance) is reference(schema, instance) is False
    assert schemacheck.check_schema(schema, instance)


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "whatever"},
        {"pattern": "("},
        {"multipleOf": 0},
        {"items": [{"type": "string"}]},
        {"$ref": "#/$defs/missing"},
        "not a schema",
    ],
)
def test_schemas_that_cannot_be_used_are_schema_errors(engine: str, schema: Any) -> None:
    with pytest.raises(SchemaError):
        schemacheck.check_schema(schema, 1)


@pytest.mark.parametrize("name", ["email", "hostname", "ipv4", "uri", "date", "time", "regex"])
def test_only_dagkits_formats_are_asserted(name: str) -> None:
    schema = {"format": name}
    assert verdict(schema, "x (") is reference(schema, "x (") is True


def test_the_verdict_uses_dagkits_format_predicates() -> None:
    # jsonschema-rs's own duration check follows RFC 3339's grammar, which has no fractions;
    # ISO 8601 allows PT1.5S, and so does dagkit's predicate, which the verdict must use.
    assert verdict({"format": "duration"}, "PT1.5S") is reference({"format": "duration"}, "PT1.5S")
    assert verdict({"format": "duration"}, "PT1.5S") is True


@pytest.mark.parametrize("name", sorted(schemas.FORMATS))
@pytest.mark.parametrize(
    "text",
    [*STRINGS, "2025-01-31T23:59:60Z", "2025-01-31t12:00:00+01:00", "PT1.5S", "P1,5D", "p1d"],
)
def test_dagkits_formats_agree(name: str, text: str) -> None:
    schema = {"format": name}
    assert verdict(schema, text) is reference(schema, text) is schemas.FORMATS[name](text)


def test_multiple_of_a_decimal_fraction_is_exact() -> None:
    # The one place the engines differ: jsonschema divides binary floats (0.3 / 0.1 is
    # 2.9999999999999996), jsonschema-rs does not. dagkit's schemas have no multipleOf; for
    # others the verdict (0.3 is a multiple of 0.1) is what counts.
    assert verdict({"multipleOf": 0.1}, 0.3)
    assert not reference({"multipleOf": 0.1}, 0.3)
    assert schemacheck.check_schema({"multipleOf": 0.1}, 0.3) == []
    assert not any(
        "multipleOf" in json.dumps(schemas.load_schema(n)) for n in schemas.schema_names()
    )


def test_huge_integers_get_an_exact_verdict() -> None:
    # jsonschema's float division overflows here; jsonschema-rs divides exactly.
    assert verdict({"multipleOf": 0.5}, 10**400)
    assert not verdict({"multipleOf": 0.3}, 10**400 + 1)
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
    good = {"name": "r", "children": [{"name": "a", "children": [{"name": "b"}]}]}
    bad = {"name": "r", "children": [{"name": "a", "children": [{"nom": "b"}]}]}
    assert verdict(schema, good) and reference(schema, good)
    assert not verdict(schema, bad) and not reference(schema, bad)


def test_documents_deeper_than_the_limit_are_left_to_jsonschema() -> None:
    # jsonschema-rs would recurse on the C stack for each level (and overflow it); jsonschema
    # raises RecursionError instead, which is a finding.
    schema = {
        "$defs": {"n": {"type": "array", "items": {"$ref": "#/$defs/n"}}},
        "$ref": "#/$defs/n",
    }
    deep: Any = []
    for _ in range(schemacheck.MAX_DEPTH):
        deep = [deep]
    compiled = schemacheck._compile(schema)
    assert compiled is not None and compiled.recursive
    assert schemacheck._judge(compiled, deep)[0] is None
    assert schemacheck._judge(compiled, deep[0])[0] is True
    for _ in range(100_000):
        deep = [deep]
    assert [f.code for f in schemacheck.check_schema(schema, deep)] == ["DK103"]


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
    assert verdict(schema, 1) and not verdict(schema, "1")


def test_floats_that_keep_their_text_are_numbers() -> None:
    # jsonschema-rs reads values by exact type: a float subclass reached it as "not a number".
    doc = loads('{"x": 0.50, "y": 2.0, "z": [1.5, 1.50]}')
    assert isinstance(doc["x"], JSONFloat)
    schema = {"properties": {"x": {"type": "number", "maximum": 1}, "y": {"type": "integer"}}}
    assert verdict(schema, doc)
    assert verdict({"properties": {"x": {"not": {"type": "number"}}}}, doc) is False
    assert not verdict({"properties": {"x": {"type": "integer"}}}, doc)
    assert not verdict({"properties": {"z": {"uniqueItems": True}}}, doc)
    assert verdict({"enum": [1.5]}, JSONFloat("1.50"))


class Text(str):
    pass


@pytest.mark.parametrize(
    ("instance", "schema", "valid"),
    [
        (Text("a"), {"enum": ["a"]}, True),
        ({"k": Text("a")}, {"properties": {"k": {"const": "b"}}}, False),
        ({1: "a"}, {"type": "object"}, True),
        ({"s": {1, 2}}, {"properties": {"s": {"type": "array"}}}, False),
    ],
)
def test_python_values_get_the_reference_verdict(instance: Any, schema: Any, valid: bool) -> None:
    assert reference(schema, instance) is valid
    assert (schemacheck.check_schema(schema, instance) == []) is valid


def test_tuples_are_arrays_as_json_encoders_write_them() -> None:
    # jsonschema alone says a tuple is no array; what dagkit sends is one.
    assert verdict({"type": "array", "items": {"type": "integer"}}, (1, 2))
    assert verdict({"properties": {"a": {"maxItems": 1}}}, {"a": (1, JSONFloat("2.5"))}) is False


def test_deep_documents_without_a_ref_cycle_need_no_limit() -> None:
    deep: Any = {"a": 1}
    for _ in range(1000):
        deep = {"a": deep}
    schema = {"properties": {"a": {"type": "object"}}}
    assert schemacheck.check_schema(schema, deep) == []
    assert schemacheck.check_schema({"properties": {"a": {"uniqueItems": True}}}, deep) == []
    assert [f.code for f in schemacheck.check_schema({"const": 1}, deep)] == ["DK203"]


@pytest.mark.parametrize("error", [ZeroDivisionError, ValueError])
def test_errors_inside_the_verdict_engine_propagate(
    monkeypatch: pytest.MonkeyPatch, error: type[Exception]
) -> None:
    # A ValueError is what jsonschema-rs raises for values it cannot read; on JSON data it is a
    # bug like any other, and is not turned into a slow answer from jsonschema.
    def broken(text: str) -> bool:
        raise error("a bug in a format predicate")

    monkeypatch.setitem(schemas.FORMATS, "uuid", broken)
    with pytest.raises(error, match="a bug"):
        schemacheck.check_schema({"format": "uuid"}, "x")
    with pytest.raises(error, match="a bug"):
        schemacheck.check_schema({"items": {"format": "uuid"}}, [JSONFloat("1.5"), "x"])
