"""The main job from Python: build the quickstart DAG, run it on the embedded jobs API with the
sample files, follow it to the end, download the outputs, and print a short summary.

    python examples/run_local.py [OUT_DIR]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from dagkit import Chunk, Embed, JobsClient, Partition
from dagkit.server import serve_in_thread

HERE = Path(__file__).resolve().parent


def main(out_dir: Path) -> int:
    dag = (
        Partition.auto()
        >> Chunk.by_title(max_characters=2048, new_after_n_chars=1500, overlap=160)
        >> Embed.azure_openai("text-embedding-3-large")
    )
    files = sorted((HERE / "files").iterdir())
    with serve_in_thread(clock=0.2) as server:
        client = JobsClient(url=server.url, api_key="local-example")
        job = client.create_job(dag, files)
        print(f"job {job.id} created with {len(files)} files on {server.url}")
        job = client.wait(job, poll_initial=0.2, on_update=lambda j: print(f"  {j.status}"))
        paths = client.download_all(job, out_dir)
        failed = client.failed_files(job)
    for path in paths:
        elements = json.loads(path.read_text(encoding="utf-8"))
        dims = {len(e["embeddings"]) for e in elements if "embeddings" in e}
        print(f"  {path}: {len(elements)} chunks, embeddings of {sorted(dims)} dimensions")
    print(f"{job.status}: {len(paths)} outputs in {out_dir}, {len(failed)} failed files")
    return 0 if job.status == "COMPLETED" and not failed else 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("out")))
