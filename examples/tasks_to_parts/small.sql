-- examples/tasks_to_parts/small.sql — the project's small legacy database for scripts/tasks_to_parts.lua
-- (docs/tasks_to_parts.md). Its schema is the legacy one the migration expects.
-- Load into an empty database:  psql -X -v ON_ERROR_STOP=1 -d DB -f examples/tasks_to_parts/small.sql
--                          or:  mighost sandbox --fixture examples/tasks_to_parts/small.sql
-- Optional add-ons, loaded after it (see their headers): target_ddl.sql (Django already created the §2
-- objects), task_key_conflict.sql (a native part claims a task via task_key), running_timer.sql
-- (a timer still runs: the script must refuse).
--
-- Content types: CT_TASK = 14, CT_OP = 21 (the public fixture uses 8 and 13: look them up), plus decoys
-- 'machining'/'Task', 'machining'/'taskcomment', 'tasks'/'operationlog'.
-- Users 1-4, 6, 7 (5 and 8 deleted; 6 inactive and without wage rate), 8 wage rates, 4 machines.
-- 132 tasks (110 ordinary M-001..M-110 + 22 edge tasks), 7 native parts, 5 native operations,
-- 284 timers (276 on CT_TASK, all finished), 86 job cost rows, 129 per-user cost rows.
--
-- Tasks (§3.1):
--   key_too_long (2): 'L'||252×'x' (253 chars) · 255×'Z'
--   boundary: 'B-'||250×'ş' (252 chars, 505 bytes; 'PT-'||key = 255 chars) -> migrated
--   part_key_conflict (2): M-201 (native part PT-M-201) · M-203 (native part PT-M-203 AND native
--                      operation M-203: rule 3 before rule 4)
--   operation_key_conflict (1): M-202 (native operation M-202; its dangling creator gets no fixup)
--   no conflict, migrated: M-204 (native part 'pt-M-204'), M-205 (native op 'm-205'), M-206 (native
--                      part 'PT-M-206 ' with a trailing space) — keys are exact strings
--   orphan_user_nulled fixups (5 on 4 tasks): M-301 created_by 5 · M-302 completed_by 999 ·
--                      M-303 created_by 0 + completed_by -3 · M-305 created_by 8 (= sequence max);
--                      M-304 both NULL: no fixup
--   copied values: M-401 quotes/backslash/tab/newline/Unicode, '' vs NULL · M-402 estimated_hours
--                      99999999.99, negative/0 epoch ms, created_at 'infinity' · M-403 pre-1970, bigint
--                      max planned_end_ms · M-404 created_at '-infinity'
--   odd keys, migrated: E'M-''Q''\\' · 'm-001' (twin of M-001) · 'M-099 ' (twin of M-099) · 'Ç-İŞ-001'
-- Timers (§3.2; CT_TASK rows are source rows):
--   240 ordinary + 8 on edge tasks + 16 cost-model edges -> migrated (264)
--   task_rejected (7): 2×M-201, 2×M-202, M-203, the two too-long keys
--   orphan_task (5): 'M-999', 'm-002', 'M-001 ', '', 'PT-N-001' (a part key is not a task key)
--   not source rows (8): 5 on native operations (CT_OP, incl. keys M-202/M-203/m-205), 1 each on the
--                      decoy 'machining'/'Task', on 'tasks'/'part' and on 'machining'/'taskcomment'
--   cost-model edges (local time Europe/Istanbul): zero length (M-010), finish < start (M-011),
--     Sunday->Monday (M-012), 06:30-07:30 and 16:30-17:30 (M-013), Saturday (M-014), across the DST
--     start on Monday 2014-03-31 and after the late DST end of 2015-11-08 (M-015), winter +02 vs +03
--     (M-016), negative epoch ms (M-017), user without rate (M-018), rate chosen by local date
--     2025-04-01 not UTC 2025-03-31 (M-019, M-021), a 168-hour timer (M-020), odd milliseconds (M-022)
-- Job costs (§3.3): M-001..M-080 + boundary key migrated (81; EUR currency, NULL job_no, max numerics,
--   updated_at infinity / pre-1970, total ≠ sum: copied as-is); task_rejected 3 (M-201, M-202,
--   too-long key); orphan_task 2 ('M-998', 'm-002')
-- Per-user costs: 120 on M-001..M-060 + 1 on the quote key migrated (121); orphan_user 3 (users 5, 0,
--   999); task_rejected 3 (M-201, M-203, 255×'Z'); orphan_task 2 ('M-998', 'M-001 '). No row combines
--   a missing user with a missing/rejected task (the spec does not order those rules).
--
-- Expected counts (derived by hand from spec §3; expected.sql recomputes them with SQL):
--   source set               | source | migrated | rejected | by reason
--   machining_task           |    132 |      127 |        5 | key_too_long 2, part_key_conflict 2, operation_key_conflict 1
--   tasks_timer              |    276 |      264 |       12 | task_rejected 7, orphan_task 5
--   machining_jobcostagg     |     86 |       81 |        5 | task_rejected 3, orphan_task 2
--   machining_jobcostagguser |    129 |      121 |        8 | task_rejected 3, orphan_task 2, orphan_user 3
--   fixups: orphan_user_nulled 5 · recompute: queued 127, recomputed 127 (full --recompute run)
BEGIN;
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
  key varchar(255) PRIMARY KEY,                   -- e.g. 'M-001'
  name varchar(255) NOT NULL,
  job_no varchar(100), image_no varchar(100), position_no varchar(100),
  quantity integer, description text,
  machine_fk_id bigint REFERENCES machines_machine(id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED,
  estimated_hours numeric(10,2),
  in_plan boolean NOT NULL DEFAULT false, plan_order integer,
  planned_start_ms bigint, planned_end_ms bigint,
  completion_date bigint,                         -- epoch ms
  completed_by_id integer,                        -- no FK (imported data): may dangle
  created_by_id integer,                          -- no FK (imported data): may dangle
  created_at timestamptz NOT NULL);
CREATE INDEX machining_task_machine_fk_id_idx ON machining_task(machine_fk_id);
CREATE INDEX machining_task_key_like ON machining_task(key varchar_pattern_ops);
CREATE TABLE machining_jobcostagg (               -- db_constraint=False: no FKs
  task_id varchar(255) PRIMARY KEY, job_no varchar(100),
  currency varchar(3) NOT NULL DEFAULT 'TRY',
  hours_ww numeric(12,4) NOT NULL DEFAULT 0, hours_ah numeric(12,4) NOT NULL DEFAULT 0,
  hours_su numeric(12,4) NOT NULL DEFAULT 0,
  cost_ww numeric(18,2) NOT NULL DEFAULT 0, cost_ah numeric(18,2) NOT NULL DEFAULT 0,
  cost_su numeric(18,2) NOT NULL DEFAULT 0, total_cost numeric(18,2) NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL);
CREATE TABLE machining_jobcostagguser (           -- no FKs
  id bigserial PRIMARY KEY, task_id varchar(255) NOT NULL, user_id integer NOT NULL,
  currency varchar(3) NOT NULL DEFAULT 'TRY',
  hours_ww numeric(12,4) NOT NULL DEFAULT 0, hours_ah numeric(12,4) NOT NULL DEFAULT 0,
  hours_su numeric(12,4) NOT NULL DEFAULT 0,
  cost_ww numeric(18,2) NOT NULL DEFAULT 0, cost_ah numeric(18,2) NOT NULL DEFAULT 0,
  cost_su numeric(18,2) NOT NULL DEFAULT 0, total_cost numeric(18,2) NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL,
  CONSTRAINT machining_jobcostagguser_task_user_uniq UNIQUE (task_id, user_id));
CREATE TABLE tasks_timer (                        -- generic FK (content_type_id, object_id)
  id bigserial PRIMARY KEY,
  user_id integer NOT NULL REFERENCES auth_user(id) DEFERRABLE INITIALLY DEFERRED,
  start_time bigint NOT NULL,                     -- epoch ms (UTC)
  finish_time bigint,                             -- epoch ms; NULL = timer running
  comment text,
  machine_fk_id bigint REFERENCES machines_machine(id) ON DELETE SET NULL,
  manual_entry boolean NOT NULL DEFAULT false,
  stopped_by_id integer REFERENCES auth_user(id),
  content_type_id integer NOT NULL REFERENCES django_content_type(id),
  object_id varchar(255) NOT NULL);
CREATE INDEX tasks_timer_ct_obj_idx ON tasks_timer(content_type_id, object_id);
CREATE INDEX tasks_timer_user_id_idx ON tasks_timer(user_id);
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

-- epoch milliseconds of a timestamptz (a temporary helper: not part of the dumped schema)
CREATE FUNCTION pg_temp.ms(timestamptz) RETURNS bigint LANGUAGE sql IMMUTABLE
  AS $$ SELECT (extract(epoch FROM $1) * 1000)::bigint $$;

-- ---------------------------------------------------------------- content types
-- Ids differ from the public fixture (CT_TASK = 14, CT_OP = 21): never hard-code them. Decoys:
-- 'machining'/'Task' (case), 'machining'/'taskcomment' and 'tasks'/'operationlog' (prefixes).
INSERT INTO django_content_type (id, app_label, model) VALUES
 (1, 'admin', 'logentry'), (2, 'auth', 'permission'), (3, 'auth', 'group'), (4, 'auth', 'user'),
 (5, 'contenttypes', 'contenttype'), (6, 'sessions', 'session'), (7, 'machines', 'machine'),
 (9, 'machining', 'jobcostagg'), (10, 'machining', 'jobcostagguser'), (11, 'tasks', 'timer'),
 (12, 'tasks', 'part'), (14, 'machining', 'task'), (15, 'machining', 'taskcomment'),
 (16, 'machining', 'Task'), (21, 'tasks', 'operation'), (22, 'tasks', 'operationlog');
SELECT setval('django_content_type_id_seq', 22);

-- ---------------------------------------------------------------- users (ids 5 and 8 deleted), wage rates, machines
INSERT INTO auth_user (id, password, last_login, is_superuser, username, first_name, last_name, email,
                       is_staff, is_active, date_joined) VALUES
 (1, 'pbkdf2_sha256$600000$s1$h', NULL, true,  'admin', 'Admin', 'User',   'admin@gemkom.example', true,  true,  '2014-01-01 09:00:00+02'),
 (2, 'pbkdf2_sha256$600000$s2$h', NULL, false, 'ahmet', 'Ahmet', 'Yılmaz', 'ahmet@gemkom.example', false, true,  '2014-01-02 09:00:00+02'),
 (3, 'pbkdf2_sha256$600000$s3$h', NULL, false, 'burak', 'Burak', 'Öztürk', 'burak@gemkom.example', false, true,  '2014-01-03 09:00:00+02'),
 (4, 'pbkdf2_sha256$600000$s4$h', NULL, false, 'cem',   'Cem',   'Şahin',  'cem@gemkom.example',   false, true,  '2014-01-04 09:00:00+02'),
 (6, 'pbkdf2_sha256$600000$s6$h', NULL, false, 'elif',  'Elif',  'Çelik',  'elif@gemkom.example',  false, false, '2014-01-06 09:00:00+02'),
 (7, 'pbkdf2_sha256$600000$s7$h', NULL, false, 'fatma', 'Fatma', 'Doğan',  'fatma@gemkom.example', false, true,  '2014-01-07 09:00:00+02');
SELECT setval('auth_user_id_seq', 8);

INSERT INTO users_wagerate (user_id, effective_from, base_hourly) VALUES
 (2, '2014-01-01', 50.00), (2, '2016-01-01', 80.00), (2, '2025-01-01', 240.00),
 (3, '2014-06-01', 60.00), (3, '2025-03-15', 260.50),
 (4, '2024-06-01', 150.00),                          -- cem's older timers cost 0
 (7, '2025-01-01', 210.00), (7, '2025-04-01', 230.00);
-- user 6 (elif) has no wage rate: her time costs 0

INSERT INTO machines_machine (id, name, code, is_active) VALUES
 (1, 'Mazak VTC-300', 'CNC-01', true), (2, 'Haas VF-2', 'CNC-02', true),
 (3, 'Okuma Lathe', 'LTH-01', true), (4, 'Old Mill', NULL, false);
SELECT setval('machines_machine_id_seq', 4);

-- ---------------------------------------------------------------- 110 ordinary tasks M-001 .. M-110 (all migrate)
INSERT INTO machining_task (key, name, job_no, image_no, position_no, quantity, description, machine_fk_id,
  estimated_hours, in_plan, plan_order, planned_start_ms, planned_end_ms, completion_date,
  completed_by_id, created_by_id, created_at)
SELECT 'M-' || lpad(g::text, 3, '0'),
       (ARRAY['Housing','Cover Plate','Shaft','Flange','Bracket'])[1 + g % 5],
       'J-2025-' || lpad((1 + g / 8)::text, 3, '0'),
       CASE WHEN g % 4 = 0 THEN NULL ELSE 'IMG-' || (200 + g) END,
       CASE WHEN g % 5 = 0 THEN NULL ELSE (g % 9 + 1)::text END,
       CASE WHEN g % 6 = 0 THEN NULL ELSE 1 + g % 10 END,
       CASE WHEN g % 3 = 0 THEN NULL ELSE 'Drawing rev ' || (g % 4) END,
       CASE WHEN g % 7 = 0 THEN NULL ELSE 1 + g % 4 END,
       CASE WHEN g % 8 = 0 THEN NULL ELSE (1 + g % 12) * 0.75 END,
       g % 2 = 0,
       CASE WHEN g % 2 = 0 THEN g / 2 END,
       CASE WHEN g % 2 = 0 THEN 1740985200000 + g * 3600000::bigint END,
       CASE WHEN g % 2 = 0 THEN 1740985200000 + (g + 4) * 3600000::bigint END,
       CASE WHEN g % 3 = 0 THEN 1743400800000 + g * 86400000::bigint END,
       CASE WHEN g % 3 = 0 THEN (ARRAY[2, 3, 4, 6, 7])[1 + g % 5] END,
       CASE WHEN g % 10 = 0 THEN NULL ELSE (ARRAY[1, 2, 3, 4, 6, 7])[1 + g % 6] END,
       timestamptz '2025-02-20 08:00:00+03' + g * interval '5 hours'
FROM generate_series(1, 110) AS g;

-- ---------------------------------------------------------------- edge tasks
INSERT INTO machining_task (key, name, job_no, image_no, position_no, quantity, description, machine_fk_id,
  estimated_hours, in_plan, plan_order, planned_start_ms, planned_end_ms, completion_date,
  completed_by_id, created_by_id, created_at) VALUES
 -- rule 2 key_too_long: 'PT-' || key longer than 255 characters
 ('L' || repeat('x', 252), 'Key of 253 chars', 'J-E', NULL, NULL, 1, NULL, 1, NULL, false, NULL, NULL, NULL, NULL, NULL, 2, '2025-03-01 08:00:00+03'),
 (repeat('Z', 255),        'Key of 255 chars', 'J-E', NULL, NULL, 1, NULL, 1, NULL, false, NULL, NULL, NULL, NULL, NULL, 2, '2025-03-01 08:00:00+03'),
 -- boundary: 252 characters (505 bytes) -> 'PT-' || key has exactly 255 characters: migrated
 ('B-' || repeat('ş', 250), 'Key of 252 multibyte chars', 'J-E', NULL, NULL, 1, NULL, 2, 1.50, false, NULL, NULL, NULL, NULL, NULL, 3, '2025-03-01 08:00:00+03'),
 -- rule 3 part_key_conflict: a native part already has key 'PT-' || key
 ('M-201', 'Conflicting part key', 'J-E-201', NULL, NULL, 2, NULL, 1, 2.00, false, NULL, NULL, NULL, NULL, NULL, 2, '2025-03-02 08:00:00+03'),
 -- ... and its operation key is taken too: rule 3 is checked before rule 4
 ('M-203', 'Conflicting part and operation key', 'J-E-203', NULL, NULL, 2, NULL, 1, 2.00, false, NULL, NULL, NULL, NULL, NULL, 2, '2025-03-02 08:00:00+03'),
 -- rule 4 operation_key_conflict: a native operation has key = task key; dangling created_by_id, but a
 -- rejected task gets no fixups
 ('M-202', 'Conflicting operation key', 'J-E-202', NULL, NULL, 2, NULL, 1, 2.00, false, NULL, NULL, NULL, NULL, 999, 5, '2025-03-02 08:00:00+03'),
 -- keys are exact strings: near-misses of native keys are NOT conflicts (migrated)
 ('M-204', 'Native part pt-M-204 (case) is no conflict', 'J-E-204', NULL, NULL, 1, NULL, 2, NULL, false, NULL, NULL, NULL, NULL, NULL, 3, '2025-03-02 08:00:00+03'),
 ('M-205', 'Native operation m-205 (case) is no conflict', 'J-E-205', NULL, NULL, 1, NULL, 2, NULL, false, NULL, NULL, NULL, NULL, NULL, 3, '2025-03-02 08:00:00+03'),
 ('M-206', 'Native part ''PT-M-206 '' (space) is no conflict', 'J-E-206', NULL, NULL, 1, NULL, 2, NULL, false, NULL, NULL, NULL, NULL, NULL, 3, '2025-03-02 08:00:00+03'),
 -- fixups orphan_user_nulled (migrated; dangling ids nulled in part and operation, one fixup per field)
 ('M-301', 'Creator deleted',          'J-E-301', NULL, NULL, 1, NULL, 3, 1.00, false, NULL, NULL, NULL, NULL,          NULL, 5, '2025-03-03 08:00:00+03'),
 ('M-302', 'Completer unknown',        'J-E-302', NULL, NULL, 1, NULL, 3, 1.00, false, NULL, NULL, NULL, 1743400800000, 999,  2, '2025-03-03 08:00:00+03'),
 ('M-303', 'Both dangling (0 and -3)', 'J-E-303', NULL, NULL, 1, NULL, 3, 1.00, false, NULL, NULL, NULL, 1743400800000, -3,   0, '2025-03-03 08:00:00+03'),
 ('M-304', 'Both NULL (no fixup)',     'J-E-304', NULL, NULL, 1, NULL, 3, 1.00, false, NULL, NULL, NULL, NULL,          NULL, NULL, '2025-03-03 08:00:00+03'),
 ('M-305', 'Creator 8 = sequence max, deleted', 'J-E-305', NULL, NULL, 1, NULL, 3, 1.00, false, NULL, NULL, NULL, 1743400800000, 2, 8, '2025-03-03 08:00:00+03'),
 -- copied values: text fidelity, '' vs NULL, numerics, epoch-ms and timestamptz extremes
 ('M-401', E'Name ''q'' "dq" back\\slash\ttab\nnewline \u00e7\u0131\u011f \U0001F529', NULL, '', NULL, NULL, '', NULL,
  NULL, false, NULL, NULL, NULL, NULL, NULL, NULL, '2025-03-04 08:00:00.123456+03'),
 ('M-402', 'Numeric extremes', 'J-E-402', 'IMG-402', '0', 0, 'Max estimate', 4, 99999999.99, true, -1, -86400000, 0, 0, 2, 2, 'infinity'),
 ('M-403', 'Before 1970', 'J-E-403', NULL, NULL, -5, NULL, NULL, 0.01, true, 2147483647, -1, 9223372036854775807, -1, 3, 3, '1969-12-31 23:59:59.999999+00'),
 ('M-404', 'Created -infinity', 'J-E-404', NULL, NULL, 1, NULL, 1, 0.00, false, NULL, NULL, NULL, NULL, NULL, 4, '-infinity'),
 -- odd keys (bound as parameters, compared exactly, ordered COLLATE "C")
 (E'M-''Q''\\', 'Key with quote and backslash', 'J-E-Q', NULL, NULL, 1, NULL, 1, 1.25, false, NULL, NULL, NULL, NULL, NULL, 2, '2025-03-05 08:00:00+03'),
 ('m-001', 'Lower-case twin of M-001', 'J-E-m', NULL, NULL, 1, NULL, 1, 1.25, false, NULL, NULL, NULL, NULL, NULL, 2, '2025-03-05 08:00:00+03'),
 ('M-099 ', 'Trailing-space twin of M-099', 'J-E-sp', NULL, NULL, 1, NULL, 1, 1.25, false, NULL, NULL, NULL, NULL, NULL, 2, '2025-03-05 08:00:00+03'),
 ('Ç-İŞ-001', 'Unicode key', 'J-E-Ç', NULL, NULL, 1, NULL, 1, 1.25, false, NULL, NULL, NULL, NULL, NULL, 7, '2025-03-05 08:00:00+03');

-- ---------------------------------------------------------------- native parts/operations (new app; never touched)
INSERT INTO tasks_part (key, name, job_no, image_no, position_no, quantity, description, completion_date,
                        completed_by_id, created_by_id, created_at) VALUES
 ('PT-N-001',  'Gear Blank',  'J-2025-100', 'IMG-900', '1', 4, NULL, NULL, NULL, 1, '2025-03-20 10:00:00+03'),
 ('PT-N-002',  'Adapter',     'J-2025-100', NULL, '2', 2, 'new app part', NULL, NULL, 1, '2025-03-21 10:00:00+03'),
 ('PT-N-003',  'Base Plate',  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '2025-03-22 10:00:00+03'),
 ('PT-M-201',  'Hand-made part that took M-201''s key', NULL, NULL, NULL, 1, NULL, NULL, NULL, 2, '2025-03-23 10:00:00+03'),
 ('PT-M-203',  'Hand-made part that took M-203''s key', NULL, NULL, NULL, 1, NULL, NULL, NULL, 2, '2025-03-23 10:00:00+03'),
 ('pt-M-204',  'Lower-case prefix: no conflict', NULL, NULL, NULL, 1, NULL, NULL, NULL, 2, '2025-03-23 10:00:00+03'),
 ('PT-M-206 ', 'Trailing space: no conflict', NULL, NULL, NULL, 1, NULL, NULL, NULL, 2, '2025-03-23 10:00:00+03');
INSERT INTO tasks_operation (key, part_id, name, "order", machine_fk_id, estimated_hours, in_plan, plan_order,
  planned_start_ms, planned_end_ms, completion_date, completed_by_id, created_by_id, created_at) VALUES
 ('OP-N-001-1', 'PT-N-001', 'Turning',  1, 3, 2.50, true,  1, NULL, NULL, NULL, NULL, 1, '2025-03-20 10:05:00+03'),
 ('OP-N-001-2', 'PT-N-001', 'Milling',  2, 1, 1.25, false, NULL, NULL, NULL, NULL, NULL, 1, '2025-03-20 10:06:00+03'),
 ('M-202',      'PT-N-002', 'Drilling (key equals task M-202)', 1, 2, NULL, false, NULL, NULL, NULL, NULL, NULL, 1, '2025-03-21 10:05:00+03'),
 ('M-203',      'PT-M-203', 'Facing (key equals task M-203)',   1, NULL, 0.50, false, NULL, NULL, NULL, NULL, NULL, NULL, '2025-03-23 10:05:00+03'),
 ('m-205',      'PT-N-003', 'Deburring (lower-case m-205)',     1, NULL, 0.50, false, NULL, NULL, NULL, NULL, NULL, NULL, '2025-03-22 10:05:00+03');

-- ---------------------------------------------------------------- timers (all finished: no_active_timers holds)
-- 240 ordinary timers on M-001..M-110 (CT_TASK), walking through weekdays, evenings and weekends.
INSERT INTO tasks_timer (user_id, start_time, finish_time, comment, machine_fk_id, manual_entry,
                         stopped_by_id, content_type_id, object_id)
SELECT (ARRAY[2, 3, 4, 6, 7])[1 + g % 5],
       1741150800000 + g * 17 * 1800000::bigint + (g % 7) * 61000,     -- 2025-03-05 05:00 UTC + g*8.5h (+ odd seconds)
       1741150800000 + g * 17 * 1800000::bigint + (g % 7) * 61000 + (1 + g % 6) * 2700000::bigint,
       CASE WHEN g % 9 = 0 THEN 'tool change' WHEN g % 23 = 0 THEN '' END,
       CASE WHEN g % 5 = 0 THEN NULL ELSE 1 + g % 4 END,
       g % 11 = 0,
       CASE WHEN g % 4 = 0 THEN 1 END,
       14,
       'M-' || lpad((1 + g % 110)::text, 3, '0')
FROM generate_series(1, 240) AS g;

INSERT INTO tasks_timer (user_id, start_time, finish_time, comment, machine_fk_id, manual_entry,
                         stopped_by_id, content_type_id, object_id) VALUES
 -- task_rejected: timers of rejected tasks (7) stay on CT_TASK
 (2, pg_temp.ms('2025-03-10 08:00+03'), pg_temp.ms('2025-03-10 10:00+03'), NULL, 1, false, NULL, 14, 'M-201'),
 (3, pg_temp.ms('2025-03-11 08:00+03'), pg_temp.ms('2025-03-11 09:00+03'), NULL, 1, false, NULL, 14, 'M-201'),
 (2, pg_temp.ms('2025-03-10 08:00+03'), pg_temp.ms('2025-03-10 10:00+03'), NULL, 1, false, NULL, 14, 'M-202'),
 (4, pg_temp.ms('2025-03-12 08:00+03'), pg_temp.ms('2025-03-12 08:30+03'), NULL, 1, false, NULL, 14, 'M-202'),
 (2, pg_temp.ms('2025-03-10 08:00+03'), pg_temp.ms('2025-03-10 10:00+03'), NULL, 1, false, NULL, 14, 'M-203'),
 (2, pg_temp.ms('2025-03-10 08:00+03'), pg_temp.ms('2025-03-10 10:00+03'), NULL, 1, false, NULL, 14, 'L' || repeat('x', 252)),
 (2, pg_temp.ms('2025-03-10 08:00+03'), pg_temp.ms('2025-03-10 10:00+03'), NULL, 1, false, NULL, 14, repeat('Z', 255)),
 -- orphan_task: no task with exactly this key (5)
 (2, pg_temp.ms('2025-03-13 08:00+03'), pg_temp.ms('2025-03-13 09:00+03'), 'task deleted', NULL, false, NULL, 14, 'M-999'),
 (3, pg_temp.ms('2025-03-13 08:00+03'), pg_temp.ms('2025-03-13 09:00+03'), 'case: no task m-002', NULL, false, NULL, 14, 'm-002'),
 (4, pg_temp.ms('2025-03-13 08:00+03'), pg_temp.ms('2025-03-13 09:00+03'), 'trailing space', NULL, false, NULL, 14, 'M-001 '),
 (6, pg_temp.ms('2025-03-13 08:00+03'), pg_temp.ms('2025-03-13 09:00+03'), 'empty object id', NULL, false, NULL, 14, ''),
 (7, pg_temp.ms('2025-03-13 08:00+03'), pg_temp.ms('2025-03-13 09:00+03'), 'a part key is not a task key', NULL, false, NULL, 14, 'PT-N-001'),
 -- migrated: timers of edge tasks
 (3, pg_temp.ms('2025-03-14 08:00+03'), pg_temp.ms('2025-03-14 11:00+03'), NULL, 2, false, NULL, 14, 'B-' || repeat('ş', 250)),
 (2, pg_temp.ms('2025-03-14 08:00+03'), pg_temp.ms('2025-03-14 09:00+03'), NULL, 1, false, NULL, 14, E'M-''Q''\\'),
 (2, pg_temp.ms('2025-03-14 08:00+03'), pg_temp.ms('2025-03-14 09:00+03'), NULL, 1, false, NULL, 14, 'm-001'),
 (2, pg_temp.ms('2025-03-14 08:00+03'), pg_temp.ms('2025-03-14 09:00+03'), NULL, 1, false, NULL, 14, 'M-099 '),
 (7, pg_temp.ms('2025-03-14 08:00+03'), pg_temp.ms('2025-03-14 09:00+03'), E'yorum: \u00e7ok g\u00fczel\nsat\u0131r 2', 1, true, 7, 14, 'Ç-İŞ-001'),
 (3, pg_temp.ms('2025-03-14 08:00+03'), pg_temp.ms('2025-03-14 09:00+03'), NULL, 2, false, NULL, 14, 'M-204'),
 (3, pg_temp.ms('2025-03-14 08:00+03'), pg_temp.ms('2025-03-14 09:00+03'), NULL, 2, false, NULL, 14, 'M-205'),
 (3, pg_temp.ms('2025-03-14 08:00+03'), pg_temp.ms('2025-03-14 09:00+03'), NULL, 2, false, NULL, 14, 'M-301'),
 -- migrated: cost-model edges (bucket boundaries, DST, rates, zero/negative length; local = Europe/Istanbul)
 (2, pg_temp.ms('2025-03-17 10:00+03'), pg_temp.ms('2025-03-17 10:00+03'), 'zero length: 0 ms, user still counts', 1, false, NULL, 14, 'M-010'),
 (3, pg_temp.ms('2025-03-17 12:00+03'), pg_temp.ms('2025-03-17 11:00+03'), 'finish before start: 0 ms', 1, false, NULL, 14, 'M-011'),
 (2, pg_temp.ms('2025-03-16 22:30+03'), pg_temp.ms('2025-03-17 01:30+03'), 'Sunday night -> Monday: su 1.5h, ah 1.5h', 1, false, NULL, 14, 'M-012'),
 (3, pg_temp.ms('2025-03-18 06:30+03'), pg_temp.ms('2025-03-18 07:30+03'), 'Tuesday 06:30-07:30: ah 0.5h, ww 0.5h', 1, false, NULL, 14, 'M-013'),
 (3, pg_temp.ms('2025-03-18 16:30+03'), pg_temp.ms('2025-03-18 17:30+03'), 'Tuesday 16:30-17:30: ww 0.5h, ah 0.5h', 1, false, NULL, 14, 'M-013'),
 (7, pg_temp.ms('2025-03-22 09:00+03'), pg_temp.ms('2025-03-22 13:00+03'), 'Saturday: ah', 1, false, NULL, 14, 'M-014'),
 (2, pg_temp.ms('2014-03-31 00:00+00'), pg_temp.ms('2014-03-31 06:00+00'), 'across DST start on Monday 2014-03-31 03:00 (+02 -> +03): local 02:00-09:00, ah 4h ww 2h', 1, false, NULL, 14, 'M-015'),
 (2, pg_temp.ms('2015-11-09 04:30+00'), pg_temp.ms('2015-11-09 05:30+00'), 'Monday after the late DST end of 2015-11-08 (+02): local 06:30-07:30, ah 0.5h ww 0.5h', 1, false, NULL, 14, 'M-015'),
 (2, pg_temp.ms('2016-03-28 03:00+00'), pg_temp.ms('2016-03-28 06:00+00'), 'Monday after DST start: 06:00-09:00 local (+03)', 1, false, NULL, 14, 'M-016'),
 (2, pg_temp.ms('2015-02-02 04:00+00'), pg_temp.ms('2015-02-02 06:00+00'), 'winter +02: 06:00-08:00 local, ah 1h ww 1h (a fixed +03 gets it wrong)', 1, false, NULL, 14, 'M-016'),
 (3, -5 * 3600000::bigint, 1800000, 'before 1970 (negative epoch ms), no rate yet -> cost 0', 1, false, NULL, 14, 'M-017'),
 (6, pg_temp.ms('2025-03-19 08:00+03'), pg_temp.ms('2025-03-19 12:00+03'), 'user without wage rate -> cost 0', 1, false, NULL, 14, 'M-018'),
 (7, pg_temp.ms('2025-03-31 21:30+00'), pg_temp.ms('2025-03-31 23:30+00'), 'local date 2025-04-01 -> rate 230, not 210', 1, false, NULL, 14, 'M-019'),
 (4, pg_temp.ms('2025-03-24 00:00+03'), pg_temp.ms('2025-03-31 00:00+03'), 'one full week: 168 h', 1, false, NULL, 14, 'M-020'),
 (4, pg_temp.ms('2024-05-31 21:30+00'), pg_temp.ms('2024-05-31 23:30+00'), 'local date 2024-06-01 (Saturday) -> rate 150 applies', 1, false, NULL, 14, 'M-021'),
 (3, pg_temp.ms('2025-03-19 09:00:00.123+03'), pg_temp.ms('2025-03-19 09:17:00.456+03'), 'odd milliseconds', 1, false, NULL, 14, 'M-022'),
 -- not source rows (other content types): never modified
 (2, pg_temp.ms('2025-03-25 08:00+03'), pg_temp.ms('2025-03-25 10:00+03'), 'native op', 3, false, NULL, 21, 'OP-N-001-1'),
 (3, pg_temp.ms('2025-03-25 08:00+03'), pg_temp.ms('2025-03-25 09:00+03'), 'native op', 1, false, NULL, 21, 'OP-N-001-2'),
 (4, pg_temp.ms('2025-03-25 08:00+03'), pg_temp.ms('2025-03-25 11:00+03'), 'native op M-202', 2, false, NULL, 21, 'M-202'),
 (6, pg_temp.ms('2025-03-25 08:00+03'), pg_temp.ms('2025-03-25 08:45+03'), 'native op M-203', NULL, false, NULL, 21, 'M-203'),
 (7, pg_temp.ms('2025-03-25 08:00+03'), pg_temp.ms('2025-03-25 08:45+03'), 'native op m-205', NULL, false, NULL, 21, 'm-205'),
 (2, pg_temp.ms('2025-03-25 08:00+03'), pg_temp.ms('2025-03-25 09:00+03'), 'decoy content type machining/Task', NULL, false, NULL, 16, 'M-001'),
 (2, pg_temp.ms('2025-03-25 08:00+03'), pg_temp.ms('2025-03-25 09:00+03'), 'content type tasks/part', NULL, false, NULL, 12, 'PT-N-001'),
 (3, pg_temp.ms('2025-03-25 08:00+03'), pg_temp.ms('2025-03-25 09:00+03'), 'content type machining/taskcomment', NULL, false, NULL, 15, 'M-002');

-- ---------------------------------------------------------------- legacy cost aggregates (copied as-is)
-- M-001..M-080 (migrated), with a few odd values: EUR currency, NULL job_no, extreme numerics,
-- infinite / pre-1970 updated_at, a total that is not the sum (legacy data is copied, not judged)
INSERT INTO machining_jobcostagg (task_id, job_no, currency, hours_ww, hours_ah, hours_su,
  cost_ww, cost_ah, cost_su, total_cost, updated_at)
SELECT 'M-' || lpad(g::text, 3, '0'),
       CASE WHEN g = 6 THEN NULL ELSE 'J-2025-' || lpad((1 + g / 8)::text, 3, '0') END,
       CASE WHEN g = 5 THEN 'EUR' ELSE 'TRY' END,
       CASE WHEN g = 7 THEN 99999999.9999 ELSE (g % 7) * 1.25 END, (g % 3) * 0.5,
       CASE WHEN g % 10 = 0 THEN 2.0 ELSE 0 END,
       CASE WHEN g = 7 THEN 9999999999999999.99 ELSE (g % 7) * 1.25 * 200 END, (g % 3) * 0.5 * 300,
       CASE WHEN g % 10 = 0 THEN 800 ELSE 0 END,
       CASE WHEN g = 7 THEN 9999999999999999.99 WHEN g = 9 THEN 1.23
            ELSE (g % 7) * 1.25 * 200 + (g % 3) * 0.5 * 300 + CASE WHEN g % 10 = 0 THEN 800 ELSE 0 END END,
       CASE WHEN g = 8 THEN 'infinity'::timestamptz WHEN g = 11 THEN timestamptz '1969-06-30 12:00:00+02'
            ELSE timestamptz '2025-03-31 23:00:00.5+03' + g * interval '1 minute' END
FROM generate_series(1, 80) AS g;
INSERT INTO machining_jobcostagg (task_id, job_no, currency, hours_ww, cost_ww, total_cost, updated_at) VALUES
 ('M-201', 'J-E-201', 'TRY', 3.0, 600, 600, '2025-03-31 23:00:00+03'),                 -- task_rejected
 ('M-202', 'J-E-202', 'TRY', 2.5, 500, 500, '2025-03-31 23:00:00+03'),                 -- task_rejected
 ('L' || repeat('x', 252), 'J-E', 'TRY', 2.0, 400, 400, '2025-03-31 23:00:00+03'),     -- task_rejected
 ('M-998', 'J-OLD', 'TRY', 1.0, 200, 200, '2024-12-31 23:00:00+03'),                   -- orphan_task
 ('m-002', 'J-2025-001', 'TRY', 1.0, 200, 200, '2025-03-31 23:00:00+03'),              -- orphan_task (case)
 ('B-' || repeat('ş', 250), NULL, 'TRY', 3.0, 600, 600, '2025-03-31 23:00:00+03');     -- migrated (boundary key)

-- per-user rows: M-001..M-060 x 2 users (migrated), then the edges
INSERT INTO machining_jobcostagguser (task_id, user_id, currency, hours_ww, hours_ah, hours_su,
  cost_ww, cost_ah, cost_su, total_cost, updated_at)
SELECT 'M-' || lpad((1 + g / 2)::text, 3, '0'), (ARRAY[2, 3, 4, 6, 7])[1 + (g + g / 2) % 5], 'TRY',
       (g % 5) * 0.75, (g % 2) * 0.5, 0, (g % 5) * 0.75 * 200, (g % 2) * 0.5 * 300, 0,
       (g % 5) * 0.75 * 200 + (g % 2) * 0.5 * 300,
       timestamptz '2025-03-31 23:30:00+03' + g * interval '1 minute'
FROM generate_series(0, 119) AS g;
INSERT INTO machining_jobcostagguser (task_id, user_id, currency, hours_ww, cost_ww, total_cost, updated_at) VALUES
 ('M-061', 5,   'TRY', 1.0, 200, 200, '2025-03-31 23:30:00+03'),   -- orphan_user (deleted user)
 ('M-062', 0,   'TRY', 1.0, 200, 200, '2025-03-31 23:30:00+03'),   -- orphan_user
 ('M-063', 999, 'TRY', 1.0, 200, 200, '2025-03-31 23:30:00+03'),   -- orphan_user
 ('M-201', 2,   'TRY', 3.0, 600, 600, '2025-03-31 23:30:00+03'),   -- task_rejected
 ('M-203', 3,   'TRY', 1.0, 200, 200, '2025-03-31 23:30:00+03'),   -- task_rejected
 (repeat('Z', 255), 4, 'TRY', 1.0, 200, 200, '2025-03-31 23:30:00+03'), -- task_rejected
 ('M-998', 2,   'TRY', 1.0, 200, 200, '2024-12-31 23:30:00+03'),   -- orphan_task
 ('M-001 ', 3,  'TRY', 1.0, 200, 200, '2025-03-31 23:30:00+03'),   -- orphan_task (trailing space)
 (E'M-''Q''\\', 7, 'TRY', 0.5, 100, 100, '2025-03-31 23:30:00+03'); -- migrated (odd key)
COMMIT;
