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
    from provider.server import main as serve

    serve()


if __name__ == "__main__":
    main()
