-- examples/assignments/generate.sql — large legacy database for scripts/assignments.lua
-- (docs/assignments.md; the schema ends up identical to small.sql's).
-- Deterministic (no random()): every value is a function of the row number.
-- Scale: psql variable "scale" (default 1 = 200 000 parts, 400 000 time logs, 2 000 user ids), or
-- the environment variable EXAMPLES_SCALE (for mighost sandbox, which cannot pass -v):
--   psql -X -v ON_ERROR_STOP=1 -v scale=0.01 -d DB -f examples/assignments/generate.sql
--   EXAMPLES_SCALE=0.01 mighost sandbox --fixture examples/assignments/generate.sql
-- Users: every 50th id deleted (gap), every 13th inactive (not an orphan).
-- Parts (g = 1..N): every 5th unassigned (not a source row); g%1000 in (11, 12, 13) assigned to a
-- missing user (a deleted id, 0, a negative id) -> orphan_user; every 4th assigned part without
-- assigned_at; statuses include NULL, '', mixed case, padded and unknown values.
-- part_missing cannot occur on a fresh database (see part_missing.sql). Counts: expected.sql.
\if :{?scale}
\else
  \getenv scale EXAMPLES_SCALE
\endif
\if :{?scale}
\else
  \set scale 1
\endif
SELECT greatest(1, round(200000 * :scale))::int AS n_parts,
       greatest(100, round(2000 * :scale))::int AS n_user_ids,
       greatest(1, round(400000 * :scale))::int AS n_logs \gset
SELECT :n_user_ids - :n_user_ids / 50 AS n_users \gset
\echo assignments generator: :n_parts parts, :n_user_ids user ids, :n_logs time logs

BEGIN;
-- Tables as in spec §1; keys, indexes and foreign keys are added after the load (same names).
CREATE TABLE users (
  id            serial,
  username      varchar(50)  NOT NULL,
  password_hash varchar(255) NOT NULL,
  full_name     varchar(100),
  role          varchar(20)  NOT NULL DEFAULT 'operator'
                CHECK (role IN ('admin','supervisor','operator')),
  is_active     boolean      NOT NULL DEFAULT true,
  created_at    timestamp    NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE parts (                       -- a "job"
  id             serial,
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
CREATE TABLE time_logs (
  id         serial,
  part_id    integer NOT NULL,
  user_id    integer NOT NULL,
  start_time timestamp NOT NULL,
  end_time   timestamp,
  notes      text
);

-- user ids 1..n_user_ids except every 50th (deleted); 1 admin, 2 supervisor, the rest operators
INSERT INTO users (id, username, password_hash, full_name, role, is_active, created_at)
SELECT u, CASE WHEN u % 17 = 0 THEN 'op_zoë_' || u ELSE 'op_' || u END,
       '$2b$10$' || md5('pw' || u) || md5('salt' || u),
       CASE WHEN u % 9 = 0 THEN NULL WHEN u % 7 = 0 THEN 'Émil O''Novák ' || u ELSE 'Operator ' || u END,
       CASE u WHEN 1 THEN 'admin' WHEN 2 THEN 'supervisor' ELSE 'operator' END,
       u % 13 <> 0,
       timestamp '2024-01-02 08:00:00' + u * interval '1 hour'
FROM generate_series(1, :n_user_ids) AS u
WHERE u % 50 <> 0;
SELECT setval('users_id_seq', :n_user_ids) AS users_seq \gset

-- existing user ids: k + 1 + k / 49 for k = 0 .. n_users - 1 maps onto 1..n_user_ids without the multiples of 50
INSERT INTO parts (id, name, job_number, description, quantity, sequence_order, status,
                   assigned_to, assigned_at, started_at, completed_at, created_at)
SELECT g,
       (ARRAY['Housing','Cover Plate','Shaft','Bracket','Flange','Spacer','Gehäuse «B»','O''Ring 4"'])[1 + g % 8] || ' ' || g,
       CASE WHEN g % 7 = 0 THEN NULL WHEN g % 101 = 0 THEN '' ELSE 'J-' || (2020 + g % 6) || '-' || lpad((g / 10)::text, 6, '0') END,
       CASE WHEN g % 4 = 0 THEN NULL WHEN g % 97 = 0 THEN E'rev\t2\nsee "notes" \\ drawing' ELSE 'Machine per drawing rev ' || (g % 3) END,
       1 + g % 5,
       g % 12,
       CASE WHEN g % 9 = 0 THEN NULL
            WHEN g % 211 = 0 THEN ''
            WHEN g % 223 = 0 THEN ' Completed '
            WHEN g % 227 = 0 THEN 'IN_PROGRESS'
            WHEN g % 229 = 0 THEN 'in progress'
            WHEN g % 233 = 0 THEN E'\tcompleted'
            WHEN g % 239 = 0 THEN 'done'
            WHEN g % 3 = 0 THEN 'completed'
            WHEN g % 3 = 1 THEN 'pending'
            ELSE 'in_progress' END,
       CASE WHEN g % 5 = 0 THEN NULL
            WHEN g % 1000 = 11 THEN 50 * (1 + g % (:n_user_ids / 50))  -- deleted user id
            WHEN g % 1000 = 12 THEN 0
            WHEN g % 1000 = 13 THEN -1 - g % 3
            ELSE (g * 7) % :n_users + 1 + ((g * 7) % :n_users) / 49 END,
       CASE WHEN g % 5 = 0 OR g % 4 = 0 THEN NULL
            WHEN g % 10007 = 1 THEN 'infinity'::timestamp
            WHEN g % 10007 = 2 THEN timestamp '1969-12-31 23:59:59.999999' - (g % 500) * interval '1 day'
            ELSE timestamp '2024-04-01 08:00:00' + (g % 50000) * interval '13 minutes' END,
       CASE WHEN g % 3 IN (0, 2) AND g % 9 <> 0 THEN timestamp '2024-04-02 07:30:00.25' + (g % 50000) * interval '13 minutes' END,
       CASE WHEN g % 3 = 0 AND g % 9 <> 0 THEN timestamp '2024-04-02 15:00:00.5' + (g % 50000) * interval '13 minutes' END,
       CASE WHEN g % 10007 = 3 THEN '-infinity'::timestamp
            ELSE timestamp '2024-03-30 12:00:00' + (g % 50000) * interval '11 minutes' END
FROM generate_series(1, :n_parts) AS g;
SELECT setval('parts_id_seq', :n_parts) AS parts_seq \gset

INSERT INTO time_logs (id, part_id, user_id, start_time, end_time, notes)
SELECT t, 1 + (t * 7) % :n_parts, (t * 11) % :n_users + 1 + ((t * 11) % :n_users) / 49,
       timestamp '2024-04-03 07:00:00' + (t % 100000) * interval '7 minutes',
       CASE WHEN t % 15 = 0 THEN NULL ELSE timestamp '2024-04-03 08:30:00' + (t % 100000) * interval '7 minutes' END,
       CASE WHEN t % 4 = 0 THEN 'setup included' END
FROM generate_series(1, :n_logs) AS t;
SELECT setval('time_logs_id_seq', :n_logs) AS logs_seq \gset

ALTER TABLE users ADD CONSTRAINT users_pkey PRIMARY KEY (id);
ALTER TABLE users ADD CONSTRAINT users_username_key UNIQUE (username);
ALTER TABLE parts ADD CONSTRAINT parts_pkey PRIMARY KEY (id);
CREATE INDEX idx_parts_assigned_to ON parts(assigned_to);
CREATE INDEX idx_parts_sequence ON parts(sequence_order);
ALTER TABLE time_logs ADD CONSTRAINT time_logs_pkey PRIMARY KEY (id);
ALTER TABLE time_logs ADD CONSTRAINT time_logs_part_id_fkey FOREIGN KEY (part_id) REFERENCES parts(id) ON DELETE CASCADE;
ALTER TABLE time_logs ADD CONSTRAINT time_logs_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id);
CREATE INDEX idx_time_logs_part ON time_logs(part_id);
COMMIT;
ANALYZE;
