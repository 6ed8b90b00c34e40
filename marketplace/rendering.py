"""Markdown instructions rendered to sanitized HTML (clients write them; workers read them): coop.rendering."""

from coop.rendering import ALLOWED_TAGS, render_markdown  # noqa: F401

render_instructions = render_markdown
