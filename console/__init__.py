"""The officers' PC console: reviews, notices, safety-check tasks, fund data."""
