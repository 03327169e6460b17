"""``dagkit validate`` on Python DAG sources and on directories of a real repository."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given

from dagkit.cli import main
from dagkit.testing import request_data
from dagkit.validate.files import is_foreign

ROOT = Path(__file__).resolve().parent.parent
QUICKSTART = ROOT / "tests" / "data" / "valid" / "quickstart.request_data.json"

OVERLAP = """\
from dagkit.model import nodes

partition = nodes.Partition.hi_res()
chunk = nodes.Chunk.by_title(max_characters=100, overlap=500)
dag = partition >> chunk
"""


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["validate", *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_a_python_dag_is_built_and_checked_at_the_line_of_the_node(tmp_path: Path) -> None:
    source = tmp_path / "pipeline.py"
    source.write_text(OVERLAP)
    code, out, _ = run(str(source))
    assert code == 1
    assert "DK100" not in out and "double quotes" not in out
    assert f"{source}:4: DK316 error" in out


def test_a_valid_python_dag_passes_and_an_attribute_can_be_named(tmp_path: Path) -> None:
    source = tmp_path / "pipeline.py"
    source.write_text(
        "from dagkit.model import nodes\n\n"
        "def make():\n    return nodes.Partition.fast() >> nodes.Chunk.by_title()\n\n"
        "other = make\n"
    )
    code, out, _ = run(f"{source}:other", "--format", "json")
    assert code == 0, out
    (result,) = json.loads(out)["files"]
    assert result["findings"] == []


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("from dagkit.model import nodes\n\ndag = nodes.Partition.fast(\n", 3, "syntax error"),
        (
            "from dagkit.model import nodes\n\ndag = nodes.Partition.hi_res(no_such=1)\n",
            3,
            'unknown setting "no_such"',
        ),
        ("x = 1\n", None, "no attribute 'dag'"),
    ],
)
def test_a_python_dag_that_does_not_load_is_one_finding_at_its_line(
    tmp_path: Path, text: str, line: int | None, words: str
) -> None:
    source = tmp_path / "broken.py"
    source.write_text(text)
    code, out, _ = run(str(source))
    assert code == 1
    where = f"{source}:{line}:" if line else f"{source}: "
    assert re.search(re.escape(where) + r"(\d+:)? ?DK104 error", out), out
    assert words in out
    assert "Traceback" not in out


def _repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / "dags").mkdir(parents=True)
    (repo / "node_modules" / "lib").mkdir(parents=True)
    (repo / "package.json").write_text('{"name": "site", "version": "1.0.0"}\n')
    (repo / "tsconfig.json").write_text('{\n  // comments are allowed here\n  "strict": true\n}\n')
    (repo / "dags" / "input.schema.json").write_text(
        '{"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object"}\n'
    )
    (repo / "dags" / "quickstart.request_data.json").write_bytes(QUICKSTART.read_bytes())
    (repo / "dags" / "pipeline.dag.py").write_text(OVERLAP)
    (repo / "dags" / "helper.py").write_text("raise SystemExit('never run by a walk')\n")
    (repo / "node_modules" / "lib" / "broken.request_data.json").write_text('{"job_nodes": 3}')
    return repo


def test_a_repository_walk_skips_foreign_json_and_says_so(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    code, out, err = run(str(repo), "--exclude", "node_modules")
    assert code == 1, out  # the .dag.py's overlap, and nothing else
    assert "package.json" not in out and "tsconfig.json" not in out and "schema" not in out
    assert "pipeline.dag.py:4: DK316" in out
    assert "helper.py" not in out
    assert "2 files, 1 error" in out
    assert "skipped 3 files" in err and "package.json" in err


def test_exclude_takes_several_globs(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    code, out, _ = run(str(repo), "--exclude", "node_modules", "--exclude", "*.dag.py")
    assert code == 0, out
    assert "1 file, 0 errors" in out
    code, out, _ = run(str(repo))
    assert code == 1 and "broken.request_data.json" in out


def test_a_foreign_json_named_explicitly_is_still_an_error(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    code, out, _ = run(str(repo / "package.json"))
    assert code == 1
    assert "DK207" in out


def test_the_pre_commit_hook_takes_python_dags() -> None:
    yaml = pytest.importorskip("yaml")
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    files = re.compile(hook["files"])
    assert files.search("dags/pipeline.dag.py")
    assert not files.search("dags/helper.py") and not files.search("setup.py")


def test_a_walk_skips_schemas_and_openapi_documents_that_describe_dagkit_keys(
    tmp_path: Path,
) -> None:
    """A JSON Schema or an OpenAPI document names ``job_nodes`` and ``workflow_nodes`` as the
    properties it describes, not as its own keys: it holds no request_data and no workflow."""
    repo = tmp_path / "repo"
    repo.mkdir()
    openapi = (ROOT / "schemas" / "openapi" / "jobs-api.openapi.json").read_bytes()  # > 64 KiB
    schema = (ROOT / "schemas" / "request-data.schema.json").read_bytes()
    # whatever their names: dagkit's own (with "job" and "request-data" in them) or others
    documents = ["api.openapi.json", "input.schema.json", "jobs-api.openapi.json"]
    (repo / "api.openapi.json").write_bytes(openapi)
    (repo / "jobs-api.openapi.json").write_bytes(openapi)
    (repo / "input.schema.json").write_bytes(schema)
    (repo / "pipeline.json").write_bytes(QUICKSTART.read_bytes())
    (repo / "broken.json").write_text('{"job_nodes": [{"type": "partition"}]}')
    (repo / "cut.request_data.json").write_text('{"job_nodes": [')  # named as dagkit's: checked
    code, out, err = run(str(repo))
    assert code == 1, out
    assert not any(name in out for name in documents) and "pipeline.json" not in out
    assert "broken.json" in out and "cut.request_data.json:1:" in out
    assert "3 files, " in out
    assert "skipped 3 files" in err and all(name in err for name in documents)


@given(request_data())
def test_request_data_that_names_a_schema_is_never_taken_for_one(text: str) -> None:
    """Only a document whose own top-level keys include none of request_data's is skipped."""
    doc = {"$schema": "https://json-schema.org/draft/2020-12/schema", **json.loads(text)}
    for indent in (None, 2):
        assert not is_foreign(json.dumps(doc, indent=indent).encode(), "pipeline.json")
