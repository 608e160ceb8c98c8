SELECT count(*) FROM base WHERE id > 2;
SELECT count(*) FROM base WHERE note IS NULL;
