"""Markdown written by users (clients' instructions, members' proposals and comments) rendered to sanitised HTML."""

from functools import lru_cache

import markdown
import nh3

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "b", "i", "ul", "ol", "li", "code", "pre", "blockquote",
    "h1", "h2", "h3", "h4", "table", "thead", "tbody", "tr", "th", "td", "a", "hr",
}


@lru_cache(maxsize=1024)  # instructions are rendered for every task handed out; they rarely change
def render_markdown(text: str) -> str:
    html = markdown.markdown(text or "", extensions=["tables", "fenced_code"], output_format="html")
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes={"a": {"href", "title"}}, link_rel="noopener noreferrer nofollow")
