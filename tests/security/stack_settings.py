"""The settings of the security tests' shared stack (``security_stack``, conftest.py): those the
forgery tests need (test_x_webhook_forgery.py), harmless to the others: a short age window, far
longer than a DM takes to reach the server, and a small CRC bucket (only the forgery tests call
the CRC route)."""

MAX_AGE_SECONDS = 12.0
CRC_BURST = 4
CRC_PER_SECOND = 2.0
X_EXTRA = {"max_event_age_seconds": MAX_AGE_SECONDS, "crc_burst": CRC_BURST,
           "crc_per_second": CRC_PER_SECOND}
