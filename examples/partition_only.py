"""The smallest job: partition every file with the hi_res strategy, tables as HTML.

dagkit build examples/partition_only.py
"""

from dagkit import Partition

dag = Partition.hi_res(infer_table_structure=True, include_page_breaks=True)
