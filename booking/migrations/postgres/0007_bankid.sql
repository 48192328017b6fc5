-- BankID orders in progress, so that any control-plane instance can collect them. The browser that
-- started an order holds a random secret in a cookie; binding_hash is its SHA-256, so only that
-- browser can show the order's QR code or collect it. qr_start_secret_enc: AES-256-GCM under the
-- data key (it lets anyone make valid QR codes while the order lives). Rows go when the order
-- completes, fails or is cancelled. The PostgreSQL migration of the same name does the same.
CREATE TABLE bankid_orders (
    order_ref            TEXT PRIMARY KEY,
    binding_hash         TEXT NOT NULL,
    qr_start_token       TEXT NOT NULL,
    qr_start_secret_enc  BYTEA NOT NULL,
    started_at           BIGINT NOT NULL,
    booking_id           TEXT REFERENCES bookings (id),
    required_citizen_id  TEXT REFERENCES citizens (id)
);
CREATE INDEX bankid_orders_started ON bankid_orders (started_at);

-- Evidence of each completed e-ID identification, kept as the specification asks: the signature
-- (it names the person, so encrypted under the data key) and the OCSP response.
CREATE TABLE identifications (
    id             TEXT PRIMARY KEY,
    at             BIGINT NOT NULL,
    method         TEXT NOT NULL,
    citizen_id     TEXT NOT NULL REFERENCES citizens (id),
    booking_id     TEXT REFERENCES bookings (id),
    order_ref      TEXT NOT NULL,
    signature_enc  BYTEA NOT NULL,
    ocsp_response  TEXT NOT NULL
);
CREATE INDEX identifications_citizen ON identifications (citizen_id, at);
