"""The node catalogue has one source (dagkit/model/catalogue/source.py); its generated files
stay equal to what that source gives, and what runs is cheap to import."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from dagkit.cli import main
from dagkit.devtools import schemafiles
from dagkit.model.catalogue import data, render, source

ROOT = Path(__file__).resolve().parents[1]


def test_every_generated_file_is_what_the_source_gives() -> None:
    for relative, expected in render.render_all().items():
        assert (ROOT / relative).read_bytes() == expected, (
            f"{relative} drifted: run `dagkit schemas generate --catalogue`"
        )


def test_generated_data_equals_the_source() -> None:
    assert data.KINDS == source.KINDS
    assert data.MODELS == source.MODELS
    assert data.EMBEDDING_MODELS == source.EMBEDDING_MODELS
    assert data.SUBTYPES == source.SUBTYPES
    assert data.ELEMENT_TYPES == source.ELEMENT_TYPES
    assert tuple(source.ASSUMED_OPTIONS) == data.ASSUMED_OPTIONS
    for (type_, subtype), kinds in data.BY_PAIR.items():
        assert all((k.type, k.subtype) == (type_, subtype) for k in kinds)
        assert all(k is data.KINDS[k.key] for k in kinds)


def test_generation_is_deterministic() -> None:
    assert render.render_all() == render.render_all()


def test_schemas_check_reports_a_hand_edited_request_data_schema(tmp_path: Path) -> None:
    copy = tmp_path / "schemas"
    shutil.copytree(ROOT / "schemas", copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert schemafiles.check_schemas(copy) == []
    target = copy / "request-data.schema.json"
    target.write_text(target.read_text(encoding="utf-8").replace('"minItems": 1', '"minItems": 2'))
    problems = schemafiles.check_schemas(copy)
    assert any(
        p.startswith("schemas/request-data.schema.json: differs") and "--catalogue" in p
        for p in problems
    ), problems


def test_cli_generate_catalogue_rewrites_the_same_bytes() -> None:
    before = {relative: (ROOT / relative).read_bytes() for relative in render.render_all()}
    result = CliRunner().invoke(main, ["schemas", "generate", "--catalogue"])
    assert result.exit_code == 0, result.output
    assert "wrote 3 files" in result.output
    after = {relative: (ROOT / relative).read_bytes() for relative in before}
    assert after == before


def test_what_runs_never_imports_the_source_or_the_generator() -> None:
    code = (
        "import sys, dagkit.model.rules, dagkit.validate.request_data; "
        "print(sorted(m for m in sys.modules if m.startswith('dagkit.model.catalogue')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    loaded = [
        "dagkit.model.catalogue",
        "dagkit.model.catalogue.data",
        "dagkit.model.catalogue.entries",
    ]
    assert out.stdout.strip() == str(loaded)


def test_every_optional_setting_is_nullable_and_every_required_one_is_not() -> None:
    for kind in data.KINDS.values():
        for setting in kind.settings.values():
            assert setting.nullable is (not setting.required), (kind.key, setting.name)


def test_the_platform_defaults_leave_nothing_required_where_it_fills_them() -> None:
    """Evidence: prompter nodes with settings {}, a VLM partitioner without is_dynamic, Auto
    without allow_fast were accepted and ran."""
    for kind in data.KINDS.values():
        if kind.type == "prompter":
            assert kind.required_settings == [], kind.key
    assert data.KINDS["vlm"].required_settings == []
    assert data.KINDS["auto"].required_settings == ["is_dynamic"]
    for name in ("user_prompt", "prompt", "custom_host_config"):
        assert name in data.KINDS["vlm"].settings and name in data.KINDS["auto"].settings


def test_openai_and_together_embedding_models_have_sizes() -> None:
    openai = data.EMBEDDING_MODELS["openai"]
    assert {m: (s.dimensions, s.max_characters) for m, s in openai.items()} == {
        "text-embedding-3-small": (1536, 28672),
        "text-embedding-3-large": (3072, 28672),
        "text-embedding-ada-002": (1536, 28672),
    }
    together = data.EMBEDDING_MODELS["togetherai"]
    assert together["togethercomputer/m2-bert-80M-2k-retrieval"].max_characters == 7168
    assert together["togethercomputer/m2-bert-80M-8k-retrieval"].max_characters == 28672
