-- Identification: booth kiosks as devices, how a booking's citizen was identified, BankID orders
-- in progress and the evidence of completed ones. The PostgreSQL migration of the same name does
-- the same.

-- A one-time code a centre admin makes to enrol a booth's kiosk. Only its SHA-256 is kept.
CREATE TABLE booth_enrolment_codes (
    code_hash           TEXT PRIMARY KEY,
    booth_id            TEXT NOT NULL REFERENCES booths (id),
    created_by_guide_id TEXT NOT NULL REFERENCES guides (id),
    expires_at          INTEGER NOT NULL
);

-- An enrolled kiosk: its cookie holds a random secret, this row its SHA-256.
CREATE TABLE booth_devices (
    id                   TEXT PRIMARY KEY,
    booth_id             TEXT NOT NULL REFERENCES booths (id),
    secret_hash          TEXT NOT NULL UNIQUE,
    enrolled_at          INTEGER NOT NULL,
    enrolled_by_guide_id TEXT REFERENCES guides (id)
);

-- How the booking's citizen was identified for the meeting (the latest identification). A guide's
-- check of an ID document names the guide, the document's type and the last four characters of
-- its number, nothing more.
CREATE TABLE booking_identifications (
    booking_id     TEXT PRIMARY KEY REFERENCES bookings (id),
    method         TEXT NOT NULL CHECK (method IN ('bank_id', 'freja_eid', 'assisted_by_guide', 'dev_eid')),
    at             INTEGER NOT NULL,
    guide_id       TEXT REFERENCES guides (id),
    document_type  TEXT,
    document_last4 TEXT,
    CHECK ((method = 'assisted_by_guide') = (guide_id IS NOT NULL AND document_type IS NOT NULL AND document_last4 IS NOT NULL))
);

-- BankID orders in progress, so that any control-plane instance can collect them. The browser that
-- started an order holds a random secret in a cookie; binding_hash is its SHA-256, so only that
-- browser can show the order's QR code or collect it. qr_start_secret_enc: AES-256-GCM under the
-- data key (it lets anyone make valid QR codes while the order lives). booth_device_id: started on
-- an enrolled kiosk, so completion identifies the citizen for the booking instead of signing the
-- kiosk in. Rows go when the order completes, fails or is cancelled.
CREATE TABLE bankid_orders (
    order_ref            TEXT PRIMARY KEY,
    binding_hash         TEXT NOT NULL,
    qr_start_token       TEXT NOT NULL,
    qr_start_secret_enc  BLOB NOT NULL,
    started_at           INTEGER NOT NULL,
    booking_id           TEXT REFERENCES bookings (id),
    required_citizen_id  TEXT REFERENCES citizens (id),
    booth_device_id      TEXT REFERENCES booth_devices (id)
);
CREATE INDEX bankid_orders_started ON bankid_orders (started_at);

-- Evidence of each completed e-ID identification, kept as the specification asks: the signature
-- (it names the person, so encrypted under the data key) and the OCSP response.
CREATE TABLE identifications (
    id             TEXT PRIMARY KEY,
    at             INTEGER NOT NULL,
    method         TEXT NOT NULL,
    citizen_id     TEXT NOT NULL REFERENCES citizens (id),
    booking_id     TEXT REFERENCES bookings (id),
    order_ref      TEXT NOT NULL,
    signature_enc  BLOB NOT NULL,
    ocsp_response  TEXT NOT NULL
);
CREATE INDEX identifications_citizen ON identifications (citizen_id, at);
