-- Add-on for small.sql (load it AFTER small.sql): an older install whose parts table has no
-- assigned_at column (spec §1: "optional: older installs lack this column"). The backup S then has
-- no assigned_at either, and every migrated row gets assigned_at = parts.created_at.
-- Expected counts are unchanged: source 71, migrated 65, rejected 6 (orphan_user).
--   mighost sandbox --fixture examples/assignments/small.sql --fixture examples/assignments/older_install.sql
ALTER TABLE parts DROP COLUMN assigned_at;
