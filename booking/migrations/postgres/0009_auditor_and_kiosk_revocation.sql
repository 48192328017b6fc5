-- Auditors read the access log of their agency; the log is read by time and by booking.
ALTER TABLE officers ADD COLUMN auditor BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX access_log_at ON access_log (at);
CREATE INDEX access_log_booking ON access_log (booking_id, at);
-- A centre admin can revoke a kiosk's credential (a stolen or replaced device); the row stays,
-- since identifications made at that kiosk refer to it.
ALTER TABLE booth_devices ADD COLUMN revoked_at BIGINT;
