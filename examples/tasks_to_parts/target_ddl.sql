-- Add-on for small.sql (load it AFTER small.sql): Django's schema migration (seed PHASE 2,
-- "python manage.py migrate") already created the spec's §2 target objects, empty. The script must
-- detect and skip them (idempotent setup). Expected counts are unchanged (see small.sql).
--   mighost sandbox --fixture examples/tasks_to_parts/small.sql --fixture examples/tasks_to_parts/target_ddl.sql
BEGIN;
ALTER TABLE tasks_part ADD COLUMN task_key varchar(255);
ALTER TABLE tasks_part ADD CONSTRAINT tasks_part_task_key_uniq UNIQUE (task_key);
CREATE TABLE tasks_partcostagg (
  part_id varchar(255) PRIMARY KEY REFERENCES tasks_part(key) ON DELETE CASCADE,
  job_no varchar(100), currency varchar(3) NOT NULL DEFAULT 'TRY',
  hours_ww numeric(12,4) NOT NULL DEFAULT 0, hours_ah numeric(12,4) NOT NULL DEFAULT 0,
  hours_su numeric(12,4) NOT NULL DEFAULT 0,
  cost_ww numeric(18,2) NOT NULL DEFAULT 0, cost_ah numeric(18,2) NOT NULL DEFAULT 0,
  cost_su numeric(18,2) NOT NULL DEFAULT 0, total_cost numeric(18,2) NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL);
CREATE TABLE tasks_partcostagguser (
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
CREATE INDEX tasks_partcostagguser_user_idx ON tasks_partcostagguser(user_id);
CREATE TABLE tasks_partcostrecalcqueue (
  part_id varchar(255) PRIMARY KEY REFERENCES tasks_part(key) ON DELETE CASCADE,
  enqueued_at timestamptz NOT NULL DEFAULT now());
COMMIT;
