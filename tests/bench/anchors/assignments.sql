-- The anchor of tests/bench/migration_bench.sh for assignments: §3's mapping in one statement,
-- parts assigned to a missing user left out (the script rejects them), in part order as the
-- script writes them.
INSERT INTO job_assignments (part_id, user_id, status, assigned_at, started_at, completed_at)
SELECT p.id, p.assigned_to,
       CASE lower(btrim(p.status)) WHEN 'completed' THEN 'completed' WHEN 'in_progress' THEN 'in_progress'
                                   ELSE 'pending' END,
       COALESCE(p.assigned_at, p.created_at), p.started_at, p.completed_at
  FROM parts p
 WHERE p.assigned_to IS NOT NULL AND EXISTS (SELECT 1 FROM users u WHERE u.id = p.assigned_to)
 ORDER BY p.id;
