"""The ledger's own marshalling: what goes into DynamoDB comes back the same."""

import pytest

from stop_deployment import ledger


def test_items_round_trip_through_dynamodb_types() -> None:
    item = {"deploymentId": "d-AAAAAAAA1", "expiresAt": 1700000000, "autoRollbackEnabled": False,
            "details": {"alarmName": "checkout-5xx"}}  # fmt: skip

    marshalled = ledger._marshal({**item, "reason": None})

    assert marshalled["autoRollbackEnabled"] == {"BOOL": False}
    assert marshalled["expiresAt"] == {"N": "1700000000"}
    assert "reason" not in marshalled  # None is left out, not stored as NULL
    assert ledger._unmarshal(marshalled) == item


def test_values_it_cannot_store_are_refused() -> None:
    with pytest.raises(TypeError, match="float"):
        ledger._marshal({"deploymentId": "d-AAAAAAAA1", "ratio": 0.5})
