"""`python -m provider` / `binance-provider`: run the gRPC provider (configuration from the environment).

`binance-provider doctor [--symbol S] [--timeout S]` checks the configuration, the exchange, the clock and
the key instead, prints one line per check and exits 0 (nothing failed) or 1.
"""

import gc
import sys

USAGE = "usage: binance-provider [serve | doctor [--symbol S] [--timeout S]]  (configuration: environment variables)"


def main() -> None:
    args = sys.argv[1:]
    if args and args[0] == "doctor":
        from provider import doctor

        raise SystemExit(doctor.main(args[1:]))
    if args and args[0] in ("-h", "--help"):
        print(USAGE)
        return
    if args and args[0] != "serve":
        sys.stderr.write(USAGE + "\n")
        raise SystemExit(2)
    # Start-up only builds what lives as long as the process (modules, classes, the catalog): the cyclic
    # collector would scan it again and again while it grows (~10% of start-up CPU) and free almost
    # nothing. `provider.server.serve` freezes it and turns the collector back on once SERVING.
    gc.disable()
    _import_aiohttp_with_one_ca_bundle()
    from provider.server import main as serve

    serve()


def _import_aiohttp_with_one_ca_bundle() -> None:
    """Imports aiohttp without loading the system CA bundle into its non-verifying SSL context.

    At import, aiohttp.connector builds two client contexts: the verifying one every https request uses
    and one for `ssl=False`. Both load the CA bundle (~30 ms of CPU each, up to 100 ms on a busy machine:
    the largest single cost of the provider's start). The second verifies nothing (CERT_NONE), so it never
    reads that store: it is built without it, and the verifying context exactly as before. Imported before
    anything else needs aiohttp, while this process has no other thread; the patch is gone on return.
    """
    import ssl

    load = ssl.SSLContext.set_default_verify_paths
    own = "set_default_verify_paths" in vars(ssl.SSLContext)

    def set_default_verify_paths(context: ssl.SSLContext) -> None:
        if context.verify_mode != ssl.CERT_NONE:
            load(context)

    setattr(ssl.SSLContext, "set_default_verify_paths", set_default_verify_paths)  # noqa: B010
    try:
        import aiohttp.connector  # noqa: F401
    finally:
        if own:
            setattr(ssl.SSLContext, "set_default_verify_paths", load)  # noqa: B010
        else:
            delattr(ssl.SSLContext, "set_default_verify_paths")


if __name__ == "__main__":
    main()
