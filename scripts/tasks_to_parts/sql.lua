-- scripts/tasks_to_parts/sql.lua: the SQL of scripts/tasks_to_parts.lua that is not a rule — the
-- target DDL (spec §2), the normative cost model (§3.4, kept verbatim so it can be compared with
-- the spec line by line), the recompute statements and the rollback (§7).
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

-- The model of one part, straight from its pieces (the qual on part_id reaches the timers of
-- that part's operations through their indexes): one row, zeros without timers / one row per user.
function S.part_model(part)
  return "SELECT" .. FIGURES .. " FROM mig_meta.t2p_cost_pieces c WHERE c.part_id = " .. part
end
function S.user_model(part)
  return "SELECT c.user_id," .. FIGURES .. " FROM mig_meta.t2p_cost_pieces c WHERE c.part_id = " .. part
    .. " GROUP BY c.user_id"
end

-- §3.4, set-based: a step claims up to RECOMPUTE_BATCH parts (SKIP LOCKED, so workers never
-- collide) and recomputes them with two statements, the model computed per claimed part. Same
-- figures as one transaction per part; the stop file is still checked before each claim.
S.RECOMPUTE_BATCH = 10
S.CLAIM = [[DELETE FROM tasks_partcostrecalcqueue WHERE part_id IN (SELECT part_id FROM tasks_partcostrecalcqueue
  ORDER BY part_id LIMIT $1 FOR UPDATE SKIP LOCKED) RETURNING part_id]]
local COLS = "hours_ww, hours_ah, hours_su, cost_ww, cost_ah, cost_su"
local SET_FIGURES = [[hours_ww = EXCLUDED.hours_ww, hours_ah = EXCLUDED.hours_ah, hours_su = EXCLUDED.hours_su,
  cost_ww = EXCLUDED.cost_ww, cost_ah = EXCLUDED.cost_ah, cost_su = EXCLUDED.cost_su, total_cost = EXCLUDED.total_cost,
  updated_at = now()]]
S.RECOMPUTE_PARTS = [[
INSERT INTO tasks_partcostagg (part_id, job_no, currency, ]] .. COLS .. [[, total_cost, updated_at)
SELECT p.key, p.job_no, 'TRY', m.hours_ww, m.hours_ah, m.hours_su, m.cost_ww, m.cost_ah, m.cost_su,
       m.cost_ww + m.cost_ah + m.cost_su, now()
FROM unnest($1::text[]) k(key) JOIN tasks_part p ON p.key = k.key CROSS JOIN LATERAL (]] .. S.part_model("p.key") .. [[) m
ORDER BY p.key
ON CONFLICT (part_id) DO UPDATE SET job_no = EXCLUDED.job_no, currency = 'TRY', ]] .. SET_FIGURES
-- the model's users upserted, then the claimed parts' other user rows zeroed (one statement: the
-- model is computed once; the two modify disjoint rows)
S.RECOMPUTE_USERS = [[
WITH m AS MATERIALIZED (SELECT k.key AS part_id, u.* FROM unnest($1::text[]) k(key)
    CROSS JOIN LATERAL (]] .. S.user_model("k.key") .. [[) u),
up AS (INSERT INTO tasks_partcostagguser (part_id, user_id, currency, ]] .. COLS .. [[, total_cost, updated_at)
  SELECT m.part_id, m.user_id, 'TRY', ]] .. COLS .. [[, cost_ww + cost_ah + cost_su, now()
  FROM m ORDER BY m.part_id, m.user_id
  ON CONFLICT (part_id, user_id) DO UPDATE SET currency = 'TRY', ]] .. SET_FIGURES .. [[ RETURNING 1)
UPDATE tasks_partcostagguser a SET hours_ww = 0, hours_ah = 0, hours_su = 0, cost_ww = 0, cost_ah = 0, cost_su = 0,
  total_cost = 0, updated_at = now()
WHERE a.part_id = ANY($1::text[]) AND NOT EXISTS (SELECT 1 FROM m WHERE m.part_id = a.part_id AND m.user_id = a.user_id)]]

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
