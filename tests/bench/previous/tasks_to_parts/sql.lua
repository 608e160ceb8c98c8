-- scripts/tasks_to_parts/sql.lua: the SQL of scripts/tasks_to_parts.lua — target DDL (spec §2),
-- the normative cost model (§3.4) and the validation checks (§5), kept verbatim so they can be
-- compared with the spec line by line — except timers_untouched, recomputed_costs and
-- recomputed_user_costs, rewritten into equivalent but cheaper forms (comments at each).
local S = {}

S.BACKUP = "mig_backup_tasks_to_parts.tasks_timer"
S.BACKUP_TASK_INDEX = "mig_backup_tasks_to_parts.tasks_timer_task_idx"   -- (content_type_id, object_id, id)

S.TABLES = {"django_content_type", "auth_user", "machines_machine", "users_wagerate", "machining_task",
            "machining_jobcostagg", "machining_jobcostagguser", "tasks_timer", "tasks_part", "tasks_operation"}

-- §2, idempotent: every object is skipped when it exists (Django may have created them already).
S.TARGET_DDL = [[
ALTER TABLE tasks_part ADD COLUMN IF NOT EXISTS task_key varchar(255);
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = 'tasks_part'::regclass
                 AND conname = 'tasks_part_task_key_uniq') THEN
    ALTER TABLE tasks_part ADD CONSTRAINT tasks_part_task_key_uniq UNIQUE (task_key);
  END IF;
END $$;
CREATE TABLE IF NOT EXISTS tasks_partcostagg (
  part_id varchar(255) PRIMARY KEY REFERENCES tasks_part(key) ON DELETE CASCADE,
  job_no varchar(100), currency varchar(3) NOT NULL DEFAULT 'TRY',
  hours_ww numeric(12,4) NOT NULL DEFAULT 0, hours_ah numeric(12,4) NOT NULL DEFAULT 0,
  hours_su numeric(12,4) NOT NULL DEFAULT 0,
  cost_ww numeric(18,2) NOT NULL DEFAULT 0, cost_ah numeric(18,2) NOT NULL DEFAULT 0,
  cost_su numeric(18,2) NOT NULL DEFAULT 0, total_cost numeric(18,2) NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL);
CREATE TABLE IF NOT EXISTS tasks_partcostagguser (
  id bigserial PRIMARY KEY,
  part_id varchar(255) NOT NULL REFERENCES tasks_part(key) ON DELETE CASCADE,
  user_id integer NOT NULL REFERENCES auth_user(id) ON DELETE CASCADE,
  currency varchar(3) NOT NULL DEFAULT 'TRY',
  hours_ww numeric(12,4) NOT NULL DEFAULT 0, hours_ah numeric(12,4) NOT NULL DEFAULT 0,
  hours_su numeric(12,4) NOT NULL DEFAULT 0,
  cost_ww numeric(18,2) NOT NULL DEFAULT 0, cost_ah numeric(18,2) NOT NULL DEFAULT 0,
  cost_su numeric(18,2) NOT NULL DEFAULT 0, total_cost numeric(18,2) NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL,
  CONSTRAINT tasks_partcostagguser_part_user_uniq UNIQUE (part_id, user_id));
CREATE INDEX IF NOT EXISTS tasks_partcostagguser_user_idx ON tasks_partcostagguser(user_id);
CREATE TABLE IF NOT EXISTS tasks_partcostrecalcqueue (
  part_id varchar(255) PRIMARY KEY REFERENCES tasks_part(key) ON DELETE CASCADE,
  enqueued_at timestamptz NOT NULL DEFAULT now());
]]

-- §3.4 reference SQL (normative), as views in mig_meta (the checks use them too).
local FIGURES = [[
  COALESCE(round(sum(ms) FILTER (WHERE bucket='ww') / 3600000.0, 4), 0) AS hours_ww,
  COALESCE(round(sum(ms) FILTER (WHERE bucket='ah') / 3600000.0, 4), 0) AS hours_ah,
  COALESCE(round(sum(ms) FILTER (WHERE bucket='su') / 3600000.0, 4), 0) AS hours_su,
  COALESCE(round(sum(ms*rate)     FILTER (WHERE bucket='ww') / 3600000.0, 2), 0) AS cost_ww,
  COALESCE(round(sum(ms*rate*1.5) FILTER (WHERE bucket='ah') / 3600000.0, 2), 0) AS cost_ah,
  COALESCE(round(sum(ms*rate*2.0) FILTER (WHERE bucket='su') / 3600000.0, 2), 0) AS cost_su]]

S.COST_VIEWS = [[
CREATE OR REPLACE VIEW mig_meta.t2p_cost_pieces AS
WITH tm AS (
  SELECT t.id, t.user_id, o.part_id, t.start_time AS s, t.finish_time AS f
  FROM tasks_timer t JOIN tasks_operation o ON o.key = t.object_id
  WHERE t.content_type_id = (SELECT id FROM django_content_type WHERE app_label='tasks' AND model='operation')
    AND t.finish_time IS NOT NULL),
r AS (
  SELECT tm.*, COALESCE((SELECT w.base_hourly FROM users_wagerate w WHERE w.user_id = tm.user_id
           AND w.effective_from <= ((timestamptz 'epoch' + tm.s * interval '1 ms') AT TIME ZONE 'Europe/Istanbul')::date
           ORDER BY w.effective_from DESC LIMIT 1), 0) AS rate FROM tm)
SELECT r.id AS timer_id, r.user_id, r.part_id, r.rate,
       CASE WHEN r.f > r.s THEN LEAST(r.f, h + 3600000) - GREATEST(r.s, h) ELSE 0 END AS ms,
       CASE WHEN h IS NULL THEN 'ww'
            WHEN extract(isodow FROM lt) = 7 THEN 'su'
            WHEN extract(isodow FROM lt) <= 5 AND extract(hour FROM lt) BETWEEN 7 AND 16 THEN 'ww'
            ELSE 'ah' END AS bucket
FROM r
LEFT JOIN LATERAL generate_series(r.s - (((r.s % 3600000) + 3600000) % 3600000), r.f - 1, 3600000) AS h ON r.f > r.s
LEFT JOIN LATERAL (SELECT (timestamptz 'epoch' + h * interval '1 ms') AT TIME ZONE 'Europe/Istanbul' AS lt) z ON true;
CREATE OR REPLACE VIEW mig_meta.t2p_cost_user AS
SELECT part_id, user_id,]] .. FIGURES .. [[

FROM mig_meta.t2p_cost_pieces GROUP BY part_id, user_id;
CREATE OR REPLACE VIEW mig_meta.t2p_cost_part AS
SELECT part_id,]] .. FIGURES .. [[

FROM mig_meta.t2p_cost_pieces GROUP BY part_id;
]]

-- §5. `c` and REJ(set, key) as the spec defines them.
local C = [[(SELECT (SELECT id FROM django_content_type WHERE app_label='machining' AND model='task') ct_task,
  (SELECT id FROM django_content_type WHERE app_label='tasks' AND model='operation') ct_op) c]]

local function rej(sql)
  sql = sql:gsub("REJ%(([^,]+), ([^)]+%)?)%)", function(set, key)
    return "EXISTS (SELECT 1 FROM mig_meta.rejects r WHERE r.migration='tasks_to_parts' AND r.source_table="
      .. set .. " AND r.source_key=" .. key .. ")"
  end)
  return (sql:gsub("%f[%w]c, ", C .. ", "))
end

local COST_COLS = "a.currency,a.hours_ww,a.hours_ah,a.hours_su,a.cost_ww,a.cost_ah,a.cost_su,a.total_cost,a.updated_at"

S.CHECKS = {
  {name = "tasks_accounted", needs = "complete", sql = rej [[
SELECT count(*) FROM machining_task t WHERE NOT EXISTS (SELECT 1 FROM tasks_part p JOIN tasks_operation o
  ON o.part_id = p.key AND o.key = t.key WHERE p.key = 'PT-'||t.key AND p.task_key = t.key)
  AND NOT REJ('machining_task', t.key)]]},
  {name = "part_operation_pairs", sql = [[
SELECT count(*) FROM tasks_part p WHERE p.task_key IS NOT NULL AND (p.key <> 'PT-'||p.task_key
  OR (SELECT count(*) FROM tasks_operation o WHERE o.part_id = p.key) <> 1
  OR NOT EXISTS (SELECT 1 FROM tasks_operation o WHERE o.part_id=p.key AND o.key=p.task_key AND o."order"=1))]]},
  {name = "part_values", sql = [[
SELECT count(*) FROM machining_task t JOIN tasks_part p ON p.task_key = t.key JOIN tasks_operation o ON o.key = t.key
WHERE (p.name,p.job_no,p.image_no,p.position_no,p.quantity,p.description,p.completion_date,p.created_at)
      IS DISTINCT FROM (t.name,t.job_no,t.image_no,t.position_no,t.quantity,t.description,t.completion_date,t.created_at)
   OR (o.name,o.machine_fk_id,o.estimated_hours,o.in_plan,o.plan_order,o.planned_start_ms,o.planned_end_ms,o.completion_date,o.created_at)
      IS DISTINCT FROM (t.name,t.machine_fk_id,t.estimated_hours,t.in_plan,t.plan_order,t.planned_start_ms,t.planned_end_ms,t.completion_date,t.created_at)
   OR (p.created_by_id,o.created_by_id) IS DISTINCT FROM ((SELECT id FROM auth_user WHERE id=t.created_by_id),(SELECT id FROM auth_user WHERE id=t.created_by_id))
   OR (p.completed_by_id,o.completed_by_id) IS DISTINCT FROM ((SELECT id FROM auth_user WHERE id=t.completed_by_id),(SELECT id FROM auth_user WHERE id=t.completed_by_id))]]},
  {name = "fixups_logged", sql = [[
SELECT count(*) FROM machining_task t JOIN tasks_part p ON p.task_key = t.key
CROSS JOIN LATERAL (VALUES ('created_by_id', t.created_by_id), ('completed_by_id', t.completed_by_id)) v(field, val)
WHERE v.val IS NOT NULL AND NOT EXISTS (SELECT 1 FROM auth_user u WHERE u.id = v.val)
  AND NOT EXISTS (SELECT 1 FROM mig_meta.fixups f WHERE f.migration='tasks_to_parts' AND f.source_table='machining_task'
                  AND f.source_key=t.key AND f.field=v.field AND f.rule='orphan_user_nulled')]]},
  {name = "timers_accounted", needs = "complete", sql = rej [[
SELECT count(*) FROM c, mig_backup_tasks_to_parts.tasks_timer b WHERE b.content_type_id = c.ct_task
  AND NOT EXISTS (SELECT 1 FROM tasks_timer t WHERE t.id=b.id AND t.content_type_id=c.ct_op AND t.object_id=b.object_id)
  AND NOT REJ('tasks_timer', b.id::text)]]},
  {name = "no_timers_on_migrated_tasks", sql = rej [[
SELECT count(*) FROM c, tasks_timer t WHERE t.content_type_id = c.ct_task
  AND EXISTS (SELECT 1 FROM tasks_part p WHERE p.task_key = t.object_id)]]},
  -- to_jsonb(t) - 'content_type_id' compared as the row of every other column (same result for
  -- the §1 column types; ~10x cheaper on 1M timers): the list is read from the catalog.
  {name = "timers_untouched", sql = function(ctx)
    local cols = ctx.db:scalar([[SELECT string_agg(quote_ident(attname), ',' ORDER BY attnum) FROM pg_attribute
      WHERE attrelid = 'tasks_timer'::regclass AND attnum > 0 AND NOT attisdropped AND attname <> 'content_type_id']])
    local tc, bc = ("t." .. cols):gsub(",", ",t."), ("b." .. cols):gsub(",", ",b.")
    return rej([[
SELECT count(*) FROM c, mig_backup_tasks_to_parts.tasks_timer b LEFT JOIN tasks_timer t ON t.id = b.id
WHERE t.id IS NULL OR (]] .. tc .. [[) IS DISTINCT FROM (]] .. bc .. [[)
   OR (t.content_type_id <> b.content_type_id AND NOT (b.content_type_id = c.ct_task AND t.content_type_id = c.ct_op
       AND EXISTS (SELECT 1 FROM tasks_part p WHERE p.task_key = b.object_id)))]])
  end},
  {name = "costs_accounted", needs = "complete", sql = rej [[
SELECT count(*) FROM machining_jobcostagg j WHERE NOT EXISTS (SELECT 1 FROM tasks_partcostagg a
  WHERE a.part_id = 'PT-'||j.task_id AND EXISTS (SELECT 1 FROM tasks_part p WHERE p.key=a.part_id AND p.task_key=j.task_id))
  AND NOT REJ('machining_jobcostagg', j.task_id)]]},
  {name = "user_costs_accounted", needs = "complete", sql = rej [[
SELECT count(*) FROM machining_jobcostagguser j WHERE NOT EXISTS (SELECT 1 FROM tasks_partcostagguser a
  JOIN tasks_part p ON p.key = a.part_id WHERE p.task_key = j.task_id AND a.user_id = j.user_id)
  AND NOT REJ('machining_jobcostagguser', j.id::text)]]},
  {name = "cost_values", sql = [[
SELECT count(*) FROM machining_jobcostagg j JOIN tasks_part p ON p.task_key = j.task_id
JOIN tasks_partcostagg a ON a.part_id = p.key JOIN tasks_partcostrecalcqueue q ON q.part_id = p.key
WHERE (a.job_no,]] .. COST_COLS .. [[)
  IS DISTINCT FROM (j.job_no,]] .. COST_COLS:gsub("a%.", "j.") .. [[)]]},
  {name = "user_cost_values", sql = [[
SELECT count(*) FROM machining_jobcostagguser j JOIN tasks_part p ON p.task_key = j.task_id
JOIN tasks_partcostagguser a ON a.part_id = p.key AND a.user_id = j.user_id
JOIN tasks_partcostrecalcqueue q ON q.part_id = p.key
WHERE (]] .. COST_COLS .. [[) IS DISTINCT FROM (]] .. COST_COLS:gsub("a%.", "j.") .. [[)]]},
  -- recomputed_costs / recomputed_user_costs: the spec's queries, with the model computed per part
  -- (LATERAL: the views take the part_id qual) and only for the migrated parts not in the queue
  -- (OFFSET 0 keeps that filter below the model): the same count, without computing the cost
  -- model of every timer while the whole queue is still waiting.
  {name = "recomputed_costs", sql = [[
SELECT count(*) FROM (SELECT * FROM tasks_part p WHERE p.task_key IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM tasks_partcostrecalcqueue q WHERE q.part_id = p.key) OFFSET 0) p
LEFT JOIN tasks_partcostagg a ON a.part_id = p.key
LEFT JOIN LATERAL (SELECT * FROM mig_meta.t2p_cost_part m WHERE m.part_id = p.key OFFSET 0) m ON true
WHERE a.part_id IS NULL OR a.currency <> 'TRY' OR a.total_cost <> a.cost_ww + a.cost_ah + a.cost_su
   OR (a.hours_ww,a.hours_ah,a.hours_su,a.cost_ww,a.cost_ah,a.cost_su) IS DISTINCT FROM
      (COALESCE(m.hours_ww,0),COALESCE(m.hours_ah,0),COALESCE(m.hours_su,0),COALESCE(m.cost_ww,0),COALESCE(m.cost_ah,0),COALESCE(m.cost_su,0))]]},
  {name = "recomputed_user_costs", sql = [[
SELECT count(*) FROM (SELECT * FROM tasks_part p WHERE p.task_key IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM tasks_partcostrecalcqueue q WHERE q.part_id = p.key) OFFSET 0) p
CROSS JOIN LATERAL (SELECT part_id, user_id FROM tasks_partcostagguser WHERE part_id = p.key
       UNION SELECT part_id, user_id FROM mig_meta.t2p_cost_user WHERE part_id = p.key OFFSET 0) k
LEFT JOIN tasks_partcostagguser a ON (a.part_id, a.user_id) = (k.part_id, k.user_id)
LEFT JOIN LATERAL (SELECT * FROM mig_meta.t2p_cost_user m WHERE (m.part_id, m.user_id) = (k.part_id, k.user_id) OFFSET 0) m ON true
WHERE a.id IS NULL OR a.total_cost <> a.cost_ww + a.cost_ah + a.cost_su
   OR (a.hours_ww,a.hours_ah,a.hours_su,a.cost_ww,a.cost_ah,a.cost_su) IS DISTINCT FROM
      (COALESCE(m.hours_ww,0),COALESCE(m.hours_ah,0),COALESCE(m.hours_su,0),COALESCE(m.cost_ww,0),COALESCE(m.cost_ah,0),COALESCE(m.cost_su,0))]]},
}

-- §7, verbatim.
S.ROLLBACK = [[
BEGIN;
UPDATE tasks_timer t SET content_type_id = b.content_type_id
  FROM mig_backup_tasks_to_parts.tasks_timer b WHERE b.id = t.id AND t.content_type_id <> b.content_type_id;
DROP VIEW IF EXISTS mig_meta.t2p_cost_part, mig_meta.t2p_cost_user, mig_meta.t2p_cost_pieces;
DROP TABLE tasks_partcostrecalcqueue, tasks_partcostagguser, tasks_partcostagg;
DELETE FROM tasks_part WHERE task_key IS NOT NULL;
ALTER TABLE tasks_part DROP COLUMN task_key;
DELETE FROM mig_meta.rejects WHERE migration='tasks_to_parts';
DELETE FROM mig_meta.fixups  WHERE migration='tasks_to_parts';
COMMIT;]]

return S
