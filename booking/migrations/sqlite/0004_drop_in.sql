-- The drop-in queue: a citizen at a centre without a booking takes a ticket for a service and
-- waits for the next free officer of its agency who handles it. A ticket carries no citizen
-- data: the booth and the guide know it by its number. The SQLite migration of the same name
-- does the same.
CREATE TABLE drop_in_tickets (
    id         TEXT PRIMARY KEY,
    centre_id  TEXT NOT NULL REFERENCES centres (id),
    service_id TEXT NOT NULL REFERENCES services (id),
    -- Per centre, counting up; shown to the citizen.
    number     INTEGER NOT NULL,
    state      TEXT NOT NULL CHECK (state IN ('waiting', 'called', 'served', 'left')),
    joined_at  INTEGER NOT NULL,
    called_at  INTEGER,
    officer_id TEXT REFERENCES officers (id),
    UNIQUE (centre_id, number)
);
CREATE INDEX drop_in_waiting ON drop_in_tickets (centre_id, state, joined_at);
