-- Initial schema. Times are unix seconds; ids are UUIDs as text. The PostgreSQL migration of the
-- same name creates the same tables; keep the two in step.

CREATE TABLE agencies (
    id   TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);

CREATE TABLE services (
    id                       TEXT PRIMARY KEY,
    agency_id                TEXT NOT NULL REFERENCES agencies (id),
    name                     TEXT NOT NULL,
    default_duration_minutes BIGINT NOT NULL CHECK (default_duration_minutes BETWEEN 1 AND 480),
    UNIQUE (agency_id, name)
);

CREATE TABLE officers (
    id           TEXT PRIMARY KEY,
    agency_id    TEXT NOT NULL REFERENCES agencies (id),
    display_name TEXT NOT NULL
);

CREATE TABLE centres (
    id     TEXT PRIMARY KEY,
    kommun TEXT NOT NULL,
    name   TEXT NOT NULL UNIQUE
);

CREATE TABLE booths (
    id        TEXT PRIMARY KEY,
    centre_id TEXT NOT NULL REFERENCES centres (id),
    name      TEXT NOT NULL,
    UNIQUE (centre_id, name)
);

CREATE TABLE guides (
    id           TEXT PRIMARY KEY,
    centre_id    TEXT NOT NULL REFERENCES centres (id),
    display_name TEXT NOT NULL
);

-- personnummer_enc: AES-256-GCM, nonce || ciphertext || tag. personnummer_hash: HMAC-SHA256 under
-- a key derived from the data key, so look-up needs the key too.
CREATE TABLE citizens (
    id                TEXT PRIMARY KEY,
    display_name      TEXT NOT NULL,
    personnummer_enc  BYTEA NOT NULL,
    personnummer_hash BYTEA NOT NULL,
    created_at        BIGINT NOT NULL
);
CREATE UNIQUE INDEX citizens_personnummer_hash ON citizens (personnummer_hash);

-- ends_at is stored so that overlap checks are a plain range comparison on indexed columns.
CREATE TABLE bookings (
    id                  TEXT PRIMARY KEY,
    service_id          TEXT NOT NULL REFERENCES services (id),
    officer_id          TEXT NOT NULL REFERENCES officers (id),
    booth_id            TEXT NOT NULL REFERENCES booths (id),
    citizen_id          TEXT NOT NULL REFERENCES citizens (id),
    starts_at           BIGINT NOT NULL,
    duration_minutes    BIGINT NOT NULL CHECK (duration_minutes BETWEEN 1 AND 480),
    ends_at             BIGINT NOT NULL,
    state               TEXT NOT NULL CHECK (state IN ('booked', 'started', 'ended', 'cancelled')),
    -- Nullable: citizens will book online without a guide.
    created_by_guide_id TEXT REFERENCES guides (id),
    created_at          BIGINT NOT NULL,
    CHECK (ends_at = starts_at + duration_minutes * 60)
);
CREATE INDEX bookings_officer_time ON bookings (officer_id, starts_at);
CREATE INDEX bookings_booth_time ON bookings (booth_id, starts_at);
CREATE INDEX bookings_citizen_time ON bookings (citizen_id, starts_at);

-- id is the SHA-256 of the cookie secret; the secret itself is never stored.
CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    subject_kind TEXT NOT NULL CHECK (subject_kind IN ('citizen', 'officer', 'guide')),
    subject_id   TEXT NOT NULL,
    method       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- Append-only: the store offers no update or delete of these rows. No foreign keys, so that the
-- log outlives the records it speaks of.
CREATE TABLE access_log (
    id         TEXT PRIMARY KEY,
    at         BIGINT NOT NULL,
    actor_kind TEXT NOT NULL,
    actor_id   TEXT NOT NULL,
    action     TEXT NOT NULL,
    citizen_id TEXT,
    booking_id TEXT,
    reason     TEXT NOT NULL
);
CREATE INDEX access_log_citizen ON access_log (citizen_id, at);
