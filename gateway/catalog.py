"""The routed catalog: what MCP clients see, and which provider serves each entry.

Built purely from the providers' `Capabilities` (no I/O, no clock), so it is unit-testable and
rebuilt whole whenever any provider is (re)discovered.

Naming rules:
1. A tool name that already starts with `<provider>.` is kept as given.
2. Any other tool name is prefixed with `<provider>.`, unless the provider is configured with
   `namespace = false` (then it is kept as given, and rule 4 still prevents collisions).
3. A prompt name is kept as given (clients already show prompts under the server's name, and users
   type them), and is prefixed with `<provider>.` only when another provider took it first.
4. A name that is still taken is prefixed again (`<provider>.<name>`) until unique, and the
   collision is reported in `Catalog.notes` for the caller to log.
5. The names of rules 1-4 are the canonical (dotted) tool names. Each also has a portable form
   (`gateway/names.py`); the catalog lists one form (`ToolNames`) and routes calls under either.
   A tool whose portable form is already another tool's is refused, in both modes, and reported
   in `Catalog.errors`: a call must never reach the wrong tool.
6. Resource templates keep their URI template; the first provider (configuration order) to
   publish a template owns it, a duplicate is dropped and noted. Listed (concrete) resources
   likewise: the first provider to list a URI owns it; a read of a listed URI goes to its owner
   before any template is tried.
7. A tool whose input schema is not valid JSON Schema is dropped and noted: it could not be
   validated, so it is never forwarded.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import mcp_types as types
from mcp.shared.uri_template import InvalidUriTemplate, UriTemplate

from contracts.provider.v1 import provider_pb2
from gateway.arguments import ArgumentValidator, InvalidSchema
from gateway.names import ToolNames, portable_name

__all__ = [
    "Catalog",
    "PromptRoute",
    "ProviderSnapshot",
    "ResourceRoute",
    "TemplateRoute",
    "ToolRoute",
    "build_catalog",
]


@dataclass(frozen=True, slots=True)
class ProviderSnapshot:
    """One provider's namespace, the capabilities and the concrete resources it last reported."""

    name: str
    capabilities: provider_pb2.Capabilities
    resources: Sequence[provider_pb2.ResourceDescriptor] = ()
    namespace: bool = True
    """Prefix tool names with `<name>.` (rule 2); False keeps them as the provider gives them."""


@dataclass(frozen=True, slots=True)
class ToolRoute:
    """A tool as clients see it, and where calls to it go."""

    tool: types.Tool
    """The tool as listed; its name is `canonical` or `portable`, per `ToolNames`."""
    provider: str
    remote_name: str
    timeout_ms: int
    validator: ArgumentValidator
    canonical: str
    """Dotted name, e.g. `binance.get_ticker`."""
    portable: str
    """Name matching `^[a-zA-Z0-9_-]{1,64}$`, e.g. `binance_get_ticker`."""


@dataclass(frozen=True, slots=True)
class TemplateRoute:
    """A resource template and the provider that reads its URIs."""

    template: types.ResourceTemplate
    provider: str
    matcher: UriTemplate
    subscribable: bool


@dataclass(frozen=True, slots=True)
class ResourceRoute:
    """A listed resource and the provider that reads it."""

    resource: types.Resource
    provider: str
    subscribable: bool = False


@dataclass(frozen=True, slots=True)
class PromptRoute:
    """A prompt as clients see it, and where rendering goes."""

    prompt: types.Prompt
    provider: str
    remote_name: str


@dataclass(frozen=True, slots=True)
class Catalog:
    """Everything the gateway exposes, keyed by the client-visible name or template."""

    tools: Mapping[str, ToolRoute] = field(default_factory=dict)
    """Keyed by the listed name."""
    templates: Sequence[TemplateRoute] = ()
    resources: Mapping[str, ResourceRoute] = field(default_factory=dict)
    """Listed resources, keyed by URI, in listing order."""
    prompts: Mapping[str, PromptRoute] = field(default_factory=dict)
    notes: Sequence[str] = ()
    """Collisions and dropped entries, for the caller to log."""
    errors: Sequence[str] = ()
    """Refused tools (portable-name collisions), for the caller to log as errors."""
    aliases: Mapping[str, str] = field(default_factory=dict)
    """The unlisted form of each tool name -> its listed name (calls are accepted under both)."""

    def tool(self, name: str) -> ToolRoute | None:
        """The route of a tool called by its listed name or by its other form."""
        route = self.tools.get(name)
        if route is None and name in self.aliases:
            route = self.tools.get(self.aliases[name])
        return route

    def template_for(self, uri: str) -> TemplateRoute | None:
        """The template whose URI template matches `uri` (first in order), if any."""
        for route in self.templates:
            if route.template.uri_template == uri or route.matcher.match(uri) is not None:
                return route
        return None

    def subscribable_owner(self, uri: str) -> str | None:
        """The provider that streams updates of `uri` (a subscribable listed resource or template), if any."""
        listed = self.resources.get(uri)
        if listed is not None and listed.subscribable:
            return listed.provider
        route = self.template_for(uri)
        return route.provider if route is not None and route.subscribable else None

    def template_by_uri_template(self, uri_template: str) -> TemplateRoute | None:
        """The route of an exact URI template (completion references name templates)."""
        for route in self.templates:
            if route.template.uri_template == uri_template:
                return route
        return None

    def tools_key(self) -> str:
        """Changes exactly when the tool list clients see changes."""
        return _key([r.tool for r in self.tools.values()])

    def templates_key(self) -> str:
        """Changes exactly when the resource template list changes."""
        return _key([r.template for r in self.templates])

    def resources_key(self) -> str:
        """Changes exactly when the set of listed resources (or what they say) changes; order aside."""
        return _key([self.resources[uri].resource for uri in sorted(self.resources)])

    def prompts_key(self) -> str:
        """Changes exactly when the prompt list changes."""
        return _key([r.prompt for r in self.prompts.values()])


def _key(models: Sequence[types.Tool | types.ResourceTemplate | types.Resource | types.Prompt]) -> str:
    dumped = [m.model_dump(by_alias=True, mode="json", exclude_none=True) for m in models]
    return json.dumps(dumped, sort_keys=True)


def _unique_name(
    provider: str, name: str, taken: Mapping[str, object], notes: list[str], *, prefix: bool = True
) -> str:
    candidate = name if name.startswith(provider + ".") or not prefix else f"{provider}.{name}"
    if candidate in taken:
        original = candidate
        while candidate in taken:
            candidate = f"{provider}.{candidate}"
        notes.append(f"name collision: {provider} {name!r} exposed as {candidate!r} ({original!r} taken)")
    return candidate


def _json_object(raw: str) -> dict[str, Any] | None:
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def _annotations(desc: provider_pb2.ToolDescriptor) -> types.ToolAnnotations:
    hints = desc.hints
    return types.ToolAnnotations(
        title=desc.title or None,
        read_only_hint=hints.read_only,
        # MCP: destructiveHint is only meaningful when readOnlyHint is false.
        destructive_hint=False if hints.read_only else hints.destructive,
        idempotent_hint=hints.idempotent,
        open_world_hint=hints.open_world,
    )


def _validator(schema: dict[str, Any], raw: str, cache: MutableMapping[str, ArgumentValidator]) -> ArgumentValidator:
    validator = cache.get(raw)
    if validator is None:
        validator = ArgumentValidator(schema)
        cache[raw] = validator
    return validator


@dataclass
class _ToolNaming:
    """Names taken so far while building one catalog."""

    canonical: dict[str, ToolRoute] = field(default_factory=dict)
    portable: dict[str, str] = field(default_factory=dict)
    """Portable name -> the canonical name that owns it."""


def _add_tools(
    snap: ProviderSnapshot,
    naming: _ToolNaming,
    cache: MutableMapping[str, ArgumentValidator],
    notes: list[str],
    errors: list[str],
    mode: ToolNames,
) -> None:
    for desc in snap.capabilities.tools:
        schema = _json_object(desc.input_schema_json) or {"type": "object"}
        if schema.get("type") != "object":
            notes.append(f"dropped tool {snap.name}:{desc.name}: input schema is not an object")
            continue
        try:
            validator = _validator(schema, desc.input_schema_json, cache)
        except InvalidSchema as exc:
            notes.append(f"dropped tool {snap.name}:{desc.name}: invalid input schema ({exc})")
            continue
        output = _json_object(desc.output_schema_json)
        if output is not None and output.get("type") != "object":
            notes.append(f"tool {snap.name}:{desc.name}: output schema ignored (not an object)")
            output = None
        canonical = _unique_name(snap.name, desc.name, naming.canonical, notes, prefix=snap.namespace)
        portable = portable_name(canonical)
        owner = naming.portable.get(portable)
        if owner is not None:
            errors.append(
                f"refused tool {snap.name}:{desc.name}: its portable name {portable!r} already belongs to "
                f"{owner!r}; rename one of them in its provider"
            )
            continue
        tool = types.Tool(
            name=portable if mode is ToolNames.PORTABLE else canonical,
            title=desc.title or None,
            description=desc.description or None,
            input_schema=schema,
            output_schema=output,
            annotations=_annotations(desc),
        )
        naming.portable[portable] = canonical
        naming.canonical[canonical] = ToolRoute(
            tool, snap.name, desc.name, desc.timeout_ms, validator, canonical, portable
        )


def _add_templates(snap: ProviderSnapshot, templates: list[TemplateRoute], notes: list[str]) -> None:
    seen = {r.template.uri_template for r in templates}
    for desc in snap.capabilities.resource_templates:
        if desc.uri_template in seen:
            notes.append(f"dropped template {desc.uri_template!r} of {snap.name}: already published")
            continue
        try:
            matcher = UriTemplate.parse(desc.uri_template)
        except InvalidUriTemplate as exc:
            notes.append(f"dropped template {desc.uri_template!r} of {snap.name}: {exc}")
            continue
        seen.add(desc.uri_template)
        template = types.ResourceTemplate(
            name=desc.name or desc.uri_template,
            title=desc.title or None,
            uri_template=desc.uri_template,
            description=desc.description or None,
            mime_type=desc.mime_type or None,
        )
        templates.append(TemplateRoute(template, snap.name, matcher, desc.subscribable))


def _add_resources(snap: ProviderSnapshot, resources: dict[str, ResourceRoute], notes: list[str]) -> None:
    for desc in snap.resources:
        if not desc.uri:
            notes.append(f"dropped a listed resource of {snap.name}: no URI")
            continue
        if desc.uri in resources:
            if resources[desc.uri].provider != snap.name:
                notes.append(f"dropped listed resource {desc.uri!r} of {snap.name}: already listed")
            continue
        resource = types.Resource(
            uri=desc.uri,
            name=desc.name or desc.uri,
            title=desc.title or None,
            description=desc.description or None,
            mime_type=desc.mime_type or None,
        )
        resources[desc.uri] = ResourceRoute(resource, snap.name, desc.subscribable)


def _add_prompts(snap: ProviderSnapshot, prompts: dict[str, PromptRoute], notes: list[str]) -> None:
    for desc in snap.capabilities.prompts:
        name = _unique_name(snap.name, desc.name, prompts, notes, prefix=False)
        prompt = types.Prompt(
            name=name,
            title=desc.title or None,
            # Clients and the conformance suite expect a description on every prompt.
            description=desc.description or desc.title or name,
            arguments=[
                types.PromptArgument(name=a.name, description=a.description or None, required=a.required)
                for a in desc.arguments
            ],
        )
        prompts[name] = PromptRoute(prompt, snap.name, desc.name)


def build_catalog(
    snapshots: Sequence[ProviderSnapshot],
    validator_cache: MutableMapping[str, ArgumentValidator] | None = None,
    *,
    tool_names: ToolNames = ToolNames.PORTABLE,
) -> Catalog:
    """Merge the providers' capabilities (in configuration order) into one routed catalog.

    `validator_cache` maps an input-schema JSON text to its compiled validator, so re-discovery
    does not recompile unchanged schemas. `tool_names` chooses the listed form of tool names.
    """
    cache: MutableMapping[str, ArgumentValidator] = validator_cache if validator_cache is not None else {}
    naming = _ToolNaming()
    templates: list[TemplateRoute] = []
    resources: dict[str, ResourceRoute] = {}
    prompts: dict[str, PromptRoute] = {}
    notes: list[str] = []
    errors: list[str] = []
    for snap in snapshots:
        reported = snap.capabilities.provider
        if reported and reported != snap.name:
            notes.append(f"provider configured as {snap.name!r} calls itself {reported!r}")
        _add_tools(snap, naming, cache, notes, errors, tool_names)
        _add_templates(snap, templates, notes)
        _add_resources(snap, resources, notes)
        _add_prompts(snap, prompts, notes)
    tools = {r.tool.name: r for r in naming.canonical.values()}
    aliases = {
        (r.canonical if r.tool.name == r.portable else r.portable): r.tool.name
        for r in naming.canonical.values()
        if r.canonical != r.portable
    }
    return Catalog(
        tools=tools,
        templates=tuple(templates),
        resources=resources,
        prompts=prompts,
        notes=tuple(notes),
        errors=tuple(errors),
        aliases=aliases,
    )
