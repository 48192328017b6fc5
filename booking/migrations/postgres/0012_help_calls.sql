-- Help calls: the citizen at a booth presses "call the guide" (or has no BankID and asks for the
-- guide's help to identify); the guides of the booth's centre see the open calls until one of
-- them answers. A call names a booth, a reason code and times, never the citizen. The migration
-- of the same name for the other database does the same.
CREATE TABLE help_calls (
    id          TEXT PRIMARY KEY,
    booth_id    TEXT NOT NULL REFERENCES booths (id) ON DELETE CASCADE,
    centre_id   TEXT NOT NULL REFERENCES centres (id) ON DELETE CASCADE,
    reason      TEXT NOT NULL CHECK (reason IN ('identification', 'meeting', 'other')),
    called_at   BIGINT NOT NULL,
    answered_at BIGINT,
    answered_by TEXT REFERENCES guides (id) ON DELETE SET NULL
);
-- The guide console asks for a centre's open calls.
CREATE INDEX help_calls_open ON help_calls (centre_id, answered_at, called_at);
-- At most one open call per booth: a second press while the guide is on the way is the same
-- call, even when two presses race.
CREATE UNIQUE INDEX help_calls_one_open ON help_calls (booth_id) WHERE answered_at IS NULL;
