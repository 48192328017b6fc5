-- A moved or cancelled booking reads its earlier messages (the addresses and the phone number
-- live only there) and withdraws those not yet delivered.
CREATE INDEX outbox_by_booking ON outbox (booking_id);
