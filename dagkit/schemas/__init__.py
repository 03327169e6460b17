"""The packaged JSON Schemas and OpenAPI document, and the checks that run them."""
