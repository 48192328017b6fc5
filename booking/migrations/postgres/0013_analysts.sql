-- Analysts read follow-up figures and nothing else: an agency's analyst is an officer record
-- flagged as one (their agency's figures at every centre), a kommun's or centre's analyst a guide
-- record flagged as one (everything held at their centre).
ALTER TABLE officers ADD COLUMN analyst BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE guides ADD COLUMN analyst BOOLEAN NOT NULL DEFAULT FALSE;
