"""The node catalogue: every node kind the jobs API takes, its settings, and the open lists.

One source, three outputs. ``source.py`` is the catalogue as written by hand. From it,
``dagkit schemas generate --catalogue`` writes ``data.py`` (the same catalogue as precomputed
data, cheap to import), ``typed.py`` (the TypedDicts behind the constructors' keyword arguments)
and ``schemas/request-data.schema.json`` (a JSON Schema other tools can use). ``dagkit schemas
check`` and the test suite fail when a generated file differs from what the source gives.
Nothing at run time imports ``source.py`` or ``render.py``.
"""
