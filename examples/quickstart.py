"""The quickstart job: partition with Auto, chunk by title, embed with Azure OpenAI.

dagkit build examples/quickstart.py
"""

from dagkit import Chunk, Embed, Partition

dag = (
    Partition.auto()
    >> Chunk.by_title(max_characters=2048, new_after_n_chars=1500, overlap=160)
    >> Embed.azure_openai("text-embedding-3-large")
)
