-- Add-on for small.sql (load it AFTER small.sql): the multi-assignment release is already deployed —
-- job_assignments exists (spec §2) and the application has written 4 rows of its own:
--   (1, 4)   part 1's legacy assignment, re-entered by a supervisor with exactly the mapped values:
--            counts as migrated, is left untouched and is NOT written again
--   (1, 3)   a second operator on part 1 (multi-assignment): not a source row, untouched
--   (5, 3)   part 5 has no legacy assignment: not a source row, untouched
--   (110, 4) part 110's legacy assignee (user 6) is gone: the source row is still rejected
--            orphan_user; this row is untouched
-- Expected: source 71, migrated 65 (64 written + 1 already present), rejected 6 (orphan_user);
-- job_assignments ends with 68 rows. The ids 1..4 come from the sequence, as the app's would.
--   mighost sandbox --fixture examples/assignments/small.sql --fixture examples/assignments/app_assignments.sql
BEGIN;
CREATE TABLE job_assignments (
  id           serial PRIMARY KEY,
  part_id      integer NOT NULL REFERENCES parts(id) ON DELETE CASCADE,
  user_id      integer NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  status       varchar(20) NOT NULL DEFAULT 'pending'
               CHECK (status IN ('pending','in_progress','completed')),
  assigned_at  timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
  started_at   timestamp,
  completed_at timestamp,
  CONSTRAINT job_assignments_part_user_key UNIQUE (part_id, user_id)
);
CREATE INDEX idx_job_assignments_part_id ON job_assignments(part_id);
CREATE INDEX idx_job_assignments_user_id ON job_assignments(user_id);
CREATE INDEX idx_job_assignments_status  ON job_assignments(status);

-- (1, 4) with the values the mapping gives (part 1: status 'pending', assigned_at set, not started)
INSERT INTO job_assignments (part_id, user_id, status, assigned_at, started_at, completed_at)
SELECT id, assigned_to, 'pending', assigned_at, started_at, completed_at FROM parts WHERE id = 1 AND assigned_to = 4;
INSERT INTO job_assignments (part_id, user_id, status, assigned_at, started_at, completed_at) VALUES
 (1,   3, 'in_progress', '2025-05-01 08:00:00', '2025-05-01 08:30:00', NULL),
 (5,   3, 'pending',     '2025-05-01 09:00:00', NULL, NULL),
 (110, 4, 'completed',   '2025-05-01 10:00:00', '2025-05-01 10:30:00', '2025-05-01 12:00:00');
DO $$ BEGIN
  IF (SELECT count(*) FROM job_assignments) <> 4 THEN RAISE EXCEPTION 'app_assignments.sql: load it after small.sql'; END IF;
END $$;
COMMIT;
