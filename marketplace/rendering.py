"""Markdown instructions rendered to sanitized HTML (clients write them; workers read them)."""

from functools import lru_cache

import markdown
import nh3

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "b", "i", "ul", "ol", "li", "code", "pre", "blockquote",
    "h1", "h2", "h3", "h4", "table", "thead", "tbody", "tr", "th", "td", "a", "hr",
}


@lru_cache(maxsize=256)  # instructions are rendered for every task handed out; they rarely change
def render_instructions(text: str) -> str:
    html = markdown.markdown(text or "", extensions=["tables", "fenced_code"], output_format="html")
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes={"a": {"href", "title"}}, link_rel="noopener noreferrer nofollow")
