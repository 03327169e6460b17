"""One partitioner feeding two chunkers, to compare chunking strategies side by side.

A DAG that branches after a shared prefix plans into one job per branch:
``dagkit build`` prints one request_data line per job and ``dagkit submit`` sends both.

    dagkit build examples/compare_chunkers.py
"""

from dagkit import Chunk, JobDAG, Partition

dag = JobDAG()
(partitioner,) = dag.add_chain(Partition.auto())
dag.add_chain(Chunk.by_title(max_characters=1000, name="By title"), after=partitioner)
dag.add_chain(Chunk.by_page(max_characters=1000, name="By page"), after=partitioner)
