-- Add-on for small.sql (load it AFTER small.sql, with or without target_ddl.sql): the second form of
-- rule 3 part_key_conflict — a part whose task_key is the task's key but whose key is not 'PT-'||key.
-- The application created 'PT-CUSTOM-100' and linked it to task M-100 through task_key.
-- Expected: machining_task source 132, migrated 126, rejected 6 (key_too_long 2, part_key_conflict 3,
-- operation_key_conflict 1); tasks_timer 276 / 262 / 14 (task_rejected 9, orphan_task 5); cost sets
-- as in small.sql; fixups 5; queued 126.
-- Note: the spec's checks treat every part with a task_key as migrated, so this part trips
-- part_operation_pairs = 1, no_timers_on_migrated_tasks = 2 (M-100's two timers stay on CT_TASK)
-- and recomputed_costs = 1 (not queued, no cost row): the run must end validation_failed (exit 3).
-- The spec's rollback (DELETE FROM tasks_part WHERE task_key IS NOT NULL) would also delete it.
--   mighost sandbox --fixture examples/tasks_to_parts/small.sql --fixture examples/tasks_to_parts/task_key_conflict.sql
BEGIN;
ALTER TABLE tasks_part ADD COLUMN IF NOT EXISTS task_key varchar(255);
INSERT INTO tasks_part (key, name, job_no, quantity, created_by_id, created_at, task_key)
VALUES ('PT-CUSTOM-100', 'Hand-made part linked to M-100', 'J-2025-013', 1, 2, '2025-03-24 10:00:00+03', 'M-100');
COMMIT;
