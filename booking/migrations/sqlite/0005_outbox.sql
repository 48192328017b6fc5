-- Where invitations and reminders go: an officer's or interpreter's work address. Optional: a
-- person without one is simply not emailed.
ALTER TABLE officers ADD COLUMN email TEXT;
ALTER TABLE interpreters ADD COLUMN email TEXT;

-- The transactional outbox: a message is written in the same transaction as the booking change
-- that causes it, and a worker delivers it later, so a booking is never saved without its
-- messages nor a message sent for a booking that was rolled back. `recipient` is an email
-- address or a phone number: personal data, never logged.
CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    booking_id TEXT,
    channel TEXT NOT NULL CHECK (channel IN ('email', 'sms')),
    recipient TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered')),
    attempts INTEGER NOT NULL DEFAULT 0,
    -- When the next attempt may start; a worker that claims a message moves it forward (a lease),
    -- so a second worker does not send it too.
    due_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    delivered_at BIGINT,
    last_error TEXT
);
CREATE INDEX outbox_pending_due ON outbox (state, due_at);
