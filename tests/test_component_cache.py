"""NHS.UK component macros answered from memory (api/component_cache.py): the same HTML as
rendering them afresh, on every page and in every state a person meets, and never an answer for
arguments that differ in any way a component could notice."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from jinja2 import ChainableUndefined, DictLoader, Environment
from markupsafe import Markup

from api.component_cache import LARGEST_ANSWER, ComponentCache, remember_components
from api.templating import component_cache

# A component as nhsuk-frontend-jinja writes them: a macro file that includes its template.
COMPONENTS = {
    "nhsuk/components/shout/macro.jinja": (
        "{% macro shout(params = {}) %}{% if caller %}{% endif %}"
        '{% include "nhsuk/components/shout/template.jinja" %}{% endmacro %}'
    ),
    "nhsuk/components/shout/template.jinja": (
        "<p{% for k, v in (params.attributes or {}).items() %} {{ k }}={{ v }}{% endfor %}>"
        "{{ params.html if params.html else params.text }}"
        "{% if caller %}[{{ caller() }}]{% endif %}</p>"
    ),
    "page.html": '{% from "nhsuk/components/shout/macro.jinja" import shout %}{{ shout(p) }}',
    "called.html": (
        '{% from "nhsuk/components/shout/macro.jinja" import shout %}'
        "{% call shout({'text': 'x'}) %}{{ body }}{% endcall %}"
    ),
}


def environment(size: int = 64, characters: int = 10_000) -> tuple[Environment, ComponentCache]:
    env = Environment(loader=DictLoader(COMPONENTS), autoescape=True, undefined=ChainableUndefined)
    return env, remember_components(env, ComponentCache(size, characters))


def render(env: Environment, **context: Any) -> str:
    return env.get_template("page.html").render(**context)


@pytest.mark.no_database
def test_a_second_call_with_the_same_arguments_is_answered_from_memory() -> None:
    env, cache = environment()
    assert render(env, p={"text": "hello"}) == "<p>hello</p>"
    assert render(env, p={"text": "hello"}) == "<p>hello</p>"
    assert (cache.misses, cache.hits) == (1, 1)


@pytest.mark.no_database
@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"text": "<b>"}, {"html": Markup("<b>")}),  # escaped text vs trusted HTML
        ({"html": "<b>"}, {"html": Markup("<b>")}),  # a str is escaped, Markup is not
        ({"text": 1}, {"text": True}),  # equal in Python, not on the page
        ({"text": 1}, {"text": 1.0}),
        (
            {"text": "a", "attributes": {"x": 1, "y": 2}},
            {"text": "a", "attributes": {"y": 2, "x": 1}},  # attributes in their order
        ),
        ({"text": "a"}, {"text": "a", "attributes": {}}),
        ({"text": ["a"]}, {"text": ("a",)}),
    ],
)
def test_arguments_that_differ_in_any_way_get_their_own_answer(
    first: dict[str, Any], second: dict[str, Any]
) -> None:
    fresh_env = Environment(loader=DictLoader(COMPONENTS), autoescape=True)
    expected = [render(fresh_env, p=first), render(fresh_env, p=second)]
    env, cache = environment()
    assert [render(env, p=first), render(env, p=second)] == expected
    assert [render(env, p=first), render(env, p=second)] == expected
    assert cache.misses == 2


@pytest.mark.no_database
def test_a_call_with_a_caller_block_is_rendered_every_time() -> None:
    env, cache = environment()
    template = env.get_template("called.html")
    assert template.render(body="one") == "<p>x[one]</p>"
    assert template.render(body="two") == "<p>x[two]</p>"
    assert (cache.misses, cache.hits) == (0, 0)


@pytest.mark.no_database
def test_an_argument_the_key_cannot_vouch_for_is_rendered_every_time() -> None:
    class Changing:
        def __init__(self) -> None:
            self.text = "before"

        def __str__(self) -> str:
            return self.text

    value = Changing()
    env, cache = environment()
    assert render(env, p={"text": value}) == "<p>before</p>"
    value.text = "after"
    assert render(env, p={"text": value}) == "<p>after</p>"
    assert (cache.misses, cache.hits) == (0, 0)


@pytest.mark.no_database
def test_the_memory_is_bounded_least_recently_used_first_out() -> None:
    env, cache = environment(size=2)
    for text in ["a", "b", "a", "c", "a", "b"]:
        assert render(env, p={"text": text}) == f"<p>{text}</p>"
    # a, b missed; a hit; c missed (b out); a hit; b missed again (c out).
    assert (cache.misses, cache.hits) == (4, 2)


@pytest.mark.no_database
def test_the_memory_holds_at_most_its_characters_and_no_answer_longer_than_the_largest() -> None:
    env, cache = environment(characters=20)
    for text in ["aaaaaaaa", "bbbbbbbb", "cccccccc"]:  # 15 characters each with <p></p>
        render(env, p={"text": text})
    render(env, p={"text": "cccccccc"})
    render(env, p={"text": "aaaaaaaa"})
    assert (cache.misses, cache.hits) == (4, 1)  # only the last one fits
    long_text = "x" * LARGEST_ANSWER
    env, cache = environment(characters=10 * LARGEST_ANSWER)
    for _ in range(2):
        assert render(env, p={"text": long_text}) == f"<p>{long_text}</p>"
    assert (cache.misses, cache.hits) == (2, 0)


# The real pages --------------------------------------------------------------------------

PAGES = {
    "crew": ["/", "/handovers/new", "/ideas/new", "/mine", "/outbox", "/account"],
    "manager": ["/triage", "/handovers", "/measures", "/huddle", "/learning", "/readiness"],
    "partner": ["/partner", "/partner/pack"],
    "admin": ["/admin/users"],
}


UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
NOW = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+\+00:00")


def page_text(response: Any) -> str:
    """The page, with the new record id a form is given on each visit, and the moment a page says
    it was drawn (to the microsecond), each written as one placeholder."""
    return NOW.sub("<now>", UUID.sub("<uuid>", response.text))


def fresh_then_remembered(get: Callable[[], Any]) -> tuple[str, str]:
    """The page rendered with nothing remembered, then from memory (after a first render filled it).
    A page that shows the time can change between renders: then the pair is taken again."""
    for _ in range(3):
        saved = component_cache.size
        component_cache.clear()
        component_cache.size = 0
        try:
            fresh = get()
        finally:
            component_cache.size = saved
        get()
        hits = component_cache.hits
        remembered = get()
        assert component_cache.hits > hits, "the second render was not answered from memory"
        component_cache.size = 0
        try:
            fresh_again = get()
        finally:
            component_cache.size = saved
        if page_text(fresh) == page_text(fresh_again):
            assert remembered.status_code == fresh.status_code
            return page_text(fresh), page_text(remembered)
    raise AssertionError("the page changed between every pair of renders")


@pytest.mark.parametrize("role", PAGES)
def test_every_page_is_the_same_from_memory(role: str, request: pytest.FixtureRequest) -> None:
    client = request.getfixturevalue(role)
    for path in PAGES[role]:
        fresh, remembered = fresh_then_remembered(lambda: client.get(path))  # noqa: B023
        assert remembered == fresh, path


@pytest.mark.parametrize(
    ("path", "data"),
    [
        (
            "/handovers",
            {"id": str(uuid.uuid4()), "narrative": "Waited 40 minutes", "partner_id": "nonsense"},
        ),
        ("/ideas", {"id": str(uuid.uuid4()), "title": "", "problem": "Trolleys <b>near</b>"}),
    ],
)
def test_a_form_with_errors_and_what_was_typed_is_the_same_from_memory(
    crew: Any, path: str, data: dict[str, str]
) -> None:
    form_page = "/handovers/new" if path == "/handovers" else "/ideas/new"
    fresh, remembered = fresh_then_remembered(lambda: crew.form(path, data, page=form_page))
    assert "nhsuk-error-summary" in fresh
    assert "Trolleys &lt;b&gt;near" in fresh or "Waited 40 minutes" in fresh
    assert remembered == fresh
