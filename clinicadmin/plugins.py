"""Plugin discovery and the registry of what the loaded plugins contribute.

Discovery order: the core's default plugins, installed distributions' ``clinicadmin`` entry points (the shipped
modalities too), then the plain packages in the folder ``PLUGINS_DIR`` names, if it names one (a drop-in for a trial;
a name already loaded stops start-up). ``PLUGINS_ENABLED`` limits which non-default plugins load. A plugin that fails to
load stops start-up with an error naming it, unless ``PLUGINS_FAIL_FAST`` is off (development).
"""

import importlib
import importlib.util
import logging
import os
import sys
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path

import pluggy
from flask import current_app

from . import hookspecs
from .plugin_api import CONDITION_KIND_HEADINGS as CONDITION_GROUPS
from .plugin_api import (
    ClientField,
    ConditionCode,
    MessageChannel,
    Modality,
    ProductCategory,
    Qualification,
    Report,
    ResourceKind,
    SettingSpec,
)

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "clinicadmin"
FOLDER_MODULE_PREFIX = "clinicadmin_plugins"
DEFAULT_PLUGINS = (
    "clinicadmin.default_plugins.conditions",
    "clinicadmin.default_plugins.certification",
    "clinicadmin.default_plugins.consent",
    "clinicadmin.default_plugins.intake",
    "clinicadmin.default_plugins.course_interval",
    "clinicadmin.default_plugins.stock_report",
    "clinicadmin.default_plugins.usage_report",
    "clinicadmin.default_plugins.clinic_reports",
    "clinicadmin.default_plugins.sign_in",
    "clinicadmin.default_plugins.booking_window",
    "clinicadmin.default_plugins.clinic_time",
    "clinicadmin.default_plugins.clinic_identity",
    "clinicadmin.default_plugins.rooms",
    "clinicadmin.default_plugins.product_categories",
    "clinicadmin.default_plugins.messages",
    "clinicadmin.default_plugins.photos",
)
#: the logging sender: loaded only when ``MESSAGE_LOG_SENDER`` is on (development), since it reports texts as sent
#: that no gateway delivered
LOG_SENDER = "clinicadmin.default_plugins.log_sender"


def refuse_log_sender_in_production(config, production):
    """Raise RuntimeError when ``production`` (a server in production mode) has ``MESSAGE_LOG_SENDER`` on: it would
    report clients' texts as sent while writing their phone numbers and words to the log."""
    if production and config.get("MESSAGE_LOG_SENDER"):
        raise RuntimeError(
            "MESSAGE_LOG_SENDER is on, but a server in production mode does not start with it: the logging sender "
            "delivers no text message, reports each one sent and writes clients' phone numbers and messages to the "
            "log. Turn it off (MESSAGE_LOG_SENDER = False, or unset CLINICADMIN_MESSAGE_LOG_SENDER) and send texts "
            "through a gateway plugin; it is for development (FLASK_DEBUG=1) only. See docs/operations.md."
        )


def _date_hint(condition):
    """What the first date of a dated code means on the form: when it started (a medication) or happened."""
    if not condition.dated:
        return ""
    return " (date started)" if condition.kind == "medication" else " (date it happened)"


class PluginError(RuntimeError):
    """A plugin could not be loaded or contributed something invalid; the message names the plugin."""


@dataclass
class LoadedPlugin:
    name: str
    source: str
    module: object
    hooks: list = field(default_factory=list)


def _already_imported(init):
    """The module already imported from ``init`` under any name (a test runner may have imported the package), so
    that its models are never declared twice."""
    target = init.resolve()
    # Only a package whose folder has the plugin folder's name (as given, or symlinks resolved) can be it: resolving
    # every loaded module's path instead would cost most of start-up.
    tails = {os.path.join(init.parent.name, init.name), os.path.join(target.parent.name, target.name)}
    for module in list(sys.modules.values()):
        file = getattr(module, "__file__", None)
        # string operations: a Path per loaded module would cost more than the rest of the check
        if (
            file
            and os.path.join(os.path.basename(os.path.dirname(file)), os.path.basename(file)) in tails
            and Path(file).resolve() == target
        ):
            return module
    return None


def _import_folder_plugin(name, package_dir):
    module_name = f"{FOLDER_MODULE_PREFIX}.{name}"
    init = package_dir / "__init__.py"
    existing = _already_imported(init)
    if existing is not None:
        return existing
    spec = importlib.util.spec_from_file_location(module_name, init, submodule_search_locations=[str(package_dir)])
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    return module


def _candidates(config):
    """Yield (name, source, loader) for every plugin found, defaults first."""
    for dotted in DEFAULT_PLUGINS + ((LOG_SENDER,) if config.get("MESSAGE_LOG_SENDER") else ()):
        yield "core." + dotted.rsplit(".", 1)[1], "core default", lambda d=dotted: importlib.import_module(d)
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        dist = ep.dist.name if ep.dist else "?"
        yield ep.name, f"entry point ({dist})", ep.load
    folder = config.get("PLUGINS_DIR")
    if folder and Path(folder).is_dir():
        for package_dir in sorted(Path(folder).iterdir()):
            if (package_dir / "__init__.py").is_file() and not package_dir.name.startswith(("_", ".")):
                yield (
                    package_dir.name,
                    f"folder ({package_dir})",
                    lambda n=package_dir.name, p=package_dir: _import_folder_plugin(n, p),
                )


def load_plugins(config, extra_plugins=()):
    """Create the app's PluginManager and load every plugin; ``extra_plugins`` are (name, object) pairs (tests)."""
    pm = pluggy.PluginManager("clinicadmin")
    pm.add_hookspecs(hookspecs)
    enabled = config.get("PLUGINS_ENABLED")
    loaded, found = [], set()
    for name, source, load in _candidates(config):
        found.add(name)
        if source != "core default" and enabled is not None and name not in enabled:
            continue
        if pm.has_plugin(name):
            raise PluginError(f"plugin {name!r} from {source} has the same name as a plugin already loaded")
        try:
            module = load()
            pm.register(module, name=name)
        except Exception as exc:
            message = f"plugin {name!r} from {source} failed to load: {type(exc).__name__}: {exc}"
            if config.get("PLUGINS_FAIL_FAST", True):
                raise PluginError(message) from exc
            log.error(message)
            continue
        loaded.append(LoadedPlugin(name, source, module))
    for name, obj in extra_plugins:
        pm.register(obj, name=name)
        loaded.append(LoadedPlugin(name, "registered by the caller", obj))
        found.add(name)
    # A clinic that uninstalled a plugin still starts; the log says which enabled name found nothing to load.
    for name in sorted(set(enabled or ()) - found):
        log.warning("PLUGINS_ENABLED names plugin %r, which is not installed: nothing loaded for it", name)
    for plugin in loaded:
        plugin.hooks = sorted(caller.name for caller in pm.get_hookcallers(plugin.module) or [])
    return pm, loaded


def each_implementation(pm, hook_name, *, registration_order=False, **kwargs):
    """Call ``hook_name`` through pluggy one plugin at a time, in pluggy's calling order (``tryfirst`` first), and
    yield ``(plugin name, answer, error)`` for each: the answer (None when it has none) or the exception it raised.

    Each call is pluggy's own, so an implementation receives only the arguments it names and hook wrappers wrap it;
    calling one plugin at a time keeps one plugin's failure from hiding another's answer (screening fails closed per
    plugin). ``registration_order`` walks the plugins in the order they were loaded instead (the core's own first),
    for start-up registrations, where the first to register a key keeps it."""
    hook = getattr(pm.hook, hook_name)
    first = bool(hook.spec and hook.spec.opts.get("firstresult"))
    ordered = hook.get_hookimpls() if registration_order else reversed(hook.get_hookimpls())
    impls = [i for i in ordered if not (i.hookwrapper or getattr(i, "wrapper", False))]
    for impl in impls:
        others = [i.plugin for i in impls if i.plugin is not impl.plugin]
        caller = pm.subset_hook_caller(hook_name, remove_plugins=others) if others else hook
        try:
            answer = caller(**kwargs)
        except Exception as exc:
            yield impl.plugin_name, None, exc
            continue
        yield impl.plugin_name, answer if first else (answer[0] if answer else None), None


def _per_plugin(pm, hook_name):
    """Yield (plugin name, result) for each implementation of a start-up hook, naming the plugin on error."""
    for name, result, error in each_implementation(pm, hook_name, registration_order=True):
        if error is not None:
            raise PluginError(f"plugin {name!r}: {hook_name}() raised {type(error).__name__}: {error}") from error
        if result is not None:
            yield name, result


def _expect(plugin, hook_name, value, cls):
    if not isinstance(value, cls):
        raise PluginError(f"plugin {plugin!r}: {hook_name}() returned {value!r}, expected {cls.__name__}")
    return value


class Registry:
    """What the loaded plugins registered: modalities, qualifications, condition codes, product categories, client
    fields, settings, reports and migration folders, keyed and checked.

    ``clinic_categories`` are product categories the clinic's configuration adds (``PRODUCT_CATEGORIES``), labelled
    by their key, after every plugin's."""

    def __init__(self, pm, loaded, clinic_categories=()):
        self.pm = pm
        self.loaded = loaded
        self.modalities = {}
        self.modality_plugin = {}
        self.qualifications = {}
        self.resource_kinds = {}
        self.conditions = {}
        self.condition_plugins = {}
        self.product_categories = {}
        self.product_category_plugin = {}
        self.client_fields = {}
        self.client_field_plugin = {}
        self.message_channels = {}
        self.message_channel_plugin = {}
        self.settings = {}
        self.reports = {}
        self.migrations = {}
        self._collect()
        self._collect_vocabularies(clinic_categories)

    def _collect(self):
        for plugin, modality in _per_plugin(self.pm, "register_modality"):
            _expect(plugin, "register_modality", modality, Modality)
            if modality.key in self.modalities:
                raise PluginError(
                    f"plugin {plugin!r} registers modality {modality.key!r}, "
                    f"already registered by {self.modality_plugin[modality.key]!r}"
                )
            self.modalities[modality.key] = modality
            self.modality_plugin[modality.key] = plugin
        for plugin, qualifications in _per_plugin(self.pm, "register_qualifications"):
            for qualification in qualifications:
                _expect(plugin, "register_qualifications", qualification, Qualification)
                known = self.qualifications.get(qualification.key)
                if qualification.key in self.modalities or (known and known.label != qualification.label):
                    raise PluginError(
                        f"plugin {plugin!r} registers qualification {qualification.key!r}, "
                        "which is already a modality or another qualification"
                    )
                self.qualifications[qualification.key] = qualification
        for plugin, kinds in _per_plugin(self.pm, "register_resource_kinds"):
            for kind in kinds:
                _expect(plugin, "register_resource_kinds", kind, ResourceKind)
                known = self.resource_kinds.get(kind.key)
                if known and known.label != kind.label:
                    raise PluginError(
                        f"plugin {plugin!r} registers resource kind {kind.key!r} as {kind.label!r}, "
                        f"already registered as {known.label!r}"
                    )
                self.resource_kinds[kind.key] = kind
        for plugin, codes in _per_plugin(self.pm, "register_conditions"):
            for code in codes:
                _expect(plugin, "register_conditions", code, ConditionCode)
                self._check_shared_condition(plugin, code)
                self._check_prefix(plugin, "condition", code.code)
                self.conditions.setdefault(code.code, code)
                self.condition_plugins.setdefault(code.code, []).append(plugin)
        for plugin, specs in _per_plugin(self.pm, "register_settings"):
            for spec in specs:
                _expect(plugin, "register_settings", spec, SettingSpec)
                if spec.key in self.settings:
                    raise PluginError(f"plugin {plugin!r} registers setting {spec.key!r} twice or over another's")
                self._check_prefix(plugin, "setting", spec.key)
                if spec.type is int and (
                    spec.minimum is None or spec.maximum is None or not spec.minimum <= spec.default <= spec.maximum
                ):
                    raise PluginError(
                        f"plugin {plugin!r}: setting {spec.key!r} needs a minimum and a maximum around its default"
                    )
                self.settings[spec.key] = spec
        for plugin, reports in _per_plugin(self.pm, "register_reports"):
            for report in reports:
                _expect(plugin, "register_reports", report, Report)
                if report.key in self.reports:
                    raise PluginError(f"plugin {plugin!r} registers report {report.key!r} twice or over another's")
                self._check_prefix(plugin, "report", report.key)
                self.reports[report.key] = report
        for plugin, folder in _per_plugin(self.pm, "register_migrations"):
            if not Path(folder).is_dir():
                raise PluginError(f"plugin {plugin!r}: register_migrations() names {folder!r}, which is not a folder")
            self.migrations[plugin] = str(folder)
        for key, modality in self.modalities.items():
            if modality.min_interval_setting and modality.min_interval_setting not in self.settings:
                raise PluginError(
                    f"plugin {self.modality_plugin[key]!r}: modality {key!r} names setting "
                    f"{modality.min_interval_setting!r}, which no plugin registers"
                )
            for needed in modality.requires:
                if needed not in self.qualifications:
                    raise PluginError(
                        f"plugin {self.modality_plugin[key]!r}: modality {key!r} requires "
                        f"qualification {needed!r}, which no plugin registers"
                    )
            for kind in modality.resources:
                if kind not in self.resource_kinds:
                    raise PluginError(
                        f"plugin {self.modality_plugin[key]!r}: modality {key!r} takes a resource of "
                        f"kind {kind!r}, which no plugin registers"
                    )

    def _prefix_owner(self, key):
        """The loaded plugin whose name prefixes ``key`` (``name.``, ``name-``, or its dist spelling ``na-me-``), the
        longest such name when several do; None when none does."""
        owners = [
            loaded.name
            for loaded in self.loaded
            if key.startswith((f"{loaded.name}.", f"{loaded.name}-", f"{loaded.name.replace('_', '-')}-"))
        ]
        return max(owners, key=len, default=None)

    def _check_prefix(self, plugin, what, key):
        """A key prefixed with a loaded plugin's name is that plugin's own: no other plugin may register it. The core's
        own keys (``stock-on-hand``) stand whatever a plugin is called."""
        owner = self._prefix_owner(key)
        if owner is not None and owner != plugin and not plugin.startswith("core."):
            raise PluginError(
                f"plugin {plugin!r} registers {what} {key!r}, but the prefix is plugin {owner!r}'s name: "
                f"only {owner!r} may register it; prefix your own keys with {plugin!r}"
            )

    def _check_shared_condition(self, plugin, code):
        """A code registered by a second plugin must be shared in both registrations and mean the same there."""
        known = self.conditions.get(code.code)
        if known is None:
            return
        first = self.condition_plugins[code.code][0]
        if not (known.shared and code.shared):
            owner = first if not known.shared else plugin
            raise PluginError(
                f"plugins {first!r} and {plugin!r} both register condition {code.code!r}, but {owner!r} registers it "
                "as its own: a code several plugins use must be ConditionCode(..., shared=True) in each"
            )
        if (known.kind, known.dated, known.label) != (code.kind, code.dated, code.label):
            raise PluginError(
                f"plugin {plugin!r} registers shared condition {code.code!r} as {code.label!r} ({code.kind}"
                f"{', dated' if code.dated else ''}), but plugin {first!r} registered it as {known.label!r} "
                f"({known.kind}{', dated' if known.dated else ''})"
            )

    def _collect_vocabularies(self, clinic_categories):
        for plugin, categories in _per_plugin(self.pm, "register_product_categories"):
            for category in categories:
                _expect(plugin, "register_product_categories", category, ProductCategory)
                known = self.product_categories.get(category.key)
                if known and known.label != category.label:
                    raise PluginError(
                        f"plugin {plugin!r} registers product category {category.key!r} as {category.label!r}, but "
                        f"plugin {self.product_category_plugin[category.key]!r} registered it as {known.label!r}"
                    )
                self.product_categories.setdefault(category.key, category)
                self.product_category_plugin.setdefault(category.key, plugin)
        for key in clinic_categories or ():
            if key not in self.product_categories:
                self.product_categories[key] = ProductCategory(key, key.replace("_", " "))
                self.product_category_plugin[key] = "clinic configuration (PRODUCT_CATEGORIES)"
        for plugin, fields in _per_plugin(self.pm, "register_client_fields"):
            for client_field in fields:
                _expect(plugin, "register_client_fields", client_field, ClientField)
                known = self.client_fields.get(client_field.key)
                if known and (known.label, known.choices) != (client_field.label, client_field.choices):
                    raise PluginError(
                        f"plugin {plugin!r} registers client field {client_field.key!r} differently from plugin "
                        f"{self.client_field_plugin[client_field.key]!r}: the same key needs the same label and "
                        "choices"
                    )
                self.client_fields.setdefault(client_field.key, client_field)
                self.client_field_plugin.setdefault(client_field.key, plugin)

        for plugin, channels in _per_plugin(self.pm, "register_message_channels"):
            for channel in channels:
                _expect(plugin, "register_message_channels", channel, MessageChannel)
                known = self.message_channels.get(channel.key)
                if known and known != channel:
                    raise PluginError(
                        f"plugin {plugin!r} registers message channel {channel.key!r} differently from plugin "
                        f"{self.message_channel_plugin[channel.key]!r}: the same key needs the same label and address"
                    )
                self.message_channels.setdefault(channel.key, channel)
                self.message_channel_plugin.setdefault(channel.key, plugin)

    def message_channel_choices(self):
        """Every registered message channel as (key, label), e-mail first, then by label."""
        return sorted(
            ((c.key, c.label) for c in self.message_channels.values()), key=lambda kv: (kv[0] != "email", kv[1])
        )

    def message_channel_label(self, key):
        channel = self.message_channels.get(key)
        return channel.label if channel else f"{key} (plugin not loaded)"

    def client_field_items(self, values):
        """[(label, value as read)] of the registered client fields among ``values`` (a client's ``plugin_fields``),
        by label; values whose plugin is not loaded are left out."""
        known = [(self.client_fields[key], value) for key, value in (values or {}).items() if key in self.client_fields]
        return sorted(((spec.label, spec.choice_label(value)) for spec, value in known), key=lambda kv: kv[0].lower())

    def product_category_choices(self):
        """Every registered product category as (key, label), by label."""
        return sorted(((c.key, c.label) for c in self.product_categories.values()), key=lambda kv: kv[1].lower())

    def product_category_label(self, key):
        category = self.product_categories.get(key)
        return category.label if category else f"{key} (plugin not loaded)"

    def check_product_categories(self, owner, categories):
        """Stop start-up when ``owner`` (a plugin or form) offers products of a category no plugin registers."""
        unknown = sorted(set(categories or ()) - set(self.product_categories))
        if unknown:
            raise PluginError(
                f"{owner}: a ProductField offers product categories {unknown}, which no plugin "
                "registers (register_product_categories)"
            )

    def modality_choices(self):
        return sorted(((m.key, m.label) for m in self.modalities.values()), key=lambda kv: kv[1])

    def scope_choices(self):
        """What staff can be certified for: every modality, then every qualification."""
        return self.modality_choices() + sorted(
            ((q.key, q.label) for q in self.qualifications.values()), key=lambda kv: kv[1]
        )

    def scope_label(self, key):
        if key in self.qualifications:
            return self.qualifications[key].label
        return self.modality_label(key)

    def condition_choices(self):
        """Health-history codes grouped by kind ({"Conditions": [(code, label)], ...}), each group by label."""
        groups = {}
        for kind in CONDITION_GROUPS:
            codes = sorted((c for c in self.conditions.values() if c.kind == kind), key=lambda c: c.label)
            if codes:
                groups[CONDITION_GROUPS[kind]] = [(c.code, c.label + _date_hint(c)) for c in codes]
        return groups

    def resource_kind_choices(self):
        """Every registered kind of room or device, by label."""
        return sorted(((k.key, k.label) for k in self.resource_kinds.values()), key=lambda kv: kv[1])

    def resource_kind_label(self, key):
        kind = self.resource_kinds.get(key)
        return kind.label if kind else f"{key} (plugin not loaded)"

    def modality_label(self, key):
        modality = self.modalities.get(key)
        return modality.label if modality else f"{key} (plugin not loaded)"

    def plugin_label(self, name):
        """What a person reads as the source of a plugin's finding: the modality's name for a modality's plugin, the
        check's ``LABEL`` for any other, "ClinicAdmin" for the core itself; never the plugin's code name."""
        if name == "core":
            return "ClinicAdmin"
        modalities = [self.modalities[key].label for key, plugin in self.modality_plugin.items() if plugin == name]
        if modalities:
            return ", ".join(modalities)
        loaded = next((p for p in self.loaded if p.name == name), None)
        label = getattr(loaded.module, "LABEL", None) if loaded else None
        if isinstance(label, str) and label.strip():
            return label.strip()
        words = name.rsplit(".", 1)[-1].replace("_", " ").replace("-", " ").strip()
        return words[:1].upper() + words[1:] if loaded else f"{words[:1].upper() + words[1:]} (plugin not loaded)"

    def condition_label(self, code):
        condition = self.conditions.get(code)
        return condition.label if condition else f"{code}: unknown code (plugin not loaded)"


def registry() -> Registry:
    """The current app's :class:`Registry`."""
    return current_app.extensions["clinicadmin"]
