-- The booking domain beyond the walking skeleton: what officers, centres, booths and interpreters
-- offer (services, languages, skills, hours, absences, closures, equipment), multi-agency
-- bookings, the booking lifecycle with its history, and reservations that make double booking
-- impossible in the database itself. The SQLite migration of the same name does the same.
--
-- Weekly hours are minutes since local (Swedish) midnight on an ISO weekday (1 = Monday).
-- Languages are BCP 47 tags as written by ISO 639 ("sv", "ar", "swl" = Swedish sign language).

CREATE TABLE service_skills (
    service_id TEXT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    skill      TEXT NOT NULL,
    PRIMARY KEY (service_id, skill)
);

ALTER TABLE officers ADD COLUMN agency_admin INTEGER NOT NULL DEFAULT 0;

CREATE TABLE officer_services (
    officer_id TEXT NOT NULL REFERENCES officers (id) ON DELETE CASCADE,
    service_id TEXT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    PRIMARY KEY (officer_id, service_id)
);
CREATE INDEX officer_services_service ON officer_services (service_id);

CREATE TABLE officer_languages (
    officer_id TEXT NOT NULL REFERENCES officers (id) ON DELETE CASCADE,
    language   TEXT NOT NULL,
    PRIMARY KEY (officer_id, language)
);

CREATE TABLE officer_skills (
    officer_id TEXT NOT NULL REFERENCES officers (id) ON DELETE CASCADE,
    skill      TEXT NOT NULL,
    PRIMARY KEY (officer_id, skill)
);

CREATE TABLE officer_working_hours (
    officer_id    TEXT NOT NULL REFERENCES officers (id) ON DELETE CASCADE,
    weekday       INTEGER NOT NULL CHECK (weekday BETWEEN 1 AND 7),
    starts_minute INTEGER NOT NULL CHECK (starts_minute BETWEEN 0 AND 1439),
    ends_minute   INTEGER NOT NULL CHECK (ends_minute BETWEEN 1 AND 1440),
    PRIMARY KEY (officer_id, weekday, starts_minute),
    CHECK (ends_minute > starts_minute)
);

CREATE TABLE officer_absences (
    officer_id TEXT NOT NULL REFERENCES officers (id) ON DELETE CASCADE,
    starts_at  INTEGER NOT NULL,
    ends_at    INTEGER NOT NULL,
    PRIMARY KEY (officer_id, starts_at),
    CHECK (ends_at > starts_at)
);

ALTER TABLE centres ADD COLUMN address TEXT NOT NULL DEFAULT '';

CREATE TABLE centre_opening_hours (
    centre_id     TEXT NOT NULL REFERENCES centres (id) ON DELETE CASCADE,
    weekday       INTEGER NOT NULL CHECK (weekday BETWEEN 1 AND 7),
    starts_minute INTEGER NOT NULL CHECK (starts_minute BETWEEN 0 AND 1439),
    ends_minute   INTEGER NOT NULL CHECK (ends_minute BETWEEN 1 AND 1440),
    PRIMARY KEY (centre_id, weekday, starts_minute),
    CHECK (ends_minute > starts_minute)
);

CREATE TABLE centre_closures (
    centre_id TEXT NOT NULL REFERENCES centres (id) ON DELETE CASCADE,
    starts_at INTEGER NOT NULL,
    ends_at   INTEGER NOT NULL,
    reason    TEXT NOT NULL,
    PRIMARY KEY (centre_id, starts_at),
    CHECK (ends_at > starts_at)
);

ALTER TABLE booths ADD COLUMN wheelchair_accessible INTEGER NOT NULL DEFAULT 0;
-- The kiosk device's own identity (not a person's); one device per booth.
ALTER TABLE booths ADD COLUMN device_id TEXT;
CREATE UNIQUE INDEX booths_device ON booths (device_id);

CREATE TABLE booth_equipment (
    booth_id TEXT NOT NULL REFERENCES booths (id) ON DELETE CASCADE,
    item     TEXT NOT NULL,
    PRIMARY KEY (booth_id, item)
);

ALTER TABLE guides ADD COLUMN centre_admin INTEGER NOT NULL DEFAULT 0;

-- Agency-independent.
CREATE TABLE interpreters (
    id           TEXT PRIMARY KEY,
    display_name TEXT NOT NULL
);

CREATE TABLE interpreter_languages (
    interpreter_id TEXT NOT NULL REFERENCES interpreters (id) ON DELETE CASCADE,
    language       TEXT NOT NULL,
    PRIMARY KEY (interpreter_id, language)
);
CREATE INDEX interpreter_languages_language ON interpreter_languages (language);

-- The lifecycle: booked -> checked_in -> started -> ended, or cancelled / no_show. An outcome is
-- a code and a category, never free text about the citizen.
-- SQLite cannot change a CHECK constraint in place: the table is rebuilt (nothing references it
-- yet, so dropping the old one is safe with foreign keys on).
CREATE TABLE bookings_v2 (
    id                  TEXT PRIMARY KEY,
    service_id          TEXT NOT NULL REFERENCES services (id),
    officer_id          TEXT NOT NULL REFERENCES officers (id),
    booth_id            TEXT NOT NULL REFERENCES booths (id),
    citizen_id          TEXT NOT NULL REFERENCES citizens (id),
    starts_at           INTEGER NOT NULL,
    duration_minutes    INTEGER NOT NULL CHECK (duration_minutes BETWEEN 1 AND 480),
    ends_at             INTEGER NOT NULL,
    state               TEXT NOT NULL
        CHECK (state IN ('booked', 'checked_in', 'started', 'ended', 'cancelled', 'no_show')),
    created_by_guide_id TEXT REFERENCES guides (id),
    created_at          INTEGER NOT NULL,
    interpreter_id      TEXT REFERENCES interpreters (id),
    language            TEXT,
    outcome             TEXT CHECK (outcome IN ('resolved', 'follow_up', 'referred')),
    outcome_category    TEXT,
    cancel_reason       TEXT,
    CHECK (ends_at = starts_at + duration_minutes * 60)
);
INSERT INTO bookings_v2 (id, service_id, officer_id, booth_id, citizen_id, starts_at, duration_minutes,
                         ends_at, state, created_by_guide_id, created_at)
    SELECT id, service_id, officer_id, booth_id, citizen_id, starts_at, duration_minutes,
           ends_at, state, created_by_guide_id, created_at FROM bookings;
DROP TABLE bookings;
ALTER TABLE bookings_v2 RENAME TO bookings;
CREATE INDEX bookings_officer_time ON bookings (officer_id, starts_at);
CREATE INDEX bookings_booth_time ON bookings (booth_id, starts_at);
CREATE INDEX bookings_citizen_time ON bookings (citizen_id, starts_at);

-- Every officer of a booking (the first is bookings.officer_id, the officer of its service).
CREATE TABLE booking_officers (
    booking_id TEXT NOT NULL REFERENCES bookings (id),
    officer_id TEXT NOT NULL REFERENCES officers (id),
    service_id TEXT NOT NULL REFERENCES services (id),
    PRIMARY KEY (booking_id, officer_id)
);
CREATE INDEX booking_officers_officer ON booking_officers (officer_id);

-- Append-only history of each booking; seq numbers the changes of one booking from 1.
CREATE TABLE booking_events (
    booking_id TEXT NOT NULL REFERENCES bookings (id),
    seq        INTEGER NOT NULL,
    at         INTEGER NOT NULL,
    actor_kind TEXT NOT NULL,
    actor_id   TEXT NOT NULL,
    kind       TEXT NOT NULL,
    detail     TEXT NOT NULL,
    PRIMARY KEY (booking_id, seq)
);

-- What each live booking holds: an officer, a booth or an interpreter for [starts_at, ends_at).
-- Rows go when the booking is cancelled, ends or is a no-show. The triggers are what stop double
-- booking, whatever the application checked before; writers are serialised (BEGIN IMMEDIATE), so
-- no two transactions can each miss the other's row.
CREATE TABLE reservations (
    booking_id  TEXT NOT NULL REFERENCES bookings (id),
    resource_id TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('officer', 'booth', 'interpreter')),
    starts_at   INTEGER NOT NULL,
    ends_at     INTEGER NOT NULL,
    PRIMARY KEY (booking_id, resource_id),
    CHECK (ends_at > starts_at)
);
CREATE INDEX reservations_resource_time ON reservations (resource_id, starts_at);
-- The message starts with the code the store maps to a double booking.
CREATE TRIGGER reservations_no_overlap_insert BEFORE INSERT ON reservations
WHEN EXISTS (SELECT 1 FROM reservations r
             WHERE r.resource_id = NEW.resource_id AND r.booking_id <> NEW.booking_id
               AND r.starts_at < NEW.ends_at AND r.ends_at > NEW.starts_at)
BEGIN
    SELECT RAISE(ABORT, 'reservations_no_overlap');
END;
CREATE TRIGGER reservations_no_overlap_update BEFORE UPDATE OF resource_id, starts_at, ends_at ON reservations
WHEN EXISTS (SELECT 1 FROM reservations r
             WHERE r.resource_id = NEW.resource_id AND r.booking_id <> NEW.booking_id
               AND r.starts_at < NEW.ends_at AND r.ends_at > NEW.starts_at)
BEGIN
    SELECT RAISE(ABORT, 'reservations_no_overlap');
END;

-- Existing data: the one officer of each booking, and what live bookings hold.
INSERT INTO booking_officers (booking_id, officer_id, service_id)
    SELECT id, officer_id, service_id FROM bookings;
INSERT INTO reservations (booking_id, resource_id, kind, starts_at, ends_at)
    SELECT id, officer_id, 'officer', starts_at, ends_at FROM bookings WHERE state IN ('booked', 'started');
INSERT INTO reservations (booking_id, resource_id, kind, starts_at, ends_at)
    SELECT id, booth_id, 'booth', starts_at, ends_at FROM bookings WHERE state IN ('booked', 'started');
-- Existing officers serve every service of their agency and speak Swedish until told otherwise.
INSERT INTO officer_services (officer_id, service_id)
    SELECT o.id, s.id FROM officers o JOIN services s ON s.agency_id = o.agency_id;
INSERT INTO officer_languages (officer_id, language) SELECT id, 'sv' FROM officers;
