-- examples/tasks_to_parts/generate.sql — large legacy database for scripts/tasks_to_parts.lua
-- (docs/tasks_to_parts.md; the schema ends up identical to small.sql's).
-- Deterministic (no random()): every value is a function of the row number.
-- Scale: psql variable "scale" (default 1 = 100 000 tasks, 1 000 000 timers), or the environment
-- variable EXAMPLES_SCALE (for mighost sandbox, which cannot pass -v and strips PG* variables):
--   psql -X -v ON_ERROR_STOP=1 -v scale=0.01 -d DB -f examples/tasks_to_parts/generate.sql
--   EXAMPLES_SCALE=0.01 mighost sandbox --fixture examples/tasks_to_parts/generate.sql
-- Content types as in small.sql (CT_TASK = 14, CT_OP = 21). Users: every 40th id deleted, every 7th
-- without wage rate. Tasks g = 1..N, key 'M-' || 6 digits, except:
--   g%20000 = 7   253-character key 'L-…'                 -> key_too_long
--   g%1000 = 11   native part 'PT-' || key exists          -> part_key_conflict
--   g%10000 = 13  native part and native operation exist  -> part_key_conflict
--   g%1000 = 12   native operation with the task's key    -> operation_key_conflict
--   g%500 = 21    created_by_id dangling, g%700 = 22 completed_by_id dangling -> orphan_user_nulled
-- Timers t = 1..T (all finished, 2014..2025, incl. zero/negative length): t%50 = 9 on native
-- operations (not source rows); t%1000 = 3 / 5 on missing tasks -> orphan_task; the rest on task
-- 1 + (t * 7919) % N (timers of rejected tasks -> task_rejected).
-- Job costs for tasks with g%5 <> 0 (+ orphan_task rows); per-user costs, 2 per task with g%4 <> 0,
-- the 2nd user deleted when g%1000 = 501 (-> orphan_user; never on a rejected task) (+ orphan_task rows).
-- Exact expected counts: run expected.sql afterwards (README.md lists them for scale 1).
\if :{?scale}
\else
  \getenv scale EXAMPLES_SCALE
\endif
\if :{?scale}
\else
  \set scale 1
\endif
SELECT greatest(20, round(100000 * :scale))::int AS n_tasks,
       greatest(100, round(1000000 * :scale))::int AS n_timers,
       greatest(80, round(400 * :scale))::int AS n_user_ids,
       greatest(5, round(1000 * :scale))::int AS n_native,
       greatest(2, round(100 * :scale))::int AS n_orphan_costs \gset
SELECT :n_user_ids - :n_user_ids / 40 AS n_users \gset
\echo tasks_to_parts generator: :n_tasks tasks, :n_timers timers, :n_user_ids user ids, :n_native native parts

-- helpers (temporary: not part of the dumped schema)
-- task key of task number g
CREATE FUNCTION pg_temp.tk(g bigint) RETURNS text LANGUAGE sql IMMUTABLE
  AS $$ SELECT CASE WHEN g % 20000 = 7 THEN 'L-' || lpad(g::text, 6, '0') || repeat('x', 245)
                    ELSE 'M-' || lpad(g::text, 6, '0') END $$;
-- k-th existing user id (k >= 0): 1..n_user_ids without the multiples of 40
CREATE FUNCTION pg_temp.uid(k bigint, n int) RETURNS int LANGUAGE sql IMMUTABLE
  AS $$ SELECT ((k % n) + 1 + (k % n) / 39)::int $$;

BEGIN;
-- Small tables exactly as in spec §1; the four big ones get their keys, indexes and foreign keys
-- after the load (same names as the spec's DDL produces).
CREATE TABLE django_content_type (
  id serial PRIMARY KEY, app_label varchar(100) NOT NULL, model varchar(100) NOT NULL,
  CONSTRAINT django_content_type_app_label_model_76bd3d3b_uniq UNIQUE (app_label, model));
CREATE TABLE auth_user (
  id serial PRIMARY KEY, password varchar(128) NOT NULL, last_login timestamptz,
  is_superuser boolean NOT NULL, username varchar(150) NOT NULL UNIQUE,
  first_name varchar(150) NOT NULL, last_name varchar(150) NOT NULL, email varchar(254) NOT NULL,
  is_staff boolean NOT NULL, is_active boolean NOT NULL, date_joined timestamptz NOT NULL);
CREATE TABLE machines_machine (
  id bigserial PRIMARY KEY, name varchar(100) NOT NULL, code varchar(50) UNIQUE,
  is_active boolean NOT NULL DEFAULT true);
CREATE TABLE users_wagerate (                     -- hourly wage, TRY, effective from a local date
  id bigserial PRIMARY KEY,
  user_id integer NOT NULL REFERENCES auth_user(id) DEFERRABLE INITIALLY DEFERRED,
  effective_from date NOT NULL,
  base_hourly numeric(10,2) NOT NULL CHECK (base_hourly >= 0),
  CONSTRAINT users_wagerate_user_from_uniq UNIQUE (user_id, effective_from));
CREATE TABLE machining_task (
  key varchar(255) NOT NULL,                      -- e.g. 'M-001'
  name varchar(255) NOT NULL,
  job_no varchar(100), image_no varchar(100), position_no varchar(100),
  quantity integer, description text,
  machine_fk_id bigint,
  estimated_hours numeric(10,2),
  in_plan boolean NOT NULL DEFAULT false, plan_order integer,
  planned_start_ms bigint, planned_end_ms bigint,
  completion_date bigint,                         -- epoch ms
  completed_by_id integer,                        -- no FK (imported data): may dangle
  created_by_id integer,                          -- no FK (imported data): may dangle
  created_at timestamptz NOT NULL);
CREATE TABLE machining_jobcostagg (               -- db_constraint=False: no FKs
  task_id varchar(255) NOT NULL, job_no varchar(100),
  currency varchar(3) NOT NULL DEFAULT 'TRY',
  hours_ww numeric(12,4) NOT NULL DEFAULT 0, hours_ah numeric(12,4) NOT NULL DEFAULT 0,
  hours_su numeric(12,4) NOT NULL DEFAULT 0,
  cost_ww numeric(18,2) NOT NULL DEFAULT 0, cost_ah numeric(18,2) NOT NULL DEFAULT 0,
  cost_su numeric(18,2) NOT NULL DEFAULT 0, total_cost numeric(18,2) NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL);
CREATE TABLE machining_jobcostagguser (           -- no FKs
  id bigserial, task_id varchar(255) NOT NULL, user_id integer NOT NULL,
  currency varchar(3) NOT NULL DEFAULT 'TRY',
  hours_ww numeric(12,4) NOT NULL DEFAULT 0, hours_ah numeric(12,4) NOT NULL DEFAULT 0,
  hours_su numeric(12,4) NOT NULL DEFAULT 0,
  cost_ww numeric(18,2) NOT NULL DEFAULT 0, cost_ah numeric(18,2) NOT NULL DEFAULT 0,
  cost_su numeric(18,2) NOT NULL DEFAULT 0, total_cost numeric(18,2) NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL);
CREATE TABLE tasks_timer (                        -- generic FK (content_type_id, object_id)
  id bigserial,
  user_id integer NOT NULL,
  start_time bigint NOT NULL,                     -- epoch ms (UTC)
  finish_time bigint,                             -- epoch ms; NULL = timer running
  comment text,
  machine_fk_id bigint,
  manual_entry boolean NOT NULL DEFAULT false,
  stopped_by_id integer,
  content_type_id integer NOT NULL,
  object_id varchar(255) NOT NULL);
-- the new tasks app is already deployed and may hold native parts/operations:
CREATE TABLE tasks_part (
  key varchar(255) PRIMARY KEY, name varchar(255) NOT NULL,
  job_no varchar(100), image_no varchar(100), position_no varchar(100),
  quantity integer, description text, completion_date bigint,
  completed_by_id integer REFERENCES auth_user(id) ON DELETE SET NULL,
  created_by_id integer REFERENCES auth_user(id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL);
CREATE TABLE tasks_operation (
  key varchar(255) PRIMARY KEY,
  part_id varchar(255) NOT NULL REFERENCES tasks_part(key) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
  name varchar(255) NOT NULL, "order" integer NOT NULL DEFAULT 1,
  machine_fk_id bigint REFERENCES machines_machine(id) ON DELETE SET NULL,
  estimated_hours numeric(10,2), in_plan boolean NOT NULL DEFAULT false, plan_order integer,
  planned_start_ms bigint, planned_end_ms bigint, completion_date bigint,
  completed_by_id integer REFERENCES auth_user(id) ON DELETE SET NULL,
  created_by_id integer REFERENCES auth_user(id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL,
  CONSTRAINT tasks_operation_part_order_uniq UNIQUE (part_id, "order"));

INSERT INTO django_content_type (id, app_label, model) VALUES
 (1, 'admin', 'logentry'), (2, 'auth', 'permission'), (3, 'auth', 'group'), (4, 'auth', 'user'),
 (5, 'contenttypes', 'contenttype'), (6, 'sessions', 'session'), (7, 'machines', 'machine'),
 (9, 'machining', 'jobcostagg'), (10, 'machining', 'jobcostagguser'), (11, 'tasks', 'timer'),
 (12, 'tasks', 'part'), (14, 'machining', 'task'), (15, 'machining', 'taskcomment'),
 (16, 'machining', 'Task'), (21, 'tasks', 'operation'), (22, 'tasks', 'operationlog');
SELECT setval('django_content_type_id_seq', 22) AS ct_seq \gset

INSERT INTO auth_user (id, password, last_login, is_superuser, username, first_name, last_name, email,
                       is_staff, is_active, date_joined)
SELECT u, 'pbkdf2_sha256$600000$s' || u || '$' || md5('pw' || u), NULL, u = 1,
       CASE WHEN u = 1 THEN 'admin' ELSE 'user' || u END,
       (ARRAY['Ahmet','Burak','Cem','Deniz','Elif','Fatma','Gökhan','Hülya'])[1 + u % 8], 'Soyadı ' || u,
       'user' || u || '@gemkom.example', u = 1, u % 11 <> 0,
       timestamptz '2013-06-01 09:00:00+03' + u * interval '1 day'
FROM generate_series(1, :n_user_ids) AS u WHERE u % 40 <> 0;
SELECT setval('auth_user_id_seq', :n_user_ids) AS user_seq \gset

INSERT INTO users_wagerate (user_id, effective_from, base_hourly)
SELECT u, d.f, d.base + u % 50
FROM generate_series(1, :n_user_ids) AS u
CROSS JOIN (VALUES (date '2014-01-01', 40.00), (date '2019-06-01', 90.00), (date '2025-01-01', 180.50)) AS d(f, base)
WHERE u % 40 <> 0 AND u % 7 <> 0;

INSERT INTO machines_machine (id, name, code, is_active)
SELECT m, 'Machine ' || m, CASE WHEN m % 10 = 0 THEN NULL ELSE 'CNC-' || lpad(m::text, 2, '0') END, m % 9 <> 0
FROM generate_series(1, 20) AS m;
SELECT setval('machines_machine_id_seq', 20) AS machine_seq \gset

INSERT INTO machining_task (key, name, job_no, image_no, position_no, quantity, description, machine_fk_id,
  estimated_hours, in_plan, plan_order, planned_start_ms, planned_end_ms, completion_date,
  completed_by_id, created_by_id, created_at)
SELECT pg_temp.tk(g),
       (ARRAY['Housing','Cover Plate','Shaft','Flange','Bracket','Gövde «A»','O''Ring 4"'])[1 + g % 7] || ' ' || g,
       CASE WHEN g % 13 = 0 THEN NULL ELSE 'J-' || (2014 + g % 12) || '-' || lpad((g / 50)::text, 5, '0') END,
       CASE WHEN g % 4 = 0 THEN NULL WHEN g % 97 = 0 THEN '' ELSE 'IMG-' || (200 + g % 5000) END,
       CASE WHEN g % 5 = 0 THEN NULL ELSE (g % 9 + 1)::text END,
       CASE WHEN g % 6 = 0 THEN NULL ELSE g % 50 END,
       CASE WHEN g % 3 = 0 THEN NULL WHEN g % 101 = 0 THEN E'çizim "rev 2"\nsatır\t2 \\ not' ELSE 'Drawing rev ' || (g % 4) END,
       CASE WHEN g % 7 = 0 THEN NULL ELSE 1 + g % 20 END,
       CASE WHEN g % 8 = 0 THEN NULL ELSE (1 + g % 40) * 0.25 END,
       g % 2 = 0,
       CASE WHEN g % 2 = 0 THEN g / 2 END,
       CASE WHEN g % 2 = 0 THEN 1388534400000 + g * 3600000::bigint END,
       CASE WHEN g % 2 = 0 THEN 1388534400000 + (g + 4) * 3600000::bigint END,
       CASE WHEN g % 3 = 0 THEN 1388534400000 + g * 3000000::bigint END,
       CASE WHEN g % 700 = 22 THEN 40 * (1 + g % (:n_user_ids / 40))            -- deleted user
            WHEN g % 3 = 0 THEN pg_temp.uid(g * 3, :n_users) END,
       CASE WHEN g % 500 = 21 THEN CASE WHEN g % 1000 = 21 THEN 0 ELSE 40 * (1 + g % (:n_user_ids / 40)) END
            WHEN g % 10 = 0 THEN NULL ELSE pg_temp.uid(g, :n_users) END,
       CASE WHEN g % 50000 = 17 THEN 'infinity'::timestamptz
            ELSE timestamptz '2014-01-01 08:00:00+02' + g * interval '53 minutes' END
FROM generate_series(1, :n_tasks) AS g;

-- native parts PT-N-<n> with two operations each; the conflict parts and operations
INSERT INTO tasks_part (key, name, job_no, image_no, position_no, quantity, description, completion_date,
                        completed_by_id, created_by_id, created_at)
SELECT 'PT-N-' || n, 'Native part ' || n, 'J-NEW-' || (n % 100), NULL::varchar, NULL::varchar, 1 + n % 4,
       NULL::text, NULL::bigint, NULL::int,
       pg_temp.uid(n, :n_users), timestamptz '2025-03-20 10:00:00+03' + n * interval '1 minute'
FROM generate_series(1, :n_native) AS n
UNION ALL
SELECT 'PT-' || pg_temp.tk(g), 'Hand-made part with a task''s key', NULL, NULL, NULL, 1, NULL, NULL, NULL,
       pg_temp.uid(g, :n_users), timestamptz '2025-03-21 10:00:00+03'
FROM generate_series(1, :n_tasks) AS g WHERE g % 1000 = 11 OR g % 10000 = 13
UNION ALL
SELECT 'PT-OPC-' || g, 'Holder of an operation with a task''s key', NULL, NULL, NULL, 1, NULL, NULL, NULL,
       NULL, timestamptz '2025-03-22 10:00:00+03'
FROM generate_series(1, :n_tasks) AS g WHERE g % 1000 = 12 OR g % 10000 = 13;
INSERT INTO tasks_operation (key, part_id, name, "order", machine_fk_id, estimated_hours, in_plan, plan_order,
  planned_start_ms, planned_end_ms, completion_date, completed_by_id, created_by_id, created_at)
SELECT 'OP-N-' || n || '-' || o, 'PT-N-' || n, (ARRAY['Turning','Milling'])[o], o, 1 + n % 20, 1.25 * o, o = 1,
       NULL::int, NULL::bigint, NULL::bigint, NULL::bigint, NULL::int, pg_temp.uid(n, :n_users), timestamptz '2025-03-20 10:05:00+03' + n * interval '1 minute'
FROM generate_series(1, :n_native) AS n CROSS JOIN generate_series(1, 2) AS o
UNION ALL
SELECT pg_temp.tk(g), 'PT-OPC-' || g, 'Operation with a task''s key', 1, NULL, NULL, false,
       NULL, NULL, NULL, NULL, NULL, NULL, timestamptz '2025-03-22 10:05:00+03'
FROM generate_series(1, :n_tasks) AS g WHERE g % 1000 = 12 OR g % 10000 = 13;

-- timers: start in 2014-01-01 .. 2025-05-22 (spread by a multiplicative hash), 1 min .. 8 h long
INSERT INTO tasks_timer (id, user_id, start_time, finish_time, comment, machine_fk_id, manual_entry,
                         stopped_by_id, content_type_id, object_id)
SELECT t, pg_temp.uid(t * 13, :n_users), s.st,
       CASE WHEN t % 997 = 0 THEN s.st                       -- zero length
            WHEN t % 991 = 0 THEN s.st - 60000               -- finish before start
            ELSE s.st + (1 + t % 480) * 60000 + (t % 13) * 1000 END,
       CASE WHEN t % 9 = 0 THEN 'tool change' WHEN t % 101 = 0 THEN E'yorum: "çok" \\ iyi\nsatır 2' WHEN t % 103 = 0 THEN '' END,
       CASE WHEN t % 5 = 0 THEN NULL ELSE 1 + t % 20 END,
       t % 11 = 0,
       CASE WHEN t % 4 = 0 THEN 1 END,
       CASE WHEN t % 50 = 9 THEN 21 ELSE 14 END,
       CASE WHEN t % 50 = 9 THEN 'OP-N-' || (1 + t % :n_native) || '-' || (1 + t % 2)
            WHEN t % 1000 = 3 THEN 'M-GONE-' || t
            WHEN t % 1000 = 5 THEN lower(pg_temp.tk(1 + (t::bigint * 7919) % :n_tasks))
            ELSE pg_temp.tk(1 + (t::bigint * 7919) % :n_tasks) END
FROM generate_series(1, :n_timers) AS t
CROSS JOIN LATERAL (SELECT 1388534400000 + ((t::bigint * 104729) % 5990000) * 60000 + (t % 1000) * 7 AS st) AS s;
SELECT setval('tasks_timer_id_seq', :n_timers) AS timer_seq \gset

INSERT INTO machining_jobcostagg (task_id, job_no, currency, hours_ww, hours_ah, hours_su,
  cost_ww, cost_ah, cost_su, total_cost, updated_at)
SELECT pg_temp.tk(g), CASE WHEN g % 13 = 0 THEN NULL ELSE 'J-' || (2014 + g % 12) || '-' || lpad((g / 50)::text, 5, '0') END,
       CASE WHEN g % 4999 = 0 THEN 'EUR' ELSE 'TRY' END,
       (g % 7) * 1.25, (g % 3) * 0.5, CASE WHEN g % 10 = 1 THEN 2.0 ELSE 0 END,
       (g % 7) * 1.25 * 200, (g % 3) * 0.5 * 300, CASE WHEN g % 10 = 1 THEN 800 ELSE 0 END,
       (g % 7) * 1.25 * 200 + (g % 3) * 0.5 * 300 + CASE WHEN g % 10 = 1 THEN 800 ELSE 0 END,
       timestamptz '2025-03-31 23:00:00.5+03' + g * interval '1 second'
FROM generate_series(1, :n_tasks) AS g WHERE g % 5 <> 0
UNION ALL
SELECT 'M-GONE-C' || n, 'J-OLD', 'TRY', 1, 0, 0, 200, 0, 0, 200, timestamptz '2020-01-01 00:00:00+02'
FROM generate_series(1, :n_orphan_costs) AS n;

INSERT INTO machining_jobcostagguser (task_id, user_id, currency, hours_ww, hours_ah, hours_su,
  cost_ww, cost_ah, cost_su, total_cost, updated_at)
SELECT pg_temp.tk(g),
       CASE WHEN i = 1 AND g % 1000 = 501 THEN 40 * (1 + g % (:n_user_ids / 40)) ELSE pg_temp.uid(g + i, :n_users) END,
       'TRY', (g % 5) * 0.75, i * 0.5, 0, (g % 5) * 0.75 * 200, i * 0.5 * 300, 0,
       (g % 5) * 0.75 * 200 + i * 0.5 * 300,
       timestamptz '2025-03-31 23:30:00+03' + g * interval '1 second'
FROM generate_series(1, :n_tasks) AS g CROSS JOIN generate_series(0, 1) AS i WHERE g % 4 <> 0
UNION ALL
SELECT 'M-GONE-U' || n, pg_temp.uid(n, :n_users), 'TRY', 1, 0, 0, 200, 0, 0, 200, timestamptz '2020-01-01 00:00:00+02'
FROM generate_series(1, :n_orphan_costs) AS n;

ALTER TABLE machining_task ADD CONSTRAINT machining_task_pkey PRIMARY KEY (key);
ALTER TABLE machining_task ADD CONSTRAINT machining_task_machine_fk_id_fkey FOREIGN KEY (machine_fk_id)
  REFERENCES machines_machine(id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED;
CREATE INDEX machining_task_machine_fk_id_idx ON machining_task(machine_fk_id);
CREATE INDEX machining_task_key_like ON machining_task(key varchar_pattern_ops);
ALTER TABLE machining_jobcostagg ADD CONSTRAINT machining_jobcostagg_pkey PRIMARY KEY (task_id);
ALTER TABLE machining_jobcostagguser ADD CONSTRAINT machining_jobcostagguser_pkey PRIMARY KEY (id);
ALTER TABLE machining_jobcostagguser ADD CONSTRAINT machining_jobcostagguser_task_user_uniq UNIQUE (task_id, user_id);
ALTER TABLE tasks_timer ADD CONSTRAINT tasks_timer_pkey PRIMARY KEY (id);
ALTER TABLE tasks_timer ADD CONSTRAINT tasks_timer_user_id_fkey FOREIGN KEY (user_id)
  REFERENCES auth_user(id) DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE tasks_timer ADD CONSTRAINT tasks_timer_machine_fk_id_fkey FOREIGN KEY (machine_fk_id)
  REFERENCES machines_machine(id) ON DELETE SET NULL;
ALTER TABLE tasks_timer ADD CONSTRAINT tasks_timer_stopped_by_id_fkey FOREIGN KEY (stopped_by_id) REFERENCES auth_user(id);
ALTER TABLE tasks_timer ADD CONSTRAINT tasks_timer_content_type_id_fkey FOREIGN KEY (content_type_id)
  REFERENCES django_content_type(id);
CREATE INDEX tasks_timer_ct_obj_idx ON tasks_timer(content_type_id, object_id);
CREATE INDEX tasks_timer_user_id_idx ON tasks_timer(user_id);
COMMIT;
ANALYZE;
