"""The labelled benchmark of real SB3 runs (see PROTOCOL.md)."""
