-- Add-on for small.sql (load it AFTER small.sql): one timer is still running (finish_time NULL).
-- It is on a NATIVE operation (CT_OP), not on a task: the precondition no_active_timers counts all
-- timers, so the script must refuse (status refused, exit 2) and change nothing but one
-- mig_meta.runs row. Delete the row (comment 'still running') to make the database migratable again.
--   mighost sandbox --fixture examples/tasks_to_parts/small.sql --fixture examples/tasks_to_parts/running_timer.sql
INSERT INTO tasks_timer (user_id, start_time, finish_time, comment, machine_fk_id, manual_entry, stopped_by_id,
                         content_type_id, object_id)
SELECT 3, 1742889600000, NULL, 'still running', 1, false, NULL, ct.id, 'OP-N-001-1'
FROM django_content_type ct WHERE ct.app_label = 'tasks' AND ct.model = 'operation';
