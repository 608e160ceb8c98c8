-- Expected outcome of scripts/assignments.lua, computed straight from its mapping rules
-- (docs/assignments.md). Read-only. Run it on the freshly loaded legacy database (or
-- after a run: S is the backup mig_backup_assignments.parts whenever it exists, as the migration does).
--   psql -X -v ON_ERROR_STOP=1 -d DB -f examples/assignments/expected.sql
-- Query 1: counts for source set "parts"; 2: expected rejects; 3: expected job_assignments rows;
-- 4 (only if job_assignments already exists): source rows whose row is already there
-- (counted as migrated, but not written).

SELECT to_regclass('mig_backup_assignments.parts') IS NOT NULL AS has_backup,
       to_regclass('job_assignments') IS NOT NULL AS has_target \gset
\if :has_backup
  \set S mig_backup_assignments.parts
\else
  \set S parts
\endif
-- assigned_at may be missing (older installs): read it through to_jsonb, as the spec's checks do.

-- 1. counts for source set "parts"
WITH s AS (
  SELECT p.id, p.assigned_to,
         CASE WHEN NOT EXISTS (SELECT 1 FROM parts l WHERE l.id = p.id) THEN 'part_missing'
              WHEN NOT EXISTS (SELECT 1 FROM users u WHERE u.id = p.assigned_to) THEN 'orphan_user' END AS reason,
         CASE lower(btrim(p.status)) WHEN 'completed' THEN 'completed'
              WHEN 'in_progress' THEN 'in_progress' ELSE 'pending' END AS status,
         (to_jsonb(p) ->> 'assigned_at') IS NULL AS assigned_at_from_created
  FROM :S p WHERE p.assigned_to IS NOT NULL)
SELECT 'parts' AS source_set,
       count(*) AS source,
       count(*) FILTER (WHERE reason IS NULL) AS expected_migrated,
       count(*) FILTER (WHERE reason IS NOT NULL) AS expected_rejected,
       count(*) FILTER (WHERE reason = 'part_missing') AS rejected_part_missing,
       count(*) FILTER (WHERE reason = 'orphan_user') AS rejected_orphan_user,
       count(*) FILTER (WHERE reason IS NULL AND status = 'pending') AS migrated_pending,
       count(*) FILTER (WHERE reason IS NULL AND status = 'in_progress') AS migrated_in_progress,
       count(*) FILTER (WHERE reason IS NULL AND status = 'completed') AS migrated_completed,
       count(*) FILTER (WHERE reason IS NULL AND assigned_at_from_created) AS migrated_assigned_at_from_created_at
FROM s;

-- 2. expected rejects (source_table 'parts', source_key = part id)
SELECT 'parts' AS source_table, p.id::text AS source_key,
       CASE WHEN NOT EXISTS (SELECT 1 FROM parts l WHERE l.id = p.id) THEN 'part_missing' ELSE 'orphan_user' END AS reason,
       p.assigned_to
FROM :S p
WHERE p.assigned_to IS NOT NULL
  AND (NOT EXISTS (SELECT 1 FROM parts l WHERE l.id = p.id) OR NOT EXISTS (SELECT 1 FROM users u WHERE u.id = p.assigned_to))
ORDER BY p.id;

-- 3. expected job_assignments rows (id is not significant)
SELECT p.id AS part_id, p.assigned_to AS user_id,
       CASE lower(btrim(p.status)) WHEN 'completed' THEN 'completed'
            WHEN 'in_progress' THEN 'in_progress' ELSE 'pending' END AS status,
       COALESCE((to_jsonb(p) ->> 'assigned_at')::timestamp, p.created_at) AS assigned_at,
       p.started_at, p.completed_at
FROM :S p
WHERE p.assigned_to IS NOT NULL
  AND EXISTS (SELECT 1 FROM parts l WHERE l.id = p.id) AND EXISTS (SELECT 1 FROM users u WHERE u.id = p.assigned_to)
ORDER BY p.id;

\if :has_target
-- 4. migrated source rows whose (part_id, user_id) row already exists (left untouched, not written)
SELECT count(*) AS already_present FROM :S p
WHERE p.assigned_to IS NOT NULL
  AND EXISTS (SELECT 1 FROM parts l WHERE l.id = p.id) AND EXISTS (SELECT 1 FROM users u WHERE u.id = p.assigned_to)
  AND EXISTS (SELECT 1 FROM job_assignments j WHERE j.part_id = p.id AND j.user_id = p.assigned_to);
\endif
