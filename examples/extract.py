"""Partition with a vision model, then extract structured data that fits a JSON Schema.

dagkit build examples/extract.py
"""

from dagkit import Extract, Partition

invoice = {
    "type": "object",
    "properties": {
        "invoice_number": {"type": "string"},
        "total": {"type": "number"},
        "due_date": {"type": "string"},
    },
    "required": ["invoice_number", "total", "due_date"],
    "additionalProperties": False,
}

dag = Partition.vlm(provider="anthropic", model="claude-sonnet-4-5-20250929") >> Extract.llm(
    json_schema=invoice, provider="openai", model="gpt-4o"
)
