"""NHS.UK frontend's component macros, each answer remembered for the arguments it was given.

A component macro (`input`, `radios`, `button`, …) renders its own template afresh on every call,
and that template imports and calls the shared macros again (a capture form is ~500 nested macro
calls, ~20 ms of a request's CPU). Imported without context, which is how Jinja imports by
default and how every template here imports them, a component's HTML depends only on the
arguments it is called with: the same arguments give the same HTML. So the answer is kept, keyed by
an exact copy of the arguments (types included: a `Markup` string is not the same argument as a
plain one), and a form drawn again with nothing typed into it costs a dictionary look-up per
component.

What is never remembered: a call with a caller block (`{% call fieldset(…) %}`: its body is the
calling template's), and arguments of a type not listed in `_key` (an object whose value could
change under the same key). The cache is bounded in entries and characters (least recently used out first; a very long
answer is not kept) and per process.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from threading import Lock
from typing import Any
from uuid import UUID

from jinja2 import Template, Undefined
from jinja2.environment import TemplateModule
from jinja2.runtime import Macro

#: The component macro files of nhsuk-frontend-jinja (`nhsuk/components/<name>/macro.jinja`).
COMPONENT_PREFIX = "nhsuk/components/"
COMPONENT_SUFFIX = "/macro.jinja"

#: How many answers a process keeps: a few hundred distinct components across all pages, the rest
#: is room for the values of forms drawn again with what was typed (those rarely repeat).
CACHE_SIZE = 4096
#: And how much HTML, in characters, at most (a long table is not worth a place; the total stays
#: a few megabytes a process whatever the pages hold).
CACHE_CHARACTERS = 4_000_000
LARGEST_ANSWER = 32_000

#: Immutable values that stand for themselves in a key (with their type, so True ≠ 1 and
#: Markup("a") ≠ "a").
_ATOMS = (str, int, float, bool, Decimal, date, datetime, time, UUID, Enum, type(None))


class _Uncacheable(Exception):
    """An argument the key cannot vouch for: the call is rendered, not remembered."""


def _key(value: Any) -> Any:
    if isinstance(value, _ATOMS):
        return (type(value), value)
    if isinstance(value, Undefined):
        return (type(value),)
    if isinstance(value, Mapping):
        # Order kept: a component writes attributes in the order it is given them.
        return (Mapping, tuple((_key(k), _key(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return (type(value), tuple(_key(item) for item in value))
    raise _Uncacheable


class ComponentCache:
    """Answers of component macros by (macro, arguments); bounded, shared by the threads that
    render pages."""

    def __init__(self, size: int = CACHE_SIZE, characters: int = CACHE_CHARACTERS) -> None:
        self.size = size
        self.characters = characters
        self._held = 0
        self._answers: OrderedDict[Any, Any] = OrderedDict()
        self._lock = Lock()
        self.hits = 0
        self.misses = 0

    def call(self, name: str, macro: Macro, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if kwargs:  # a caller block, or keyword arguments: render as asked
            return macro(*args, **kwargs)
        try:
            key = (name, _key(args))
        except _Uncacheable:
            return macro(*args)
        with self._lock:
            answer = self._answers.get(key)
            if answer is not None:
                self._answers.move_to_end(key)
                self.hits += 1
                return answer
        answer = macro(*args)
        with self._lock:
            self.misses += 1
            if len(answer) <= LARGEST_ANSWER and key not in self._answers:
                self._answers[key] = answer
                self._held += len(answer)
                while len(self._answers) > self.size or self._held > self.characters:
                    _, dropped = self._answers.popitem(last=False)
                    self._held -= len(dropped)
        return answer

    def clear(self) -> None:
        with self._lock:
            self._answers.clear()
            self._held = 0


class _RememberedMacro:
    """Stands in for a component macro: called the same way, answers from the cache."""

    def __init__(self, cache: ComponentCache, name: str, macro: Macro) -> None:
        self._cache = cache
        self._name = name
        self._macro = macro

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._cache.call(self._name, self._macro, args, kwargs)

    def __getattr__(self, attribute: str) -> Any:  # name, arguments, catch_kwargs, caller, …
        return getattr(self._macro, attribute)


class ComponentTemplate(Template):
    """An Environment's template class: a module made from a component macro file exports
    remembering stand-ins for its macros. Every other template is left as it is."""

    component_cache: ComponentCache

    def make_module(
        self,
        vars: dict[str, Any] | None = None,
        shared: bool = False,
        locals: Mapping[str, Any] | None = None,
    ) -> TemplateModule:
        module = super().make_module(vars, shared, locals)
        name = self.name or ""
        if name.startswith(COMPONENT_PREFIX) and name.endswith(COMPONENT_SUFFIX):
            for attribute, value in list(vars_of(module).items()):
                if isinstance(value, Macro):
                    setattr(
                        module,
                        attribute,
                        _RememberedMacro(self.component_cache, f"{name}:{attribute}", value),
                    )
        return module


def vars_of(module: TemplateModule) -> dict[str, Any]:
    return {k: v for k, v in vars(module).items() if not k.startswith("_")}


def remember_components(environment: Any, cache: ComponentCache | None = None) -> ComponentCache:
    """Makes `environment` load templates as ComponentTemplate sharing one cache; returns it."""
    cache = cache or ComponentCache()
    environment.template_class = type(
        "RememberingTemplate", (ComponentTemplate,), {"component_cache": cache}
    )
    return cache
