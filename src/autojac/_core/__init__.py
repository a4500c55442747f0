"""Core: graph nodes, the backward engine, grad mode and broadcasting adjoints."""
