-- changes: the old values of the columns that changed, under REPLICA IDENTITY
-- FULL; {} under DEFAULT, also when the key changes (pgoutput then sends the
-- old key, not the old row). Columns set to their current value are not
-- changes; NULL -> value and value -> NULL are.
CREATE TABLE acct_full (id int PRIMARY KEY, name text, email text, score int, note text, tags text[], doc jsonb);
ALTER TABLE acct_full REPLICA IDENTITY FULL;
CREATE TABLE acct_default (id int PRIMARY KEY, name text, email text, score int, note text, tags text[], doc jsonb);
INSERT INTO acct_full VALUES (1, 'ada', NULL, 10, 'keep', '{a}', '{"k": 1}');
INSERT INTO acct_default VALUES (1, 'ada', NULL, 10, 'keep', '{a}', '{"k": 1}');

-- workload
UPDATE acct_full SET name = 'ada l', email = 'ada@example.com', score = 10, note = NULL WHERE id = 1;
UPDATE acct_default SET name = 'ada l', email = 'ada@example.com', score = 10, note = NULL WHERE id = 1;
UPDATE acct_full SET tags = '{a,b}', doc = '{"k": 2}' WHERE id = 1;
UPDATE acct_full SET score = score WHERE id = 1;
UPDATE acct_full SET id = 2 WHERE id = 1;
UPDATE acct_default SET id = 2, score = 11 WHERE id = 1;
UPDATE acct_default SET score = 12 WHERE id = 2;
