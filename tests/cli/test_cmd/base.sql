CREATE TABLE base (id int PRIMARY KEY, note text);
INSERT INTO base VALUES (1, 'a'), (2, NULL);
