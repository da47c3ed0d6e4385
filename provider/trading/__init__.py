"""Order placement: plans, the placement state machine and per-id ledger; pure cores except `ledger`."""
