-- The booking domain beyond the walking skeleton: what officers, centres, booths and interpreters
-- offer (services, languages, skills, hours, absences, closures, equipment), multi-agency
-- bookings, the booking lifecycle with its history, and reservations that make double booking
-- impossible in the database itself. The SQLite migration of the same name does the same.
--
-- Weekly hours are minutes since local (Swedish) midnight on an ISO weekday (1 = Monday).
-- Languages are BCP 47 tags as written by ISO 639 ("sv", "ar", "swl" = Swedish sign language).

-- btree_gist lets one GiST exclusion constraint compare text ids with = beside time ranges with &&.
-- It is a trusted extension: a database owner may create it without being a superuser.
CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA public;

CREATE TABLE service_skills (
    service_id TEXT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    skill      TEXT NOT NULL,
    PRIMARY KEY (service_id, skill)
);

ALTER TABLE officers ADD COLUMN agency_admin BOOLEAN NOT NULL DEFAULT FALSE;

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
    weekday       BIGINT NOT NULL CHECK (weekday BETWEEN 1 AND 7),
    starts_minute BIGINT NOT NULL CHECK (starts_minute BETWEEN 0 AND 1439),
    ends_minute   BIGINT NOT NULL CHECK (ends_minute BETWEEN 1 AND 1440),
    PRIMARY KEY (officer_id, weekday, starts_minute),
    CHECK (ends_minute > starts_minute)
);

CREATE TABLE officer_absences (
    officer_id TEXT NOT NULL REFERENCES officers (id) ON DELETE CASCADE,
    starts_at  BIGINT NOT NULL,
    ends_at    BIGINT NOT NULL,
    PRIMARY KEY (officer_id, starts_at),
    CHECK (ends_at > starts_at)
);

ALTER TABLE centres ADD COLUMN address TEXT NOT NULL DEFAULT '';

CREATE TABLE centre_opening_hours (
    centre_id     TEXT NOT NULL REFERENCES centres (id) ON DELETE CASCADE,
    weekday       BIGINT NOT NULL CHECK (weekday BETWEEN 1 AND 7),
    starts_minute BIGINT NOT NULL CHECK (starts_minute BETWEEN 0 AND 1439),
    ends_minute   BIGINT NOT NULL CHECK (ends_minute BETWEEN 1 AND 1440),
    PRIMARY KEY (centre_id, weekday, starts_minute),
    CHECK (ends_minute > starts_minute)
);

CREATE TABLE centre_closures (
    centre_id TEXT NOT NULL REFERENCES centres (id) ON DELETE CASCADE,
    starts_at BIGINT NOT NULL,
    ends_at   BIGINT NOT NULL,
    reason    TEXT NOT NULL,
    PRIMARY KEY (centre_id, starts_at),
    CHECK (ends_at > starts_at)
);

ALTER TABLE booths ADD COLUMN wheelchair_accessible BOOLEAN NOT NULL DEFAULT FALSE;
-- The kiosk device's own identity (not a person's); one device per booth.
ALTER TABLE booths ADD COLUMN device_id TEXT;
CREATE UNIQUE INDEX booths_device ON booths (device_id);

CREATE TABLE booth_equipment (
    booth_id TEXT NOT NULL REFERENCES booths (id) ON DELETE CASCADE,
    item     TEXT NOT NULL,
    PRIMARY KEY (booth_id, item)
);

ALTER TABLE guides ADD COLUMN centre_admin BOOLEAN NOT NULL DEFAULT FALSE;

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
ALTER TABLE bookings DROP CONSTRAINT bookings_state_check;
ALTER TABLE bookings ADD CONSTRAINT bookings_state_check
    CHECK (state IN ('booked', 'checked_in', 'started', 'ended', 'cancelled', 'no_show'));
ALTER TABLE bookings ADD COLUMN interpreter_id TEXT REFERENCES interpreters (id);
ALTER TABLE bookings ADD COLUMN language TEXT;
ALTER TABLE bookings ADD COLUMN outcome TEXT CHECK (outcome IN ('resolved', 'follow_up', 'referred'));
ALTER TABLE bookings ADD COLUMN outcome_category TEXT;
ALTER TABLE bookings ADD COLUMN cancel_reason TEXT;

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
    seq        BIGINT NOT NULL,
    at         BIGINT NOT NULL,
    actor_kind TEXT NOT NULL,
    actor_id   TEXT NOT NULL,
    kind       TEXT NOT NULL,
    detail     TEXT NOT NULL,
    PRIMARY KEY (booking_id, seq)
);

-- What each live booking holds: an officer, a booth or an interpreter for [starts_at, ends_at).
-- Rows go when the booking is cancelled, ends or is a no-show. The exclusion constraint is what
-- stops double booking, whatever the application checked before.
CREATE TABLE reservations (
    booking_id  TEXT NOT NULL REFERENCES bookings (id),
    resource_id TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('officer', 'booth', 'interpreter')),
    starts_at   BIGINT NOT NULL,
    ends_at     BIGINT NOT NULL,
    PRIMARY KEY (booking_id, resource_id),
    CHECK (ends_at > starts_at),
    CONSTRAINT reservations_no_overlap
        EXCLUDE USING gist (resource_id WITH =, int8range(starts_at, ends_at) WITH &&)
);
CREATE INDEX reservations_resource_time ON reservations (resource_id, starts_at);

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
