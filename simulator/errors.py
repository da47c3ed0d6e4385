"""Binance error model for the sandbox: `{"code","msg"}` bodies with their HTTP status (spec §5).

ApiError
 ├─ raised by validation, auth and the matching engine with Binance's own code and message
 └─ rendered once, by the REST middleware, as JSON with the right HTTP status
"""

from __future__ import annotations


class ApiError(Exception):
    """A Binance-style rejection: HTTP status plus `code` and `msg`."""

    def __init__(self, code: int, msg: str, status: int = 400, retry_after: int | None = None) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg
        self.status = status
        self.retry_after = retry_after

    def body(self) -> dict[str, int | str]:
        return {"code": self.code, "msg": self.msg}


def invalid_symbol() -> ApiError:
    return ApiError(-1121, "Invalid symbol.")


def mandatory(name: str) -> ApiError:
    return ApiError(
        -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
    )


def mandatory_either(a: str, b: str) -> ApiError:
    return ApiError(-1102, f"Param '{a}' or '{b}' must be sent, but both were empty/null!")


def not_required(name: str) -> ApiError:
    return ApiError(-1106, f"Parameter '{name}' sent when not required.")


def illegal_chars(name: str, legal: str) -> ApiError:
    return ApiError(-1100, f"Illegal characters found in parameter '{name}'; legal range is '{legal}'.")


def bad_precision(name: str) -> ApiError:
    return ApiError(-1111, f"Parameter '{name}' has too much precision.")


def invalid_param(name: str) -> ApiError:
    return ApiError(-1130, f"Data sent for parameter '{name}' is not valid.")


def filter_failure(name: str) -> ApiError:
    return ApiError(-1013, f"Filter failure: {name}")


def order_rejected(msg: str) -> ApiError:
    return ApiError(-2010, msg)


INSUFFICIENT_BALANCE = "Account has insufficient balance for requested action."
DUPLICATE_ORDER = "Duplicate order sent."
WOULD_TAKE = "Order would immediately match and take."
WOULD_TRIGGER = "Order would trigger immediately."
MARKET_CLOSED = "Market is closed."
