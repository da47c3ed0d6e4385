"""Generic MCP gateway in front of gRPC capability providers (provider.v1); knows no exchange."""

__all__ = ["__version__"]

__version__ = "0.1.0"
