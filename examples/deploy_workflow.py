"""From a local try to a deployed workflow, in Python: try the quickstart DAG as an on-demand job
on the sample files, deploy the same DAG as a workflow, run the workflow with the same files,
and check both runs gave the same outputs.

    python examples/deploy_workflow.py [OUT_DIR]              # against an embedded local API
    python examples/deploy_workflow.py --remote [OUT_DIR]     # UNSTRUCTURED_API_URL / _KEY

Against the platform, pass ``--remote``: the workflow is created without a source connector
(it is run with uploaded files), and deleted at the end.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from dagkit import JobDAG, WorkflowsClient, load_dag
from dagkit.server import serve_in_thread

HERE = Path(__file__).resolve().parent


def deploy(client: WorkflowsClient, out_dir: Path) -> int:
    dag = load_dag(HERE / "quickstart.py")
    assert isinstance(dag, JobDAG)
    files = sorted((HERE / "files").iterdir())

    # 1. try it: an on-demand job on local files
    job = client.wait(client.create_job(dag, files), poll_initial=0.2)
    tried = client.download_all(job, out_dir / "tried")
    print(f"tried: job {job.id} {job.status}, {len(tried)} outputs")

    # 2. deploy the same DAG: its workflow_nodes are the job_nodes the job ran
    workflow = client.create_workflow(dag, name="quickstart-docs")
    print(f"deployed: workflow {workflow.id} ({workflow.name})")
    assert [n.name for n in workflow.workflow.dag or []] == [n.name for n in dag]

    # 3. run the workflow with the same files, and follow its job like any other
    run = client.wait(client.run_workflow(workflow, files), poll_initial=0.2)
    deployed = client.download_all(run, out_dir / "deployed")
    print(f"ran: job {run.id} of workflow {run.workflow_name}, {run.status}")

    same = all(
        json.loads(a.read_text(encoding="utf-8")) == json.loads(b.read_text(encoding="utf-8"))
        for a, b in zip(tried, deployed, strict=True)
    )
    client.delete_workflow(workflow)
    print(f"{len(deployed)} outputs in {out_dir / 'deployed'}, same as the try: {same}")
    return 0 if job.succeeded and run.succeeded and len(tried) == len(deployed) else 1


def main(argv: list[str]) -> int:
    remote = "--remote" in argv
    args = [a for a in argv if a != "--remote"]
    out_dir = Path(args[0]) if args else Path("out")
    if remote:
        return deploy(WorkflowsClient(), out_dir)
    with serve_in_thread(clock="instant") as server:
        return deploy(WorkflowsClient(url=server.url, api_key="local-example"), out_dir)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
