-- The PostgreSQL migration of the same name rebuilds its no-double-booking exclusion constraint
-- on uuid; SQLite has no such constraint (its writes are serialised and checked in the
-- transaction, booking/src/store/sql.rs), so there is nothing to change here. The file keeps
-- both databases' migration numbers in step.
SELECT 1;
