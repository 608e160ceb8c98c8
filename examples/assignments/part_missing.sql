-- Add-on for small.sql (load it AFTER small.sql): state after an interrupted earlier run. The
-- backup/snapshot S = mig_backup_assignments.parts was taken (as the script does it), then the
-- application deleted two parts and created a new assigned one:
--   part 2   (assigned to existing user 5)   -> reject part_missing
--   part 111 (assigned to deleted user 10)   -> reject part_missing (rule 1 is checked before rule 2)
--   part 201 (new, assigned to user 3)       -> not in S, so not a source row (the spec makes S the
--                                               only source; its assignment is dropped with the column)
-- Expected: source 71, migrated 64, rejected 7 (part_missing 2, orphan_user 5).
-- By the spec's own check, parts_preserved = 2 (S rows missing from parts): the run must end
-- validation_failed (exit 3), with the column drop rolled back.
--   mighost sandbox --fixture examples/assignments/small.sql --fixture examples/assignments/part_missing.sql
BEGIN;
CREATE SCHEMA mig_backup_assignments;
CREATE TABLE mig_backup_assignments.parts AS TABLE parts;
ALTER TABLE mig_backup_assignments.parts ADD PRIMARY KEY (id);
DELETE FROM parts WHERE id IN (2, 111);   -- their time_logs go with them (ON DELETE CASCADE)
INSERT INTO parts (id, name, job_number, status, assigned_to, assigned_at, created_at)
VALUES (201, 'Created after the snapshot', 'J-E-201', 'pending', 3, '2025-06-01 09:00:00', '2025-06-01 08:00:00');
COMMIT;
