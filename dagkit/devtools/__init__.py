"""Tooling for dagkit's own source checkout: generating and checking the schema files."""
