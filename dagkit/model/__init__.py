"""The job model: the node catalogue, typed nodes, the graph rules and the DAG."""
