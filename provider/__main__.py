"""`python -m provider` / `binance-provider`: run the gRPC provider (configuration from the environment)."""

from provider.server import main

if __name__ == "__main__":
    main()
