-- examples/lot_traceability/enum_conflict.sql — add-on, load after small.sql: the database already
-- has two of the migration's enum types. audit_action has exactly the spec's labels (accepted);
-- batch_status has others, and a column of an unrelated table uses it. The seed's answer (DROP
-- TYPE … CASCADE) would drop shift_plans.state with its data; the migration refuses the run
-- (exit 2) and names the type, the labels found and the labels wanted.
BEGIN;
CREATE TYPE audit_action AS ENUM ('CREATE', 'UPDATE', 'DELETE', 'MIGRATE');
CREATE TYPE batch_status AS ENUM ('PLANNED', 'RUNNING', 'DONE');
CREATE TABLE shift_plans (id integer PRIMARY KEY, state batch_status NOT NULL);
INSERT INTO shift_plans VALUES (1, 'PLANNED'), (2, 'RUNNING'), (3, 'DONE');
COMMIT;
