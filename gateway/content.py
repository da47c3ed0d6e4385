"""provider.v1 content (blocks, resource contents, prompt messages) as MCP wire types, and back.

Pure functions, no I/O. Rules:
1. Binary data travels as bytes in provider.v1 and as base64 text in MCP (image, audio, blob).
2. A resource's contents are text unless `blob` is set.
3. A tool result's content is its `content` blocks when there are any, else its `text` alone.
4. A prompt message is its `content` block when set, else its `text`.
5. Annotations arrive as a JSON object; one that is not valid MCP `Annotations` is dropped
   (noted in the returned list), never fatal: the block itself still reaches the client.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

import mcp_types as types
from pydantic import TypeAdapter, ValidationError

from contracts.provider.v1 import provider_pb2

__all__ = [
    "content_blocks",
    "from_block",
    "prompt_messages",
    "resource_contents",
    "to_block",
    "to_resource_contents",
]

ResourceContents = types.TextResourceContents | types.BlobResourceContents
_RESOURCE_ADAPTER: TypeAdapter[ResourceContents] = TypeAdapter(ResourceContents)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _annotations(raw: str) -> types.Annotations | None:
    if not raw:
        return None
    try:
        return types.Annotations.model_validate(json.loads(raw))
    except (ValueError, ValidationError):
        return None


def resource_contents(
    c: provider_pb2.ResourceContents, uri: str = "", mime_type: str | None = None
) -> ResourceContents:
    """One resource's contents; `uri` and `mime_type` fill in what the provider left empty."""
    mime = c.mime_type or mime_type
    if c.blob:
        return types.BlobResourceContents(uri=c.uri or uri, mime_type=mime, blob=_b64(c.blob))
    return types.TextResourceContents(uri=c.uri or uri, mime_type=mime, text=c.text)


def to_block(block: provider_pb2.ContentBlock) -> types.ContentBlock | None:
    """One content block; None for an empty block (nothing in its oneof)."""
    kind = block.WhichOneof("block")
    annotations = _annotations(block.annotations_json)
    if kind == "text":
        return types.TextContent(text=block.text.text, annotations=annotations)
    if kind == "image":
        return types.ImageContent(data=_b64(block.image.data), mime_type=block.image.mime_type, annotations=annotations)
    if kind == "audio":
        return types.AudioContent(data=_b64(block.audio.data), mime_type=block.audio.mime_type, annotations=annotations)
    if kind == "resource":
        return types.EmbeddedResource(resource=resource_contents(block.resource), annotations=annotations)
    if kind == "resource_link":
        link = block.resource_link
        return types.ResourceLink(
            uri=link.uri,
            name=link.name or link.uri,
            title=link.title or None,
            description=link.description or None,
            mime_type=link.mime_type or None,
            annotations=annotations,
        )
    return None


def content_blocks(blocks: Sequence[provider_pb2.ContentBlock], text: str) -> list[types.ContentBlock]:
    """A tool result's content (rule 3)."""
    converted = [b for b in (to_block(block) for block in blocks) if b is not None]
    return converted or [types.TextContent(text=text)]


def prompt_messages(messages: Sequence[provider_pb2.PromptMessage]) -> list[types.PromptMessage]:
    """A rendered prompt's messages (rule 4); any role but "assistant" is "user"."""
    out = []
    for m in messages:
        block = to_block(m.content) if m.HasField("content") else None
        out.append(
            types.PromptMessage(
                role="assistant" if m.role == "assistant" else "user",
                content=block if block is not None else types.TextContent(text=m.text),
            )
        )
    return out


# -- the other way: what a provider written in Python sends (the fixture provider, tests) --------


def to_resource_contents(contents: ResourceContents | dict[str, Any]) -> provider_pb2.ResourceContents:
    """MCP resource contents (a model or its JSON) as provider.v1 contents."""
    model = (
        contents
        if isinstance(contents, types.TextResourceContents | types.BlobResourceContents)
        else _RESOURCE_ADAPTER.validate_python(contents)
    )
    if isinstance(model, types.BlobResourceContents):
        return provider_pb2.ResourceContents(
            uri=model.uri, mime_type=model.mime_type or "", blob=base64.b64decode(model.blob)
        )
    return provider_pb2.ResourceContents(uri=model.uri, mime_type=model.mime_type or "", text=model.text)


def _dump_annotations(annotations: types.Annotations | None) -> str:
    if annotations is None:
        return ""
    return json.dumps(annotations.model_dump(by_alias=True, mode="json", exclude_none=True))


def from_block(block: types.ContentBlock) -> provider_pb2.ContentBlock:
    """An MCP content block as a provider.v1 block."""
    annotations = _dump_annotations(block.annotations)
    if isinstance(block, types.TextContent):
        return provider_pb2.ContentBlock(text=provider_pb2.TextContent(text=block.text), annotations_json=annotations)
    if isinstance(block, types.ImageContent | types.AudioContent):
        media = provider_pb2.MediaContent(data=base64.b64decode(block.data), mime_type=block.mime_type)
        if isinstance(block, types.ImageContent):
            return provider_pb2.ContentBlock(image=media, annotations_json=annotations)
        return provider_pb2.ContentBlock(audio=media, annotations_json=annotations)
    if isinstance(block, types.EmbeddedResource):
        return provider_pb2.ContentBlock(resource=to_resource_contents(block.resource), annotations_json=annotations)
    return provider_pb2.ContentBlock(
        resource_link=provider_pb2.ResourceDescriptor(
            uri=block.uri,
            name=block.name,
            title=block.title or "",
            description=block.description or "",
            mime_type=block.mime_type or "",
        ),
        annotations_json=annotations,
    )
