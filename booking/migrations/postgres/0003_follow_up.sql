-- Follow-up data: the citizen's survey answers after a meeting, feedback (complaints and other
-- synpunkter) as codes, and the media side's quality summary of each meeting. No free text about
-- the citizen is stored anywhere here. The SQLite migration of the same name does the same.

CREATE TABLE survey_answers (
    booking_id   TEXT PRIMARY KEY REFERENCES bookings (id),
    satisfaction BIGINT NOT NULL CHECK (satisfaction BETWEEN 1 AND 5),
    got_help     BOOLEAN NOT NULL,
    answered_at  BIGINT NOT NULL
);

CREATE TABLE feedback (
    id         TEXT PRIMARY KEY,
    centre_id  TEXT NOT NULL REFERENCES centres (id),
    agency_id  TEXT REFERENCES agencies (id),
    booking_id TEXT REFERENCES bookings (id),
    kind       TEXT NOT NULL CHECK (kind IN ('complaint', 'suggestion', 'praise')),
    category   TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX feedback_centre_time ON feedback (centre_id, created_at);

CREATE TABLE call_quality (
    booking_id     TEXT PRIMARY KEY REFERENCES bookings (id),
    mean_rtt_ms    BIGINT NOT NULL CHECK (mean_rtt_ms >= 0),
    loss_per_mille BIGINT NOT NULL CHECK (loss_per_mille BETWEEN 0 AND 1000),
    poor_seconds   BIGINT NOT NULL CHECK (poor_seconds >= 0),
    reported_at    BIGINT NOT NULL
);
