"""The provider's gRPC server: typed services, the generic provider contract, health, reflection,
graceful drain on SIGTERM/SIGINT, and systemd readiness.

`create_server(app, listen, tls)` returns the server and its bound port, so tests can bind port 0;
with `tls` the port speaks TLS (mutual TLS when it carries a client CA), otherwise plaintext.
"""

from __future__ import annotations

import asyncio
import gc
import signal

import grpc
import structlog
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from contracts.provider.v1 import provider_pb2, provider_pb2_grpc
from provider import logs, systemd
from provider import settings as settings_module
from provider.app import App
from provider.health import report as health_report
from provider.provider_api import ProviderServicer
from provider.services.dispatch import add_typed_services
from provider.services.errors import ErrorBoundary
from provider.services.in_flight import IN_FLIGHT
from provider.tls import ServerTls

log = structlog.get_logger("provider")

#: health service names: "" (overall), and each typed service.
OVERALL = ""


class CannotListen(OSError):
    """The listen address cannot be bound: the process ends saying so (no second server shares it)."""


async def create_server(
    app: App, listen: str, tls: ServerTls | None = None
) -> tuple[grpc.aio.Server, int, health.aio.HealthServicer]:
    interceptors: list[grpc.aio.ServerInterceptor] = [ErrorBoundary()]
    if app.metrics is not None:
        from provider.metrics import MetricsInterceptor  # prometheus and aiohttp.web only when served

        # the boundary innermost, so the metrics see the statuses it maps
        interceptors.insert(0, MetricsInterceptor(app.metrics))
    server = grpc.aio.server(
        interceptors=interceptors,
        options=[
            # gRPC binds with SO_REUSEPORT by default: a second provider (or anything gRPC) started on the
            # same port would then share its connections silently instead of failing to start
            ("grpc.so_reuseport", 0),
            ("grpc.max_receive_message_length", 4 * 1024 * 1024),
            ("grpc.keepalive_permit_without_calls", 1),
            ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
        ],
    )
    services = add_typed_services(server, app)
    provider_pb2_grpc.add_ProviderServicer_to_server(ProviderServicer(app), server)  # type: ignore[no-untyped-call]
    services.append(provider_pb2.DESCRIPTOR.services_by_name["Provider"].full_name)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection([*services, health.SERVICE_NAME, reflection.SERVICE_NAME], server)
    try:
        port = server.add_secure_port(listen, tls.credentials()) if tls else server.add_insecure_port(listen)
    except RuntimeError:  # grpc's "Failed to bind to address ...; set GRPC_VERBOSITY=debug ..."
        port = 0
    if port == 0:
        raise CannotListen(f"cannot listen on {listen}: the address is in use (another provider?) or not this host's")
    for name in (OVERALL, *services):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    return server, port, health_servicer


async def serve(settings: settings_module.Settings) -> None:
    app = await App.create(settings)
    try:
        server, port, health_servicer = await create_server(app, settings.listen, settings.tls)
    except CannotListen:
        await app.close()
        raise
    await server.start()
    reporter = asyncio.create_task(
        health_report(
            health_servicer,
            app.client,
            books_enabled=app.books is not None,
            account_live=(lambda: app.account is not None and app.account.state.live) if app.account else None,
        ),
        name="health-report",
    )
    metrics_server = None
    if app.metrics is not None and settings.metrics_listen:
        from provider.metrics import MetricsServer

        metrics_server = MetricsServer(app.metrics)
        await metrics_server.start(settings.metrics_listen)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    log.info("provider_serving", port=port, **settings.describe())
    systemd.notify("READY=1")
    _end_start_up()
    await stop.wait()
    log.info("provider_stopping", grace_s=settings.grace_s)
    systemd.notify("STOPPING=1")
    reporter.cancel()
    await health_servicer.enter_graceful_shutdown()
    # Unary calls get the grace period to finish; long-lived streams (health watches, resource
    # updates) are then cancelled rather than waited for, so a connected gateway does not hold
    # the shutdown for the whole grace period.
    drained = await IN_FLIGHT.wait_idle(settings.grace_s)
    log.info("provider_drained", complete=drained, still_in_flight=IN_FLIGHT.count)
    await server.stop(0.2 if drained else 0)
    if metrics_server is not None:
        await metrics_server.stop()
    await app.close()
    log.info("provider_stopped")


def _end_start_up() -> None:
    """Turns the cyclic collector back on if `python -m provider` started with it off (`__main__`).

    What start-up built is frozen first (`gc.freeze`): it lives as long as the process, so full
    collections need not scan it, and one collection of everything start-up made does not delay the
    first calls. The price, paid once: the cycles start-up dropped (about 1,500 objects) and any
    start-up object that later ends in a cycle are never collected; reference counting frees the rest.
    """
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


def main() -> None:
    try:
        settings = settings_module.load()
    except settings_module.SettingsError as exc:
        logs.configure()
        log.error("invalid_configuration", error=str(exc))
        raise SystemExit(2) from None
    logs.configure(settings.log_level)
    try:
        asyncio.run(serve(settings))
    except CannotListen as exc:
        log.error("cannot_listen", error=str(exc), listen=settings.listen)
        raise SystemExit(1) from None
