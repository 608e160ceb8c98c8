-- The floor of tests/bench/tasks_to_parts_bench.sh: the writes every implementation of
-- tasks_to_parts must make (spec §3.1-3.3: parts, operations, queue, timers re-pointed, cost rows
-- copied), each as ONE set-based statement, the writes in ONE transaction, with no backup, no
-- rejects or fixups recorded, no checks. No migration that keeps the spec can beat it on the same
-- server, so python / floor is the largest speed-up any script can show against the row-by-row
-- anchor.
SET jit = off;
-- §2, as Django's migration creates it (its own transaction; DDL on empty tables costs ~nothing)
\ir ../../../examples/tasks_to_parts/target_ddl.sql
BEGIN;
-- §3.1 rules 2-4: the tasks that migrate
CREATE TEMP TABLE good AS SELECT t.key FROM machining_task t
 WHERE char_length('PT-' || t.key) <= 255
   AND NOT EXISTS (SELECT 1 FROM tasks_part p WHERE p.key = 'PT-' || t.key)
   AND NOT EXISTS (SELECT 1 FROM tasks_operation o WHERE o.key = t.key);
INSERT INTO tasks_part (key, task_key, name, job_no, image_no, position_no, quantity, description,
                        completion_date, completed_by_id, created_by_id, created_at)
SELECT 'PT-' || t.key, t.key, t.name, t.job_no, t.image_no, t.position_no, t.quantity, t.description,
       t.completion_date, cu.id, cr.id, t.created_at
  FROM machining_task t JOIN good g ON g.key = t.key
  LEFT JOIN auth_user cu ON cu.id = t.completed_by_id LEFT JOIN auth_user cr ON cr.id = t.created_by_id;
INSERT INTO tasks_operation (key, part_id, name, "order", machine_fk_id, estimated_hours, in_plan, plan_order,
                             planned_start_ms, planned_end_ms, completion_date, completed_by_id, created_by_id, created_at)
SELECT t.key, 'PT-' || t.key, t.name, 1, t.machine_fk_id, t.estimated_hours, t.in_plan, t.plan_order,
       t.planned_start_ms, t.planned_end_ms, t.completion_date, cu.id, cr.id, t.created_at
  FROM machining_task t JOIN good g ON g.key = t.key
  LEFT JOIN auth_user cu ON cu.id = t.completed_by_id LEFT JOIN auth_user cr ON cr.id = t.created_by_id;
INSERT INTO tasks_partcostrecalcqueue (part_id) SELECT 'PT-' || key FROM good;
UPDATE tasks_timer t
   SET content_type_id = (SELECT id FROM django_content_type WHERE app_label = 'tasks' AND model = 'operation')
  FROM good g
 WHERE t.object_id = g.key
   AND t.content_type_id = (SELECT id FROM django_content_type WHERE app_label = 'machining' AND model = 'task');
INSERT INTO tasks_partcostagg (part_id, job_no, currency, hours_ww, hours_ah, hours_su, cost_ww, cost_ah, cost_su,
                               total_cost, updated_at)
SELECT 'PT-' || j.task_id, j.job_no, j.currency, j.hours_ww, j.hours_ah, j.hours_su, j.cost_ww, j.cost_ah, j.cost_su,
       j.total_cost, j.updated_at
  FROM machining_jobcostagg j JOIN good g ON g.key = j.task_id;
INSERT INTO tasks_partcostagguser (part_id, user_id, currency, hours_ww, hours_ah, hours_su, cost_ww, cost_ah, cost_su,
                                   total_cost, updated_at)
SELECT 'PT-' || j.task_id, j.user_id, j.currency, j.hours_ww, j.hours_ah, j.hours_su, j.cost_ww, j.cost_ah, j.cost_su,
       j.total_cost, j.updated_at
  FROM machining_jobcostagguser j JOIN good g ON g.key = j.task_id JOIN auth_user u ON u.id = j.user_id;
COMMIT;
