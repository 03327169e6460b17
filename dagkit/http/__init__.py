"""The HTTP transport: requests, retries, server time and redaction of secrets."""
