-- The same TOAST value under REPLICA IDENTITY FULL: Postgres logs the whole
-- old row (out-of-line values inlined), so an update that does not touch the
-- large column still delivers its real value, taken from the old row, and
-- changes lists only the columns that changed, with their old values.
CREATE TABLE docs (id int PRIMARY KEY, title text, body text, note text);
ALTER TABLE docs REPLICA IDENTITY FULL;

-- workload
INSERT INTO docs SELECT 1, 'first', string_agg(md5(g::text), '' ORDER BY g), 'n' FROM generate_series(1, 4000) g;
UPDATE docs SET title = 'renamed' WHERE id = 1;
UPDATE docs SET title = 'both', body = body || 'tail' WHERE id = 1;
UPDATE docs SET note = NULL WHERE id = 1;
DELETE FROM docs WHERE id = 1;
