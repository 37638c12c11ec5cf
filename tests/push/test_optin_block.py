"""The opt-in block and the scripts behind it: hidden until JavaScript finds the Push API, nothing
inline (the CSP refuses inline script and style), and every file it names is served."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

from api.templating import templates


class Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.inline_script = False
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_script = True


def parsed() -> Elements:
    elements = Elements()
    elements.feed(templates.env.get_template("push/_optin.html").render())
    return elements


def with_attribute(elements: Elements, name: str) -> dict[str, str | None]:
    [found] = [attrs for _, attrs in elements.elements if name in attrs]
    return found


def test_the_block_and_the_iphone_hint_start_hidden_and_nothing_is_inline() -> None:
    elements = parsed()
    assert "hidden" in with_attribute(elements, "data-push-optin")
    assert "hidden" in with_attribute(elements, "data-push-ios-hint")
    assert "hidden" in with_attribute(elements, "data-push-off")
    assert "hidden" not in with_attribute(elements, "data-push-on")
    assert not elements.inline_script
    assert all("style" not in attrs and tag != "style" for tag, attrs in elements.elements)
    assert all(
        not name.startswith("on") for _, attrs in elements.elements for name in attrs
    )  # no inline event handlers either
    # The script comes from base.html on every signed-in page (sign-out and shared phones need it).
    assert [tag for tag, _ in elements.elements if tag == "script"] == []


def test_the_scripts_are_served_as_javascript(client: Any) -> None:
    for path in ("/static/js/push-optin.js", "/sw/push.js"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "javascript" in response.headers["content-type"]
