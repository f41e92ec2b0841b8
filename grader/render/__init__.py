"""Renderers: each turns a GradeResult into one output format, and nothing more."""
