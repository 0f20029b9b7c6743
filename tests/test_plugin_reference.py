"""docs/plugin-hooks.md is the reference a plugin developer writes from without reading the core: every hook, every
public name of the modules a plugin uses (their ``__all__``) and every public method of the objects a plugin is
handed has its entry there with its exact signature, nothing documented is gone from the code, and the core's
condition vocabulary listed there is the registry's."""

import ast
import dataclasses
import importlib
import inspect
import re
import types

import pytest

from clinicadmin import hookspecs, reference
from clinicadmin.config import PROJECT_ROOT
from clinicadmin.demo import DemoContext
from clinicadmin.screening import HealthHistory
from clinicadmin.testing import Clinic, PostgresDatabases, StaffClient

DOCS = PROJECT_ROOT / "docs" / "plugin-hooks.md"
#: The modules a plugin imports from; each one's ``__all__`` is its public surface.
PUBLIC_MODULES = (
    "clinicadmin.plugin_api",
    "clinicadmin.rules",
    "clinicadmin.reporting",
    "clinicadmin.charts",
    "clinicadmin.forms",
    "clinicadmin.screening",
    "clinicadmin.demo",
    "clinicadmin.testing",
)
#: Objects the core hands a plugin (a hook's argument, a fixture's value) rather than a plugin builds: documented by
#: name, with every public method and property.
HANDED = (DemoContext, HealthHistory, StaffClient, Clinic, PostgresDatabases)

ENTRY = re.compile(r"^#### `(?P<name>[A-Za-z_][\w.]*)(?P<sig>\(.*\))?`(?P<rest>.*)$")


def _sections(text, level):
    """{title between the backticks: body} of the headings ``level`` deep of the form ``### `title```."""
    marks = "#" * level
    found = {}
    for chunk in re.split(rf"^(?={marks} )", text, flags=re.M):
        head = re.match(rf"{marks} `([^`]+)`", chunk)
        if head:
            body = re.split(rf"^#{{2,{level}}} ", chunk.split("\n", 1)[1] if "\n" in chunk else "", flags=re.M)[0]
            found[head.group(1)] = body
    return found


def _entries(body):
    """{name: documented signature text or None} of a module section's ``#### `name(signature)``` headings."""
    return {m["name"]: m["sig"] for m in map(ENTRY.match, body.splitlines()) if m}


def _default_text(value):
    if inspect.isclass(value) or inspect.isfunction(value):
        return value.__name__
    return repr(value)


def _shape(signature):
    """A signature as (name, kind, default) per parameter: what a caller relies on, annotations aside."""
    return [
        (p.name, p.kind.name, None if p.default is p.empty else _default_text(p.default))
        for p in signature.parameters.values()
    ]


def _documented_shape(text):
    """The same shape from a signature as written in the docs (annotations may be given or left out)."""
    args = ast.parse(f"def f{text}: pass").body[0].args
    shape = []
    positional = [*args.posonlyargs, *args.args]
    defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    for i, (arg, default) in enumerate(zip(positional, defaults, strict=True)):
        kind = "POSITIONAL_ONLY" if i < len(args.posonlyargs) else "POSITIONAL_OR_KEYWORD"
        shape.append((arg.arg, kind, None if default is None else ast.unparse(default)))
    if args.vararg:
        shape.append((args.vararg.arg, "VAR_POSITIONAL", None))
    for arg, default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        shape.append((arg.arg, "KEYWORD_ONLY", None if default is None else ast.unparse(default)))
    if args.kwarg:
        shape.append((args.kwarg.arg, "VAR_KEYWORD", None))
    return shape


def _canonical(shape):
    """A default written in the docs and one read from the code compare as Python values where they are literals."""

    def value(text):
        try:
            return repr(ast.literal_eval(text))
        except (ValueError, SyntaxError):
            return text

    return [(name, kind, None if default is None else value(default)) for name, kind, default in shape]


def _plain(signature):
    """``signature`` as the docs write it: without annotations, a class or function default by its name."""

    def plain(p):
        default = p.empty if p.default is p.empty else _Literal(_default_text(p.default))
        return p.replace(annotation=p.empty, default=default)

    return str(
        signature.replace(
            parameters=[plain(p) for p in signature.parameters.values()], return_annotation=signature.empty
        )
    )


class _Literal(str):
    """A default shown as written (``int``, not ``<class 'int'>``)."""

    def __repr__(self):
        return str(self)


def _is_fixture(obj):
    return type(obj).__name__ == "FixtureFunctionDefinition" or hasattr(obj, "_pytestfixturefunction")


def _methods(cls):
    """{name: signature or None (a property)} of the public methods and properties ``cls`` itself defines."""
    found = {}
    for name, attr in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(attr, property):
            found[name] = None
        elif isinstance(attr, (classmethod, staticmethod)) or inspect.isfunction(attr):
            signature = inspect.signature(getattr(cls, name))
            if inspect.isfunction(attr):  # drop ``self``
                signature = signature.replace(parameters=list(signature.parameters.values())[1:])
            found[name] = signature
    return found


def _signature(obj):
    try:
        return inspect.signature(obj)
    except (TypeError, ValueError):
        return None


def expected_entries(module):
    """{entry name: (kind, signature or None)} that ``module``'s section of the docs must hold."""
    expected = {}
    for name in module.__all__:
        obj = getattr(module, name)
        if _is_fixture(obj):
            expected[name] = ("fixture", None)
        elif inspect.isclass(obj) and obj in HANDED:
            expected[name] = ("class", None)
        elif callable(obj) and (signature := _signature(obj)) is not None:
            expected[name] = ("callable", signature)
        else:
            expected[name] = ("value", None)  # a constant, or a type alias such as ``dict[str, Any]``
        if inspect.isclass(obj) and obj.__module__.startswith("clinicadmin"):
            for method, signature in _methods(obj).items():
                expected[f"{name}.{method}"] = ("method", signature)
    return expected


def _heading(name, kind, signature):
    suffix = " (fixture)" if kind == "fixture" else ""
    return f"#### `{name}{'' if signature is None else _plain(signature)}`{suffix}"


def _problems(documented, wanted, where):
    problems = []
    for name, (kind, signature) in wanted.items():
        if name not in documented:
            problems.append(f"{where}: `{name}` has no entry; add the heading  {_heading(name, kind, signature)}")
        elif signature is None and documented[name] is not None and kind != "callable":
            problems.append(
                f"{where}: `{name}` is documented with a signature it does not have; write it as  "
                f"{_heading(name, kind, signature)}"
            )
        elif signature is not None and (
            documented[name] is None or _canonical(_documented_shape(documented[name])) != _canonical(_shape(signature))
        ):
            problems.append(
                f"{where}: `{name}` is documented as `{name}{documented[name] or ''}`; its signature "
                f"is now  {_heading(name, kind, signature)}"
            )
    for name in documented.keys() - wanted.keys():
        problems.append(
            f"{where}: the entry `{name}` names nothing public there (renamed, removed, or missing from "
            "the module's __all__)"
        )
    return problems


def test_every_public_name_has_an_entry_with_its_exact_signature():
    """Each module's ``__all__`` is what a plugin may use; each name, and each public method of a class among them,
    has a ``#### `name(signature)``` entry under the module's ``### `clinicadmin.x``` heading, matching the code."""
    modules = _sections(DOCS.read_text(), 3)
    problems = []
    for dotted in PUBLIC_MODULES:
        module = importlib.import_module(dotted)
        assert hasattr(module, "__all__"), f"{dotted} declares no __all__ (the names a plugin may use)"
        if dotted not in modules:
            problems.append(f"docs/plugin-hooks.md has no section  ### `{dotted}`")
            continue
        problems += _problems(_entries(modules[dotted]), expected_entries(module), f"### `{dotted}`")
    assert not problems, "docs/plugin-hooks.md is behind the code:\n" + "\n".join(problems)


def test_every_hook_has_its_section_with_its_exact_signature():
    hooks = {
        name: inspect.signature(fn)
        for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
        if hasattr(fn, "clinicadmin_spec")
    }
    assert len(hooks) >= 10
    documented = {}
    for line in DOCS.read_text().splitlines():
        if found := re.match(r"^### `(\w+)(\(.*\))`", line):
            documented[found[1]] = found[2]
    problems = []
    for name, signature in sorted(hooks.items()):
        if name not in documented:
            problems.append(f"hook {name} has no section; add  ### `{name}{_plain(signature)}`  under ## Hooks")
        elif _canonical(_documented_shape(documented[name])) != _canonical(_shape(signature)):
            problems.append(
                f"hook {name} is documented as `{name}{documented[name]}`; its signature is now  "
                f"### `{name}{_plain(signature)}`"
            )
    assert not problems, "docs/plugin-hooks.md is behind hookspecs.py:\n" + "\n".join(problems)


def test_the_demo_contexts_attributes_are_documented():
    """What ``demo`` holds besides its methods (its location, practitioners, clients ...) is named in its section."""
    body = _sections(DOCS.read_text(), 3)["clinicadmin.demo"]
    missing = [f.name for f in dataclasses.fields(DemoContext) if f"`{f.name}`" not in body]
    assert not missing, f"docs/plugin-hooks.md, ### `clinicadmin.demo`: name the attributes {missing} of DemoContext"


def test_the_check_catches_a_changed_signature_and_a_missing_entry():
    """The comparison itself: a default, a parameter or an entry that differs is reported, naming the fix."""

    def helper(details, key, *, precision=12):
        pass

    wanted = {"helper": ("callable", inspect.signature(helper))}
    assert _problems({"helper": "(details, key, *, precision=12)"}, wanted, "here") == []
    assert _problems({"helper": "(details: dict, key: str, *, precision: int = 12)"}, wanted, "here") == []
    changed = _problems({"helper": "(details, key, precision=12)"}, wanted, "here")
    assert changed == [
        "here: `helper` is documented as `helper(details, key, precision=12)`; its signature is now  "
        "#### `helper(details, key, *, precision=12)`"
    ]
    assert _problems({}, wanted, "here") == [
        "here: `helper` has no entry; add the heading  #### `helper(details, key, *, precision=12)`"
    ]
    assert "names nothing public" in _problems({"gone": None}, {}, "here")[0]


def test_the_condition_vocabulary_in_the_docs_is_the_registrys():
    assert reference.is_current(DOCS), (
        f"docs/plugin-hooks.md lists an old condition vocabulary; run: {reference.COMMAND}"
    )
    table = reference.condition_table()
    for code in reference.core_registry().conditions:
        assert f"| `{code}` |" in table


PREGNANCY = "| `pregnancy` | Pregnant | state |  |  |\n"


@pytest.mark.parametrize(
    "edit",
    [
        lambda text: text.replace(PREGNANCY, ""),
        lambda text: text.replace(reference.END, "| `gone` | Gone | state |  |  |\n" + reference.END),
    ],
    ids=["code-removed", "code-added"],
)
def test_a_stale_vocabulary_is_caught_and_rewritten(tmp_path, edit):
    """``make reference`` puts the registry's table between the markers; a table that differs is not current."""
    text = DOCS.read_text()
    assert PREGNANCY in text
    stale = tmp_path / "plugin-hooks.md"
    stale.write_text(edit(text))
    assert not reference.is_current(stale)
    stale.write_text(reference.with_table(stale.read_text(), reference.condition_table()))
    assert reference.is_current(stale) and stale.read_text() == text


def test_the_shipped_plugins_client_fields_are_published_in_the_docs_as_registered():
    """A plugin that shares a client field copies its key, label and choices from the docs; the table is the
    registry's, with the shipped plugins loaded, and a stale one is caught and rewritten."""
    registry = reference.shipped_registry()
    assert registry.client_fields, "the shipped plugins register client fields"
    text = DOCS.read_text()
    for key, spec in registry.client_fields.items():
        assert f"| `{key}` | {spec.label} |" in text
        for value, label in spec.choices:
            assert f"`{value}`: {label}" in text
    assert reference.is_current(DOCS), f"docs/plugin-hooks.md lists old client fields; run: {reference.COMMAND}"
    value, label = next(spec for spec in registry.client_fields.values() if spec.choices).choices[0]
    stale = text.replace(f"`{value}`: {label}", f"`{value}`: relabelled")
    assert stale != text
    assert reference.with_tables(stale) == text


def _quick_start():
    """The Python blocks of the Quick start section, in order: the plugin, then its test."""
    section = DOCS.read_text().split("\n## Quick start\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^```python\n(.*?)^```", section, re.M | re.S)


@pytest.fixture
def app_config():
    """The Quick start's plugin, as written, as the only plugin besides the core."""
    plugin = types.ModuleType("cupping")
    exec(compile(_quick_start()[0], "docs/plugin-hooks.md (Quick start)", "exec"), plugin.__dict__)
    return {"PLUGINS_ENABLED": [], "EXTRA_PLUGINS": [("cupping", plugin)]}


def test_the_quick_start_plugin_and_its_test_work_as_written(app, clinic):
    plugin_code, test_code = _quick_start()
    assert "def register_modality" in plugin_code and "def test_" in test_code
    namespace = {}
    exec(compile(test_code, "docs/plugin-hooks.md (Quick start)", "exec"), namespace)
    namespace["test_blocks_a_bleeding_disorder"](app, clinic)
