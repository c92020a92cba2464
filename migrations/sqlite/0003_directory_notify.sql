-- Kept in step with ../postgres/0003_directory_notify.sql, which announces
-- directory versions to the other nodes. SQLite serves one node: nothing to
-- announce, nothing to change.
SELECT 1;
