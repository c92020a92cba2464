-- How each call ended, in words the statistics count (runtime::records):
-- outcome: speech, keypad, spelled, menu, operator, after_hours, gave_up,
--          closed, hung_up, not_answered, other;
-- recognition: at_once, confirmed, menu, not_understood (NULL: no speech attempt);
-- entry_name: the directory entry the call was put through to (its name then).
-- Calls recorded before this migration keep NULLs and count as "other".
-- Numbered 0004 so that a 0003 from another branch can land beside it.
ALTER TABLE calls ADD COLUMN outcome TEXT;
ALTER TABLE calls ADD COLUMN recognition TEXT;
ALTER TABLE calls ADD COLUMN entry_name TEXT;
