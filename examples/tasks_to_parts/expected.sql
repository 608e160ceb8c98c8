-- Expected outcome of scripts/tasks_to_parts.lua, computed straight from its mapping rules
-- (docs/tasks_to_parts.md). Creates only TEMPORARY views; changes nothing. Run it on the
-- freshly loaded legacy database; it also gives the same answer after a run (rule 1 "already migrated"
-- is implemented, and the timer snapshot mig_backup_tasks_to_parts.tasks_timer is used when it exists).
--   psql -X -v ON_ERROR_STOP=1 -d DB -f examples/tasks_to_parts/expected.sql
-- Query 1: counts per source set; 2: expected rejects; 3: expected fixups; 4: expected recompute queue.
-- Reject precedence for per-user cost rows (the spec does not order the rules): no such task ->
-- orphan_task; task rejected -> task_rejected; else user missing -> orphan_user. Column
-- ambiguous_cost_user_rows counts rows where that order matters (0 in small.sql and generate.sql).

\set QUIET on
SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema()
                 AND table_name = 'tasks_part' AND column_name = 'task_key') AS has_task_key,
       to_regclass('mig_backup_tasks_to_parts.tasks_timer') IS NOT NULL AS has_backup \gset
\if :has_task_key
  \set TK p.task_key
\else
  \set TK NULL::varchar
\endif
\if :has_backup
  \set TIMERS mig_backup_tasks_to_parts.tasks_timer
\else
  \set TIMERS tasks_timer
\endif

CREATE TEMP VIEW exp_ct AS
SELECT (SELECT id FROM django_content_type WHERE app_label = 'machining' AND model = 'task') AS ct_task,
       (SELECT id FROM django_content_type WHERE app_label = 'tasks' AND model = 'operation') AS ct_op;

-- one row per task: reason NULL = migrated (rules 1-5 of §3.1, first match wins)
CREATE TEMP VIEW exp_task AS
SELECT t.key, t.created_by_id, t.completed_by_id,
       CASE WHEN EXISTS (SELECT 1 FROM tasks_part p JOIN tasks_operation o ON o.part_id = p.key AND o.key = t.key
                         WHERE p.key = 'PT-' || t.key AND :TK = t.key) THEN NULL
            WHEN char_length('PT-' || t.key) > 255 THEN 'key_too_long'
            WHEN EXISTS (SELECT 1 FROM tasks_part p WHERE p.key = 'PT-' || t.key)
              OR EXISTS (SELECT 1 FROM tasks_part p WHERE :TK = t.key AND p.key <> 'PT-' || t.key) THEN 'part_key_conflict'
            WHEN EXISTS (SELECT 1 FROM tasks_operation o WHERE o.key = t.key) THEN 'operation_key_conflict'
       END AS reason
FROM machining_task t;

CREATE TEMP VIEW exp_timer AS
SELECT b.id, CASE WHEN t.key IS NULL THEN 'orphan_task' WHEN t.reason IS NOT NULL THEN 'task_rejected' END AS reason
FROM :TIMERS b CROSS JOIN exp_ct c LEFT JOIN exp_task t ON t.key = b.object_id
WHERE b.content_type_id = c.ct_task;

CREATE TEMP VIEW exp_cost AS
SELECT j.task_id, CASE WHEN t.key IS NULL THEN 'orphan_task' WHEN t.reason IS NOT NULL THEN 'task_rejected' END AS reason
FROM machining_jobcostagg j LEFT JOIN exp_task t ON t.key = j.task_id;

CREATE TEMP VIEW exp_cost_user AS
SELECT j.id, CASE WHEN t.key IS NULL THEN 'orphan_task' WHEN t.reason IS NOT NULL THEN 'task_rejected'
                  WHEN u.id IS NULL THEN 'orphan_user' END AS reason,
       (t.key IS NULL OR t.reason IS NOT NULL) AND u.id IS NULL AS ambiguous
FROM machining_jobcostagguser j LEFT JOIN exp_task t ON t.key = j.task_id LEFT JOIN auth_user u ON u.id = j.user_id;

CREATE TEMP VIEW exp_fixup AS
SELECT t.key, f.field, f.old_value
FROM exp_task t
CROSS JOIN LATERAL (VALUES ('created_by_id', t.created_by_id), ('completed_by_id', t.completed_by_id)) AS f(field, old_value)
WHERE t.reason IS NULL AND f.old_value IS NOT NULL AND NOT EXISTS (SELECT 1 FROM auth_user u WHERE u.id = f.old_value);

\set QUIET off

-- 1. counts per source set (columns that do not apply to a set are 0)
SELECT 'machining_task' AS source_set, count(*) AS source,
       count(*) FILTER (WHERE reason IS NULL) AS expected_migrated, count(reason) AS expected_rejected,
       count(*) FILTER (WHERE reason = 'key_too_long') AS key_too_long,
       count(*) FILTER (WHERE reason = 'part_key_conflict') AS part_key_conflict,
       count(*) FILTER (WHERE reason = 'operation_key_conflict') AS operation_key_conflict,
       0 AS task_rejected, 0 AS orphan_task, 0 AS orphan_user,
       (SELECT count(*) FROM exp_fixup) AS fixup_orphan_user_nulled, 0 AS ambiguous_cost_user_rows
FROM exp_task
UNION ALL
SELECT 'tasks_timer', count(*), count(*) FILTER (WHERE reason IS NULL), count(reason), 0, 0, 0,
       count(*) FILTER (WHERE reason = 'task_rejected'), count(*) FILTER (WHERE reason = 'orphan_task'), 0, 0, 0
FROM exp_timer
UNION ALL
SELECT 'machining_jobcostagg', count(*), count(*) FILTER (WHERE reason IS NULL), count(reason), 0, 0, 0,
       count(*) FILTER (WHERE reason = 'task_rejected'), count(*) FILTER (WHERE reason = 'orphan_task'), 0, 0, 0
FROM exp_cost
UNION ALL
SELECT 'machining_jobcostagguser', count(*), count(*) FILTER (WHERE reason IS NULL), count(reason), 0, 0, 0,
       count(*) FILTER (WHERE reason = 'task_rejected'), count(*) FILTER (WHERE reason = 'orphan_task'),
       count(*) FILTER (WHERE reason = 'orphan_user'), 0, count(*) FILTER (WHERE ambiguous)
FROM exp_cost_user;

-- 2. expected rejects
SELECT * FROM (
  SELECT 'machining_task' AS source_table, key AS source_key, reason FROM exp_task WHERE reason IS NOT NULL
  UNION ALL SELECT 'tasks_timer', id::text, reason FROM exp_timer WHERE reason IS NOT NULL
  UNION ALL SELECT 'machining_jobcostagg', task_id, reason FROM exp_cost WHERE reason IS NOT NULL
  UNION ALL SELECT 'machining_jobcostagguser', id::text, reason FROM exp_cost_user WHERE reason IS NOT NULL) r
ORDER BY source_table, source_key COLLATE "C";

-- 3. expected fixups (rule orphan_user_nulled, source_table machining_task)
SELECT 'machining_task' AS source_table, key AS source_key, field, 'orphan_user_nulled' AS rule, old_value::text
FROM exp_fixup ORDER BY key COLLATE "C", field;

-- 4. expected recompute queue after the migration phases of a first run: one part per task migrated
--    by that run (tasks found "already migrated" are not re-queued)
SELECT count(*) AS expected_queued_parts FROM exp_task t
WHERE t.reason IS NULL
  AND NOT EXISTS (SELECT 1 FROM tasks_part p WHERE p.key = 'PT-' || t.key AND :TK = t.key);
