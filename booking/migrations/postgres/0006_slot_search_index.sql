-- Slot search tries officers in order of name and stops after the first few who handle the
-- service (booking/src/store/sql.rs, slot_officers_sql): with this index the database walks the
-- officers in that order instead of reading and sorting every officer of the service. The
-- SQLite migration of the same name does the same.
CREATE INDEX officers_name ON officers (display_name, id);
