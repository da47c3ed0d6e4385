"""A second provider, written only against provider.v1: the MCP conformance suite's fixture.

It proves the gateway generic (no Binance inside, every conformance server scenario through the
gRPC hop) and is the template for a provider of another exchange: `provider_kit` (tool calls over
InvokeToolStream, content blocks, shared with the Binance provider), `tools.py` (the tools),
`server.py` (catalog, resources, prompts, the gRPC server).
Run it with `python -m fixture_provider --listen 127.0.0.1:50070`.
"""

__all__: list[str] = []
