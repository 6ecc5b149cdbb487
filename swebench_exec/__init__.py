"""bench-by-execution: benchmark LLMs by running the code they write."""
