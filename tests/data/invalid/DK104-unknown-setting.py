"""A Python DAG source whose node constructor is given a setting it does not take."""

from dagkit import Partition

dag = Partition.hi_res(no_such_setting=True)
