"""The Binance exchange client: REST transport, signing, clock offset, weight governor, rules.

Callers use :class:`~provider.binance.client.BinanceClient` (``client.py``). The package imports
nothing itself, so the pure cores (``auth``, ``clock``, ``governor``, ``rules``, ``order_limits``,
``windows``) load without aiohttp (a test checks it).
"""
