"""The quick verdict on a valid request_data and the explaining path agree.

``validate_request_data`` answers a clean text from :func:`is_clean` (a plain parse, a count of
the text's keys, jsonschema-rs's verdict and :func:`dagkit.model.clean.keys_if_clean`) and
sends anything else through the path that builds findings. These properties hold the quick
verdict to that path on generated documents, valid and broken: it may say "clean" only when
the explaining path finds nothing (sound), and it must say so for every document the explaining
path finds nothing in (complete, so that valid documents do take the quick way).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dagkit import testing
from dagkit.core import jsontext
from dagkit.core.limits import MAX_REQUEST_DATA_BYTES
from dagkit.model import clean, rules
from dagkit.model.catalogue.data import ELEMENT_TYPES, KINDS, MODELS, PROVIDERS, SUBTYPES
from dagkit.model.dag import JobDAG
from dagkit.schemas import check as schemacheck
from dagkit.validate import request_data
from dagkit.validate.request_data import is_clean, validate_request_data
from dagkit.wire.serialize import to_request_data


@pytest.fixture(autouse=True)
def _tables_worked_out_afresh(monkeypatch: pytest.MonkeyPatch) -> None:
    """The per-kind tables are made on first use and kept: each test makes its own, so that a
    wrong table shows in the test that uses it, whatever ran before."""
    monkeypatch.setattr(clean, "_FACTS", {})


# --- text: layouts, escapes and repeated keys ---------------------------------------------------

SPACES = st.sampled_from(["", " ", "\n", "\t", "\r\n", "  \n  "])


def _string(value: str, ascii_only: bool, escape_all: bool) -> str:
    if escape_all:
        return '"' + "".join(f"\\u{ord(c):04x}" if ord(c) < 0x10000 else c for c in value) + '"'
    return json.dumps(value, ensure_ascii=ascii_only)


@st.composite
def json_text(draw: st.DrawFn, value: Any, repeats: bool = True) -> str:
    """``value`` as JSON text in a random layout: whitespace around every token, strings
    escaped or not, and (when ``repeats``) sometimes a key written twice, the first time with
    another value, so that the parsed value is still ``value``."""
    out: list[str] = []
    ascii_only = draw(st.booleans())
    repeats = repeats and draw(st.integers(0, 3)) == 1

    def space() -> None:
        out.append(draw(SPACES))

    def write(item: Any) -> None:
        nonlocal repeats
        if isinstance(item, dict):
            out.append("{")
            members = list(item.items())
            if repeats and members and draw(st.integers(0, 2)) == 1:
                repeats = False  # one object with a repeated key is enough
                key = draw(st.sampled_from([k for k, _ in members]))
                at = draw(st.integers(0, len(members) - 1))
                first = next(i for i, (k, _) in enumerate(members) if k == key)
                members.insert(min(at, first), (key, draw(st.sampled_from([0, "x:", {}]))))
            for i, (key, member) in enumerate(members):
                if i:
                    out.append(",")
                space()
                out.append(_string(key, ascii_only, draw(st.integers(0, 9)) == 0))
                space()
                out.append(":")
                space()
                write(member)
                space()
            out.append("}")
        elif isinstance(item, list):
            out.append("[")
            for i, member in enumerate(item):
                if i:
                    out.append(",")
                space()
                write(member)
                space()
            out.append("]")
        elif isinstance(item, str):
            out.append(_string(item, ascii_only, draw(st.integers(0, 9)) == 0))
        elif isinstance(item, float):
            out.append(repr(item))
        else:
            out.append(json.dumps(item))

    space()
    write(value)
    space()
    return "".join(out)


KEYS = st.sampled_from(["a", "b", 'q"uote', "c:olon", 'e\\"nd:', "é", "日本", "\U0001f600", ""])
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-10, 10) | st.sampled_from([1.5, -0.0]) | KEYS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
    max_leaves=12,
)


def object_keys(value: Any) -> int:
    if isinstance(value, dict):
        return len(value) + sum(object_keys(v) for v in value.values())
    if isinstance(value, list):
        return sum(object_keys(v) for v in value)
    return 0


@given(st.data(), JSON_VALUES)
def test_the_text_proves_no_key_repeated_exactly_when_none_is(data: st.DataObject, value: Any):
    text = data.draw(json_text(value))
    parsed, repeated = jsontext.loads_noting_duplicates(text)
    keys = object_keys(parsed)
    assert jsontext.repeats_no_key(text, keys) == (repeated == 0)
    if keys:  # fewer keys counted than parsed never proves anything wrong
        assert not jsontext.repeats_no_key(text, keys - 1)


def test_a_colon_or_quote_inside_a_string_is_no_key() -> None:
    text = '{"a": "x\\": y", "b": "http://z", "c\\":": 1}'
    assert jsontext.repeats_no_key(text, 3)
    assert not jsontext.repeats_no_key(text, 2)
    assert not jsontext.repeats_no_key('{"a": 1, "a": "\\":"}', 1)


@given(st.data(), JSON_VALUES)
def test_the_plain_parse_reads_what_the_exact_parse_reads(data: st.DataObject, value: Any):
    text = data.draw(json_text(value, repeats=False))
    assert jsontext.loads_plain(text) == jsontext.loads(text) == value


#: What JSON text is made of, and whitespace JSON does not know (vertical tab, no-break space...).
PARSER_CHARACTERS = ' \t\n\r\x0b\x1c\xa0\u2028{}[]":,0123456789.eE+-truefalsnNIfiy\\u\ufeff'


def test_the_plain_parse_says_why_it_refuses() -> None:
    with pytest.raises(ValueError, match=r"^not a JSON value$"):
        jsontext.loads_plain(" x")
    with pytest.raises(ValueError, match=r"^more text follows the JSON value$"):
        jsontext.loads_plain("{} {}")


def test_without_jsonschema_rs_nothing_is_taken_for_clean(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """jsonschema then gives every verdict, through the explaining path: the same findings."""
    monkeypatch.setattr(schemacheck, "_engine", lambda: None)
    schemacheck._verdict.cache_clear()
    try:
        for base in BASES:
            text = _edit(base, lambda doc: None)
            assert not is_clean(text)
            assert validate_request_data(text) == []
    finally:
        schemacheck._verdict.cache_clear()


@given(
    st.text(alphabet=PARSER_CHARACTERS, max_size=30)
    | st.sampled_from(["NaN", "[Infinity]", "-Infinity", "1 2", "\ufeff{}", "{} x", "[1,]"])
)
def test_the_plain_parse_refuses_what_the_exact_parse_refuses(text: str) -> None:
    try:
        expected: Any = jsontext.loads(text)
    except ValueError:
        expected = ValueError
    try:
        got: Any = jsontext.loads_plain(text)
    except ValueError:
        got = ValueError
    assert got == expected


# --- documents: valid ones, and what can be broken in them --------------------------------------

SETTING_NAMES = sorted({name for kind in KINDS.values() for name in kind.settings})
ODD_KEYS = ["overlapp", "max_charcters", "Max-Characters", "frobnicate", "", "model_nme"]
MODEL_NAMES = sorted({m for lists in MODELS.values() for ms in lists.values() for m in ms})
VALUES = st.one_of(
    st.sampled_from(
        [None, True, False, 0, -1, 1, 10, 100, 2048, 3000, 30000, 10**6, 2048.0, 0.5, 1.5,
         "", "x", "v1", "hi_res", "fast", "utf-8", "Image", "image", "Table", "Tablee"]
    ),
    st.sampled_from([*MODEL_NAMES, "bogus-model", "claude-3-5-sonnet-20241022"]),
    st.sampled_from([*sorted({p for ps in PROVIDERS.values() for p in ps}), "nope"]),
    st.lists(st.sampled_from(["Image", "table", "Nope", "Title", 3]), max_size=3),
    st.sampled_from([{}, {"user": "x"}, {"prompt": {"user": "x", "extra": 1}}, {"bogus": [1]}]),
    st.sampled_from([{"json_schema": "{}"}, {"extraction_guidance": "x", "odd": 1}, {"a": {}}]),
    st.sampled_from([[{"name": "n", "pattern": "p"}], [{"name": "n", "pattern": "p", "x": 1}]]),
)  # fmt: skip
ELEMENT_LISTS = st.lists(
    st.sampled_from([*sorted({t for ts in ELEMENT_TYPES.values() for t in ts}), "Nope", "image"]),
    max_size=3,
)
TYPED = {
    "string": st.sampled_from(
        MODEL_NAMES + sorted({p for ps in PROVIDERS.values() for p in ps})
        + ["bogus", "nope", "hi_res", "fast", "v1", "", "anthropic_ner"]
    ),
    "integer": st.sampled_from([0, 1, 100, 160, 1500, 2048, 3000, 8000, 30000, 200000]),
    "number": st.sampled_from([0, 0.5, 1, 1.5]),
    "boolean": st.booleans(),
    "array": ELEMENT_LISTS,
    "object": st.sampled_from([{}, {"json_schema": "{}"}, {"prompt": {"user": "x"}}, {"x": 1}]),
    "any": st.sampled_from([None, "x", {"a": [1, {"b": 2}]}]),
}  # fmt: skip
TYPES = [*sorted(rules.RANK), "Partition", "chunker", ""]
SUBTYPE_NAMES = [*sorted({s for subs in SUBTYPES.values() for s in subs}), "bogus"]


@st.composite
def node_mutation(draw: st.DrawFn, doc: dict[str, Any]) -> None:
    nodes = doc["job_nodes"]
    i = draw(st.integers(0, len(nodes) - 1))
    node = nodes[i]
    if not isinstance(node, dict):
        return
    settings = node.get("settings")
    choice = draw(st.integers(0, 23))
    if choice >= 12:
        draw(targeted_mutation(nodes, 12 + choice % 4))
        return
    if choice <= 3 and isinstance(settings, dict):  # a setting: dropped, changed or added
        documented = list(
            {
                name: setting
                for kind in KINDS.values()
                if kind.type == node.get("type")
                for name, setting in kind.settings.items()
            }.values()
        )
        if choice == 0 and settings:
            settings.pop(draw(st.sampled_from(sorted(settings))))
        elif choice <= 2 and documented:  # a documented one, often with a value of its type
            setting = draw(st.sampled_from(documented))
            settings[setting.name] = draw(TYPED[setting.type] | VALUES)
        else:
            key = draw(st.sampled_from(SETTING_NAMES + ODD_KEYS + list(ELEMENT_TYPES)))
            settings[key] = draw(VALUES)
    elif choice == 4:  # a field of the node
        field = draw(st.sampled_from(["name", "type", "subtype", "settings", "id", "extra"]))
        if draw(st.booleans()):
            node.pop(field, None)
        else:
            node[field] = draw(st.one_of(VALUES, st.sampled_from(TYPES + SUBTYPE_NAMES)))
    elif choice == 5:  # type and subtype
        node["type"] = draw(st.sampled_from(TYPES + SUBTYPE_NAMES))
        node["subtype"] = draw(st.sampled_from(TYPES + SUBTYPE_NAMES))
    elif choice == 6:  # swapped
        node["type"], node["subtype"] = node.get("subtype"), node.get("type")
    elif choice == 7:  # the order
        j = draw(st.integers(0, len(nodes) - 1))
        nodes[i], nodes[j] = nodes[j], nodes[i]
    elif choice == 8:  # a node twice, or gone
        if draw(st.booleans()):
            nodes.insert(draw(st.integers(0, len(nodes))), copy.deepcopy(node))
        else:
            del nodes[i]
    elif choice == 9:  # a name taken twice
        node["name"] = draw(st.sampled_from([n.get("name") for n in nodes if isinstance(n, dict)]))
    elif choice == 10:  # a node of another kind
        kind = KINDS[draw(st.sampled_from(sorted(KINDS)))]
        nodes.insert(
            draw(st.integers(0, len(nodes))),
            {"name": f"n{len(nodes)}", "type": kind.type, "subtype": kind.subtype, "settings": {}},
        )
    else:
        nodes[i] = draw(st.sampled_from([None, [], "node", 1]))


SIZES = st.sampled_from([None, 0, 1, 160, 1500, 2048, 2048.0, 4096, 28672, 30000, 200000])


@st.composite
def targeted_mutation(draw: st.DrawFn, nodes: list[Any], choice: int) -> None:
    """What the catalogue and the job rules (not the schema) look at."""
    settings_of = {
        n.get("type"): n["settings"]
        for n in nodes
        if isinstance(n, dict)
        and isinstance(n.get("settings"), dict)
        and isinstance(n.get("type"), str)
    }
    if choice == 12 and "chunk" in settings_of:  # chunk sizes against each other and the model
        chunk = settings_of["chunk"]
        if draw(st.booleans()):  # over the embedding model's ceiling, or not
            chunk["max_characters"] = draw(st.sampled_from([28672, 28673, 200000, 2048.0]))
        for key in ("max_characters", "overlap", "combine_text_under_n_chars"):
            size = draw(SIZES)
            if size is None:
                chunk.pop(key, None)
            elif draw(st.booleans()):
                chunk[key] = size
    elif choice == 13 and settings_of:  # a near miss of a documented key
        settings = settings_of[draw(st.sampled_from(sorted(settings_of)))]
        key = draw(st.sampled_from(SETTING_NAMES))
        how = draw(st.integers(0, 3))
        key = [key + "x", key.upper(), key.replace("_", "-"), key[1:]][how]
        settings[key] = draw(VALUES)
    elif choice == 14 and "partition" in settings_of:  # element types
        settings_of["partition"][draw(st.sampled_from(sorted(ELEMENT_TYPES)))] = draw(ELEMENT_LISTS)
    elif choice == 15 and "partition" in settings_of:  # what the later nodes depend on
        partition = settings_of["partition"]
        if partition.get("strategy") is not None:
            partition["strategy"] = draw(st.sampled_from(["hi_res", "fast"]))
        if draw(st.booleans()):
            partition["pdf_infer_table_structure"] = draw(st.sampled_from([True, False, None]))
        if draw(st.booleans()):
            partition["extract_image_block_types"] = draw(st.sampled_from([None, [], ["Image"]]))


@st.composite
def document_mutation(draw: st.DrawFn, doc: dict[str, Any]) -> None:
    choice = draw(st.integers(0, 5))
    if choice == 0:
        doc["skip_preflight"] = draw(st.booleans())
    elif choice == 1:
        doc["template_id"] = draw(st.sampled_from(["hi_res_partition", "", 3]))
    elif choice == 2:
        doc["job_nodes"] = draw(st.sampled_from([[], None, {}, "x"]))
    elif choice == 3:
        doc[draw(st.sampled_from(["jobNodes", "extra"]))] = draw(VALUES)
    elif choice == 4:
        doc.pop("job_nodes", None)
    else:
        doc["template_id"] = "t"
        doc.pop("job_nodes", None)


ROOT = Path(__file__).resolve().parent.parent
#: Jobs as written by hand and by the platform's own notebooks (a few repeat a key, or break a
#: rule: what the mutations below make of them is judged all the same).
SAMPLES = [
    json.loads(path.read_text(encoding="utf-8"))
    for folder in ("examples", "tests/data/valid", "tests/data/real")
    for path in sorted((ROOT / folder).glob("*.request_data.json"))
]


@st.composite
def documents(draw: st.DrawFn) -> Any:
    """A valid request_data document, sometimes broken in up to three places."""
    start = draw(st.integers(0, 9))
    if start == 0:
        doc: Any = json.loads(draw(testing.template_request_data()))
    elif start <= 3:
        doc = copy.deepcopy(draw(st.sampled_from(SAMPLES)))
    else:
        doc = json.loads(to_request_data(JobDAG.chain(*draw(testing.chains()))))
    for _ in range(draw(st.sampled_from([0, 0, 1, 1, 2, 3]))):
        nodes = doc.get("job_nodes") if isinstance(doc, dict) else None
        if isinstance(nodes, list) and nodes and draw(st.integers(0, 5)):
            draw(node_mutation(doc))
        elif isinstance(doc, dict):
            draw(document_mutation(doc))
    return doc


def explained(text: str) -> list[Any]:
    """The findings of the explaining path alone."""
    return request_data._explained(text, part=None, file=None)


@settings(max_examples=200)
@given(st.data(), documents())
def test_the_quick_verdict_is_the_explaining_paths(data: st.DataObject, doc: Any) -> None:
    text = data.draw(json_text(doc))
    findings = explained(text)
    assert is_clean(text) == (findings == [])
    assert validate_request_data(text) == findings


@given(testing.request_data())
def test_every_generated_valid_job_takes_the_quick_way(text: str) -> None:
    assert is_clean(text)


@given(testing.template_request_data())
def test_every_generated_template_job_takes_the_quick_way(text: str) -> None:
    assert is_clean(text)


@given(documents())
def test_the_rules_verdict_alone_is_sound(doc: Any) -> None:
    """keys_if_clean on its own: wherever it answers, check_document finds nothing but what the
    schema says, and it counts every key (of a document the schema accepts)."""
    keys = clean.keys_if_clean(doc)
    if keys is not None:
        schema = schemacheck.check("request-data", doc)
        assert rules.check_document(doc) == rules.attach_nodes(schema, doc)
        assert keys == object_keys(doc) if not schema else keys <= object_keys(doc)


# --- one thing wrong (or right) at a time: each question the quick verdict asks --------------

BASES = {
    "quickstart": "examples/quickstart.request_data.json",  # auto, chunk_by_title, azure embed
    "enrich": "examples/enrich_chunk_embed.request_data.json",  # hi_res, 3 prompters, chunk, embed
    "extract": "examples/extract.request_data.json",  # vlm partition, llm extractor
    "regex": "tests/data/valid/auto-page-regex.request_data.json",  # auto, chunk, regex extractor
}


def _edit(base: str, change: Any) -> str:
    doc = json.loads((ROOT / BASES[base]).read_text(encoding="utf-8"))
    change(doc)
    return json.dumps(doc)


def _set(node: int, key: str, value: Any) -> Any:
    return lambda doc: doc["job_nodes"][node]["settings"].__setitem__(key, value)


def _field(node: int, key: str, value: Any) -> Any:
    return lambda doc: doc["job_nodes"][node].__setitem__(key, value)


def _nodes(change: Any) -> Any:
    return lambda doc: doc.__setitem__("job_nodes", change(doc["job_nodes"]))


def _order(*indexes: int) -> Any:
    return lambda doc: doc.update(job_nodes=[doc["job_nodes"][i] for i in indexes])


def _renamed(index: int, name: str) -> Any:
    return lambda doc: doc["job_nodes"].insert(index, {**doc["job_nodes"][index], "name": name})


def _drop(node: int, key: str) -> Any:
    return lambda doc: doc["job_nodes"][node]["settings"].pop(key)


def _update(node: int, *keys: str | int, **values: Any) -> Any:
    def change(doc: dict[str, Any]) -> None:
        item = doc["job_nodes"][node]
        for key in keys:
            item = item[key]
        item.update(values)

    return change


def _template(value: Any) -> Any:
    return lambda doc: doc.clear() or doc.update(template_id=value)


CASES = {
    # clean, each in its own way
    "as written": ("enrich", lambda doc: None, True),
    "settings null": ("enrich", _field(1, "settings", None), True),
    "an id": ("quickstart", _field(0, "id", "p1"), True),
    "an enrichment with no settings": ("enrich", _field(2, "settings", {}), True),
    "a model of any partition provider": ("extract", _set(0, "provider", "auto"), True),
    "the default partition provider's model": ("extract", _set(0, "provider", None), True),
    "an extractor's default provider": ("extract", _drop(1, "provider"), True),
    "a lowercase element type": ("enrich", _set(0, "extract_image_block_types", ["image"]), True),
    "overlap under max_characters": ("quickstart", _set(1, "overlap", 2047), True),
    "combine at max_characters": ("quickstart", _set(1, "combine_text_under_n_chars", 2048), True),
    "max_characters at the model's ceiling": ("quickstart", _set(1, "max_characters", 28672), True),
    "a template": ("quickstart", _template("t"), True),
    "colons inside strings": ("extract", _field(1, "name", 'Extract: "a": b'), True),
    # what the schema says
    "settings a list": ("enrich", _field(1, "settings", []), False),
    "an id a number": ("quickstart", _field(0, "id", 3), False),
    "a name a number": ("quickstart", _field(1, "name", 3), False),
    "a name a list": ("quickstart", _field(1, "name", ["Chunker"]), False),
    "a type a list": ("quickstart", _field(1, "type", ["chunk"]), False),
    "a subtype a list": ("quickstart", _field(1, "subtype", ["chunk_by_title"]), False),
    "no subtype": ("quickstart", lambda doc: doc["job_nodes"][2].pop("subtype"), False),
    "a node a list": ("quickstart", lambda doc: doc["job_nodes"].append([]), False),
    "no nodes": ("quickstart", _order(), False),
    "nodes not a list": ("quickstart", lambda doc: doc.update(job_nodes={}), False),
    "template and nodes": ("quickstart", lambda doc: doc.update(template_id="t"), False),
    "a template not a string": ("quickstart", _template(3), False),
    "neither template nor nodes": ("quickstart", lambda doc: doc.clear(), False),
    "an unknown root key": ("quickstart", lambda doc: doc.update(jobNodes=[]), False),
    "a type no node type": ("quickstart", _field(1, "type", "chunker"), False),
    # what the catalogue says
    "skip_preflight": ("quickstart", lambda doc: doc.update(skip_preflight=True), False),
    "swapped": ("quickstart", _update(1, type="chunk_by_title", subtype="chunk"), False),
    "an unknown subtype": ("quickstart", _field(2, "subtype", "azure"), False),
    "an unknown setting": ("quickstart", _set(1, "frobnicate", 1), False),
    "a misspelled setting": ("quickstart", _set(1, "overlapp", 1), False),
    "an unknown nested key": ("extract", _update(1, "settings", "schema_to_extract", x=1), False),
    "an unknown listed key": ("regex", _update(2, "settings", "regex_patterns", 1, x=1), False),
    "an unknown partition provider": ("extract", _set(0, "provider", "nope"), False),
    "a partition model of another provider": ("extract", _set(0, "model", "gpt-4o"), False),
    "an unknown partition model": ("extract", _set(0, "model", "claude-0"), False),
    "an unknown default model": (
        "extract",
        _update(0, "settings", provider=None, model="x"),
        False,
    ),
    "another provider's model by default": (
        "extract",
        _update(0, "settings", provider=None, model="gpt-4o"),
        False,
    ),
    "an unknown extract model by default": (
        "extract",
        _update(1, "settings", provider=None, model="gpt-0"),
        False,
    ),
    "another provider's embedding model": ("quickstart", _set(2, "model_name", "voyage-3"), False),
    "an unknown extract provider": ("extract", _set(1, "provider", "nope"), False),
    "an unknown extract model": ("extract", _set(1, "model", "gpt-0"), False),
    "an enrichment's other provider_type": ("enrich", _set(1, "provider_type", "openai"), False),
    "an unknown enrichment model": ("enrich", _set(1, "model", "gpt-4o"), False),
    "an unknown embedding model": ("quickstart", _set(2, "model_name", "embedding-0"), False),
    "an unknown element type": ("enrich", _set(0, "extract_image_block_types", ["Img"]), False),
    "an unknown excluded element": ("enrich", _set(0, "exclude_elements", ["Title", "X"]), False),
    # what the job rules say
    "a name twice": ("quickstart", _field(2, "name", "Chunker"), False),
    "a chunker first": ("quickstart", _order(1, 0, 2), False),
    "an embedder before the chunker": ("quickstart", _order(0, 2, 1), False),
    "two chunkers": ("quickstart", _renamed(1, "Chunker 2"), False),
    "two partitioners": ("quickstart", _renamed(0, "Partitioner 2"), False),
    "an enrichment after the chunker": ("enrich", _order(0, 2, 4, 1, 5), False),
    "an extractor not last": ("regex", _order(0, 2, 1), False),
    "an embedder without a chunker": ("quickstart", _order(0, 2), False),
    "a chunker without max_characters": ("quickstart", _drop(1, "max_characters"), False),
    "chunks over the model's ceiling": ("quickstart", _set(1, "max_characters", 28673), False),
    "overlap at max_characters": ("quickstart", _set(1, "overlap", 2048), False),
    "chunks of one character": ("quickstart", _set(1, "max_characters", 1), False),
    "a model_name a list": ("quickstart", _set(2, "model_name", ["text-embedding-3-large"]), False),
    "combine over max_characters": (
        "quickstart",
        _set(1, "combine_text_under_n_chars", 2049),
        False,
    ),
    "an image enrichment after fast": ("enrich", _set(0, "strategy", "fast"), False),
    "an image enrichment after vlm": ("enrich", _update(0, subtype="vlm", settings={}), False),
    "OCR without image blocks": ("enrich", _set(0, "extract_image_block_types", []), False),
    "fast with table structure": (
        "quickstart",
        _update(
            0,
            subtype="unstructured_api",
            settings={"strategy": "fast", "pdf_infer_table_structure": True},
        ),
        False,
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_question_of_the_quick_verdict(case: str) -> None:
    base, change, clean_ = CASES[case]
    text = _edit(base, change)
    findings = explained(text)
    assert (findings == []) is clean_, [f.code for f in findings]
    assert is_clean(text) is clean_
    assert validate_request_data(text) == findings
    assert validate_request_data("\ufeff" + text) == findings  # skipped, as editors do


@pytest.mark.parametrize(
    "text",
    [
        '{"job_nodes": [], "job_nodes": [{"name": "P", "type": "partition", "subtype": "vlm"}]}',
        '{"template_id": "a", "template_id": "b"}',
        '{"template_id": "a\\": \\"b", "template_id": "b"}',
        '{"template_id": "t"} x',
        '{"template_id": NaN}',
        '{"template_id": "t"',
        '\ufeff\ufeff{"template_id": "t"}',  # validate_request_data skips the first mark only
    ],
)
def test_texts_the_quick_verdict_leaves_to_the_explaining_path(text: str) -> None:
    assert not is_clean(text)
    assert validate_request_data(text) == explained(text.removeprefix("\ufeff")) != []


@pytest.mark.parametrize("wide", ["a", "\U0001f600", "\ud800", "é"])
def test_the_size_limit_counts_utf8_bytes_however_few_the_characters(wide: str) -> None:
    """A text of exactly the limit in UTF-8 bytes is checked, one byte more is DK420, whatever
    takes the bytes (4 for an emoji, 3 for a lone surrogate, 2 for é, 1 for a)."""

    def text(size: int) -> str:
        room = size - len('{"template_id": ""}')
        width = len(wide.encode("utf-8", "surrogatepass"))
        return '{"template_id": "' + wide * (room // width) + "a" * (room % width) + '"}'

    fits, over = text(MAX_REQUEST_DATA_BYTES), text(MAX_REQUEST_DATA_BYTES + 1)
    assert len(fits.encode("utf-8", "surrogatepass")) == MAX_REQUEST_DATA_BYTES
    assert [f.code for f in validate_request_data(over)] == ["DK420"]
    assert "DK420" not in [f.code for f in validate_request_data(fits)]
