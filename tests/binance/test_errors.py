"""Binance error answers map to the one error tree, with statuses, hints and retry safety."""

import grpc
import pytest

from provider import errors as e


@pytest.mark.parametrize(("status", "code", "msg", "mutating", "cls", "grpc_status"), [
    (400, -1121, "Invalid symbol.", False, e.UnknownSymbol, grpc.StatusCode.INVALID_ARGUMENT),
    (400, -1013, "Filter failure: LOT_SIZE", True, e.FilterViolation,
     grpc.StatusCode.INVALID_ARGUMENT),
    (400, -1100, "Illegal characters found in parameter 'price'", True, e.InvalidArgument,
     grpc.StatusCode.INVALID_ARGUMENT),
    (400, -1102, "Mandatory parameter 'side' was not sent", True, e.InvalidArgument,
     grpc.StatusCode.INVALID_ARGUMENT),
    (400, -2013, "Order does not exist.", False, e.NotFound, grpc.StatusCode.NOT_FOUND),
    (400, -2011, "Unknown order sent.", True, e.NotFound, grpc.StatusCode.NOT_FOUND),
    (400, -2011, "Order was not canceled due to cancel restrictions.", True, e.CancelRejected,
     grpc.StatusCode.FAILED_PRECONDITION),
    (400, -2010, "Account has insufficient balance for requested action.", True,
     e.OrderRejected, grpc.StatusCode.FAILED_PRECONDITION),
    (400, -2010, "Market is closed.", True, e.TradingDisabled,
     grpc.StatusCode.FAILED_PRECONDITION),
    (401, -2014, "API-key format invalid.", False, e.Unauthenticated,
     grpc.StatusCode.UNAUTHENTICATED),
    (401, -2015, "Invalid API-key, IP, or permissions for action.", False, e.PermissionDenied,
     grpc.StatusCode.PERMISSION_DENIED),
    (400, -1022, "Signature for this request is not valid.", False, e.Unauthenticated,
     grpc.StatusCode.UNAUTHENTICATED),
    (400, -1021, "Timestamp for this request is outside of the recvWindow.", True,
     e.TimestampRejected, grpc.StatusCode.UNAVAILABLE),
    (429, -1003, "Too much request weight used", False, e.RateLimited,
     grpc.StatusCode.RESOURCE_EXHAUSTED),
    (429, -1015, "Too many new orders", True, e.OrderRateLimited, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (418, -1003, "Way too much request weight used; IP banned until 1.", False, e.IpBanned,
     grpc.StatusCode.RESOURCE_EXHAUSTED),
    (503, -1008, "Server is currently overloaded", False, e.ExchangeUnavailable,
     grpc.StatusCode.UNAVAILABLE),
    (503, -1008, "Server is currently overloaded", True, e.ExecutionUnknown,
     grpc.StatusCode.UNKNOWN),
    (502, None, None, False, e.ExchangeUnavailable, grpc.StatusCode.UNAVAILABLE),
    (502, None, None, True, e.ExecutionUnknown, grpc.StatusCode.UNKNOWN),
    (400, -1007, "Timeout waiting for response from backend server.", True, e.ExecutionUnknown,
     grpc.StatusCode.UNKNOWN),
    (400, -1007, "Timeout waiting for response from backend server.", False,
     e.ExchangeUnavailable, grpc.StatusCode.UNAVAILABLE),
    (403, None, None, False, e.WafBlocked, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (403, -2015, "Invalid API-key, IP, or permissions for action.", False, e.PermissionDenied,
     grpc.StatusCode.PERMISSION_DENIED),
    (451, 0, "Service unavailable from a restricted location", True, e.RestrictedLocation,
     grpc.StatusCode.FAILED_PRECONDITION),
    (404, None, None, False, e.UnexpectedResponse, grpc.StatusCode.INTERNAL),
])
def test_binance_answers_map_to_classes_and_statuses(
        status: int, code: int | None, msg: str | None, mutating: bool,
        cls: type[e.ProviderError], grpc_status: grpc.StatusCode) -> None:
    err = e.from_binance(status, code, msg, mutating=mutating)
    assert type(err) is cls
    assert grpc.StatusCode[err.status] == grpc_status
    assert err.binance_code == code and err.binance_msg == msg


def test_execution_unknown_is_never_retry_safe_and_names_the_order() -> None:
    err = e.ExecutionUnknown("x", symbol="BTCUSDT", client_order_id="abc")
    details = err.to_details()
    assert details["retry_safe"] is False
    assert details["client_order_id"] == "abc"
    assert {"kind", "binance_code", "binance_msg", "hint", "retry_safe"} <= details.keys()


def test_details_keep_binance_code_and_message_and_add_a_hint() -> None:
    err = e.from_binance(400, -1013, "Filter failure: PRICE_FILTER", mutating=True)
    details = err.to_details()
    assert details["kind"] == "FilterViolation"
    assert details["binance_code"] == -1013
    assert details["binance_msg"] == "Filter failure: PRICE_FILTER"
    assert "tickSize" in details["hint"]


def test_rate_limited_carries_retry_after_and_ban_end() -> None:
    err = e.from_binance(418, -1003, "banned", mutating=False, retry_after_s=120, now_s=1000)
    assert isinstance(err, e.IpBanned)
    assert err.retry_after_s == 120 and err.banned_until_s == 1120
    over = e.from_binance(418, -1003, "banned", mutating=False, retry_after_s=0, now_s=1000)
    assert isinstance(over, e.IpBanned) and over.banned_until_s == 1000  # a ban already over, not 2 more minutes
    assert err.to_details()["retry_after_s"] == 120


def test_insufficient_balance_gets_a_specific_hint() -> None:
    err = e.from_binance(400, -2010, "Account has insufficient balance for requested action.",
                         mutating=True)
    assert "balance" in err.hint.lower()


def test_caller_and_exchange_faults_are_separate_branches() -> None:
    assert issubclass(e.FilterViolation, e.CallerError)
    assert issubclass(e.RateLimited, e.ExchangeError)
    assert not issubclass(e.ExecutionUnknown, e.CallerError)
