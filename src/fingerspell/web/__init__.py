"""The browser app: `fingerspell serve` serves the live page (recognition runs in the browser),
the inspect and dataset pages, the bundle files and a small HTTP API under /api/."""
