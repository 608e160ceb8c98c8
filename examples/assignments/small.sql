-- examples/assignments/small.sql — the project's small legacy database for scripts/assignments.lua
-- (docs/assignments.md). Its schema is the legacy one the migration expects.
-- Load into an empty database:  psql -X -v ON_ERROR_STOP=1 -d DB -f examples/assignments/small.sql
--                          or:  mighost sandbox --fixture examples/assignments/small.sql
-- Optional add-ons, loaded after it (see their headers): app_assignments.sql (job_assignments already
-- has application rows), older_install.sql (no parts.assigned_at), part_missing.sql (snapshot taken,
-- then parts deleted: the part_missing reject).
--
-- Contents: 8 users (ids 1-5, 7-9; 6 and 10 deleted; 8 inactive), 83 parts, 34 time logs.
--   parts 1..50   ordinary: 10 unassigned (every 5th: not source rows), 40 assigned to existing users
--                 -> migrated; 10 of them without assigned_at, 4 with NULL status
--   101, 102      assigned_to NULL (stale assigned_at / a status): not source rows
-- Rule 2 orphan_user (6): 110 user 6 (id gap) · 111 user 10 (beyond max id) · 112 user 0 · 113 user -1
--                 · 114 user 2147483647 · 115 user -2147483648 (with status ' Completed ')
-- Rule 3 status = lower(btrim(status)), btrim strips spaces only (14):
--   120 ' Completed ' -> completed   121 'COMPLETED' -> completed   122 'In_Progress' -> in_progress
--   123 '   in_progress' -> in_progress   124 'in progress' -> pending   125 'in-progress' -> pending
--   126 E'\tcompleted' -> pending   127 E'completed\n' -> pending   128 '' -> pending   129 NULL -> pending
--   130 'done' -> pending   131 'cancelled' -> pending   132 'Pending' -> pending
--   133 'completed' + NO-BREAK SPACE -> pending
-- Rule 3 assigned_at = COALESCE(assigned_at, created_at), timestamps copied (7):
--   140 no assigned_at, created_at with µs   141 no assigned_at, created_at 'infinity'
--   142 no assigned_at, created_at '-infinity'   143 all timestamps before 1970
--   144 assigned_at 'infinity', started_at '-infinity', completed_at 'infinity'
--   145 completed_at before started_at (copied, not judged)   146 assigned_at 0001-01-01 BC
-- Rule 3 other (4): 150 inactive user 8 (not an orphan) · 151 name with quotes, backslash, tab,
--   newline, combining mark, RTL, emoji; '' job_number/description · 152 255-character Unicode name,
--   INT max quantity/sequence_order, long description · 153 job with time logs
-- No fixups exist in this migration. parts.status itself is never changed.
--
-- Expected counts (derived by hand from spec §3; expected.sql recomputes them with SQL):
--   source set | source | migrated | rejected | part_missing | orphan_user
--   parts      |     71 |       65 |        6 |            0 |           6
--   migrated statuses: pending 32, in_progress 19, completed 14; assigned_at taken from created_at: 14
--   job_assignments after the run: 65 rows; parts keeps all 83 rows.
BEGIN;
CREATE TABLE users (
  id            serial PRIMARY KEY,
  username      varchar(50)  NOT NULL UNIQUE,
  password_hash varchar(255) NOT NULL,
  full_name     varchar(100),
  role          varchar(20)  NOT NULL DEFAULT 'operator'
                CHECK (role IN ('admin','supervisor','operator')),
  is_active     boolean      NOT NULL DEFAULT true,
  created_at    timestamp    NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE parts (                       -- a "job"
  id             serial PRIMARY KEY,
  name           varchar(255) NOT NULL,
  job_number     varchar(50),
  description    text,
  quantity       integer NOT NULL DEFAULT 1,
  sequence_order integer NOT NULL DEFAULT 0, -- next job unlocks in this order
  status         varchar(20) DEFAULT 'pending', -- free text, NULL allowed
  assigned_to    integer,                  -- NO foreign key: may point to a deleted user
  assigned_at    timestamp,                -- optional: older installs lack this column
  started_at     timestamp,
  completed_at   timestamp,
  created_at     timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX idx_parts_assigned_to ON parts(assigned_to);
CREATE INDEX idx_parts_sequence ON parts(sequence_order);
CREATE TABLE time_logs (
  id         serial PRIMARY KEY,
  part_id    integer NOT NULL REFERENCES parts(id) ON DELETE CASCADE,
  user_id    integer NOT NULL REFERENCES users(id),
  start_time timestamp NOT NULL,
  end_time   timestamp,
  notes      text
);
CREATE INDEX idx_time_logs_part ON time_logs(part_id);

-- ---------------------------------------------------------------- users (ids 6 and 10 were deleted)
INSERT INTO users (id, username, password_hash, full_name, role, is_active, created_at) VALUES
 (1, 'admin',      '$2b$10$adminhashadminhashadminhashadminhashadminhashadmi', 'Site Admin',      'admin',      true,  '2025-01-02 08:00:00'),
 (2, 'supervisor', '$2b$10$superhashsuperhashsuperhashsuperhashsuperhashsupe', 'Sam O''Supervise', 'supervisor', true,  '2025-01-02 08:05:00'),
 (3, 'op_anna',    '$2b$10$annahashannahashannahashannahashannahashannahash', 'Anna Meyer',      'operator',   true,  '2025-01-03 07:00:00'),
 (4, 'op_ben',     '$2b$10$benhashbenhashbenhashbenhashbenhashbenhashbenhas', 'Ben Ortiz',       'operator',   true,  '2025-01-03 07:00:00'),
 (5, 'op_chen',    '$2b$10$chenhashchenhashchenhashchenhashchenhashchenhash', '陈丽',            'operator',   true,  '2025-01-03 07:00:00'),
 (7, 'op_zoë',     '$2b$10$zoehashzoehashzoehashzoehashzoehashzoehashzoehas', NULL,              'operator',   true,  '2025-02-10 07:00:00'),
 (8, 'op_emil',    '$2b$10$emilhashemilhashemilhashemilhashemilhashemilhash', 'Emil Novák',      'operator',   false, '2025-02-10 07:00:00'),
 (9, 'op_fay',     '$2b$10$fayhashfayhashfayhashfayhashfayhashfayhashfayhas', 'Fay Brooks',      'operator',   true,  '2025-03-01 07:00:00');
SELECT setval('users_id_seq', 10);

-- ---------------------------------------------------------------- parts 1..50: ordinary jobs
-- every 5th unassigned (10 parts, not source rows); the other 40 assigned to existing users
-- (3,4,5,7,8,9 — 8 is inactive, which is not an orphan); every 4th lacks assigned_at; every 9th NULL status.
INSERT INTO parts (id, name, job_number, description, quantity, sequence_order, status,
                   assigned_to, assigned_at, started_at, completed_at, created_at)
SELECT g,
       (ARRAY['Housing','Cover Plate','Shaft','Bracket','Flange','Spacer'])[1 + g % 6] || ' ' || g,
       CASE WHEN g % 7 = 0 THEN NULL ELSE 'J-2025-' || lpad((1 + g / 10)::text, 3, '0') END,
       CASE WHEN g % 4 = 0 THEN NULL ELSE 'Machine per drawing rev ' || (g % 3) END,
       1 + g % 5,
       g % 12,
       CASE WHEN g % 9 = 0 THEN NULL
            WHEN g % 3 = 0 THEN 'completed'
            WHEN g % 3 = 1 THEN 'pending'
            ELSE 'in_progress' END,
       CASE WHEN g % 5 = 0 THEN NULL ELSE (ARRAY[3, 4, 5, 7, 8, 9])[1 + g % 6] END,
       CASE WHEN g % 5 = 0 OR g % 4 = 0 THEN NULL
            ELSE timestamp '2025-04-01 08:00:00' + g * interval '3 hours 10 minutes' END,
       CASE WHEN g % 3 IN (0, 2) AND g % 9 <> 0 THEN timestamp '2025-04-02 07:30:00' + g * interval '3 hours' END,
       CASE WHEN g % 3 = 0 AND g % 9 <> 0 THEN timestamp '2025-04-02 15:00:00.5' + g * interval '3 hours' END,
       timestamp '2025-03-30 12:00:00' + g * interval '1 hour'
FROM generate_series(1, 50) AS g;

-- ---------------------------------------------------------------- edge parts (ids 101..)
INSERT INTO parts (id, name, job_number, description, quantity, sequence_order, status,
                   assigned_to, assigned_at, started_at, completed_at, created_at) VALUES
 -- not source rows (assigned_to NULL), even with a stale assigned_at / a status
 (101, 'Unassigned, stale assigned_at', 'J-E-101', NULL, 1, 0, 'pending',   NULL, '2025-04-01 09:00:00', NULL, NULL, '2025-03-01 00:00:00'),
 (102, 'Unassigned, completed',         'J-E-102', NULL, 1, 0, 'completed', NULL, NULL, '2025-04-01 09:00:00', '2025-04-01 10:00:00', '2025-03-01 00:00:00'),
 -- rule 2 orphan_user: assigned_to has no users row (6 rows)
 (110, 'Deleted user 6 (id gap)',      'J-E-110', NULL, 1, 1, 'pending',     6,           '2025-04-05 09:00:00', NULL, NULL, '2025-03-02 00:00:00'),
 (111, 'Deleted user 10 (beyond max)', 'J-E-111', NULL, 1, 1, 'in_progress', 10,          '2025-04-05 09:00:00', '2025-04-05 10:00:00', NULL, '2025-03-02 00:00:00'),
 (112, 'User 0',                       'J-E-112', NULL, 1, 1, 'pending',     0,           NULL, NULL, NULL, '2025-03-02 00:00:00'),
 (113, 'User -1',                      'J-E-113', NULL, 1, 1, NULL,          -1,          NULL, NULL, NULL, '2025-03-02 00:00:00'),
 (114, 'User INT max',                 'J-E-114', NULL, 1, 1, 'pending',     2147483647,  NULL, NULL, NULL, '2025-03-02 00:00:00'),
 (115, 'User INT min, completed',      'J-E-115', NULL, 1, 1, ' Completed ', -2147483648, '2025-04-05 09:00:00', '2025-04-05 10:00:00', '2025-04-05 11:00:00', '2025-03-02 00:00:00'),
 -- rule 3, status = lower(btrim(status, ' ')) mapped; btrim strips spaces only
 (120, 'Status '' Completed ''',      'J-E-120', NULL, 1, 2, ' Completed ',     3, '2025-04-06 09:00:00', '2025-04-06 10:00:00', '2025-04-06 11:00:00', '2025-03-03 00:00:00'),
 (121, 'Status COMPLETED',            'J-E-121', NULL, 1, 2, 'COMPLETED',       4, '2025-04-06 09:00:00', NULL, '2025-04-06 11:00:00', '2025-03-03 00:00:00'),
 (122, 'Status In_Progress',          'J-E-122', NULL, 1, 2, 'In_Progress',     5, '2025-04-06 09:00:00', '2025-04-06 10:00:00', NULL, '2025-03-03 00:00:00'),
 (123, 'Status ''   in_progress''',   'J-E-123', NULL, 1, 2, '   in_progress',  7, '2025-04-06 09:00:00', '2025-04-06 10:00:00', NULL, '2025-03-03 00:00:00'),
 (124, 'Status ''in progress''',      'J-E-124', NULL, 1, 2, 'in progress',     9, '2025-04-06 09:00:00', '2025-04-06 10:00:00', NULL, '2025-03-03 00:00:00'),
 (125, 'Status in-progress',          'J-E-125', NULL, 1, 2, 'in-progress',     3, '2025-04-06 09:00:00', '2025-04-06 10:00:00', NULL, '2025-03-03 00:00:00'),
 (126, 'Status TAB completed',        'J-E-126', NULL, 1, 2, E'\tcompleted',    4, '2025-04-06 09:00:00', NULL, NULL, '2025-03-03 00:00:00'),
 (127, 'Status completed LF',         'J-E-127', NULL, 1, 2, E'completed\n',    5, '2025-04-06 09:00:00', NULL, NULL, '2025-03-03 00:00:00'),
 (128, 'Status empty string',         'J-E-128', NULL, 1, 2, '',                7, '2025-04-06 09:00:00', NULL, NULL, '2025-03-03 00:00:00'),
 (129, 'Status NULL',                 'J-E-129', NULL, 1, 2, NULL,              9, '2025-04-06 09:00:00', NULL, NULL, '2025-03-03 00:00:00'),
 (130, 'Status done',                 'J-E-130', NULL, 1, 2, 'done',            3, '2025-04-06 09:00:00', NULL, '2025-04-06 12:00:00', '2025-03-03 00:00:00'),
 (131, 'Status cancelled',            'J-E-131', NULL, 1, 2, 'cancelled',       4, '2025-04-06 09:00:00', NULL, NULL, '2025-03-03 00:00:00'),
 (132, 'Status Pending',              'J-E-132', NULL, 1, 2, 'Pending',         5, '2025-04-06 09:00:00', NULL, NULL, '2025-03-03 00:00:00'),
 (133, 'Status completed NBSP',       'J-E-133', NULL, 1, 2, E'completed\u00a0', 7, '2025-04-06 09:00:00', NULL, NULL, '2025-03-03 00:00:00'),
 -- rule 3, assigned_at = COALESCE(assigned_at, created_at), never now(); timestamps copied as they are
 (140, 'No assigned_at, µs created_at', 'J-E-140', NULL, 1, 3, 'pending',     3, NULL, NULL, NULL, '2025-01-01 12:34:56.123456'),
 (141, 'No assigned_at, created +inf',  'J-E-141', NULL, 1, 3, 'pending',     4, NULL, NULL, NULL, 'infinity'),
 (142, 'No assigned_at, created -inf',  'J-E-142', NULL, 1, 3, 'in_progress', 5, NULL, '2025-04-07 08:00:00', NULL, '-infinity'),
 (143, 'Pre-1970 timestamps',           'J-E-143', NULL, 1, 3, 'completed',   7, '1969-07-20 20:17:40', '1969-07-21 02:56:15', '1969-07-24 16:50:35.999999', '1969-01-01 00:00:00'),
 (144, 'Infinite timestamps',           'J-E-144', NULL, 1, 3, 'in_progress', 9, 'infinity', '-infinity', 'infinity', '2025-03-04 00:00:00'),
 (145, 'completed before started',      'J-E-145', NULL, 1, 3, 'completed',   3, '2025-04-08 09:00:00', '2025-04-09 09:00:00', '2025-04-08 10:00:00', '2025-03-04 00:00:00'),
 (146, 'BC timestamp',                  'J-E-146', NULL, 1, 3, 'pending',     4, '0001-01-01 00:00:00 BC', NULL, NULL, '2025-03-04 00:00:00'),
 -- rule 3, other edges
 (150, 'Inactive user (not an orphan)', 'J-E-150', NULL, 1, 4, 'in_progress', 8, '2025-04-10 09:00:00', '2025-04-10 09:30:00', NULL, '2025-03-05 00:00:00'),
 (151, E'Name ''quoted'' "double" back\\slash\ttab\nnewline \u00e9\u0301 \u05e2\u05d1\u05e8\u05d9\u05ea \U0001F527', '', '', 0, -1, 'completed', 9,
       '2025-04-10 09:00:00', '2025-04-10 10:00:00', '2025-04-10 11:00:00', '2025-03-05 00:00:00'),
 (152, repeat('Ş', 255), repeat('J', 50), repeat(E'long description \u00e4\u00f6\u00fc ', 500), 2147483647, 2147483647, 'pending', 3,
       NULL, NULL, NULL, '2025-03-05 00:00:00'),
 (153, 'Job with time logs', 'J-E-153', NULL, 3, 5, 'in_progress', 5, '2025-04-11 09:00:00', '2025-04-11 09:05:00', NULL, '2025-03-05 00:00:00');
SELECT setval('parts_id_seq', 200);

-- ---------------------------------------------------------------- time logs (never touched)
INSERT INTO time_logs (part_id, user_id, start_time, end_time, notes)
SELECT 1 + (g * 7) % 50, (ARRAY[3, 4, 5, 7, 8, 9])[1 + g % 6],
       timestamp '2025-04-03 07:00:00' + g * interval '2 hours',
       CASE WHEN g % 15 = 0 THEN NULL ELSE timestamp '2025-04-03 08:30:00' + g * interval '2 hours' END,
       CASE WHEN g % 4 = 0 THEN 'setup included' END
FROM generate_series(1, 30) AS g;
INSERT INTO time_logs (part_id, user_id, start_time, end_time, notes) VALUES
 (153, 5, '2025-04-11 09:05:00', '2025-04-11 12:00:00', E'first shift\nsecond line'),
 (153, 3, '2025-04-11 13:00:00', NULL, NULL),
 (110, 3, '2025-04-05 09:00:00', '2025-04-05 09:30:00', 'logged on an orphan-assigned job'),
 (151, 9, '2025-04-10 10:00:00', '2025-04-10 11:00:00', '');
COMMIT;
