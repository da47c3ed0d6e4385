"""Resources and prompts: markdown documents built on the typed tool handlers (`provider/services/`),
so each piece of Binance JSON is mapped once, by the tool that returns it."""
