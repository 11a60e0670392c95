-- A value stored out of line (TOAST) under REPLICA IDENTITY DEFAULT: an
-- update that does not touch it makes pgoutput send no value, and the record
-- holds the string "unchanged_toast"; changes is {} without FULL. The value is
-- 128000 bytes of hex (md5 of 1..4000), deterministic and too large to be
-- kept inline even when compressed.
CREATE TABLE docs (id int PRIMARY KEY, title text, body text, note text);

-- workload
INSERT INTO docs SELECT 1, 'first', string_agg(md5(g::text), '' ORDER BY g), 'n' FROM generate_series(1, 4000) g;
UPDATE docs SET title = 'renamed' WHERE id = 1;
UPDATE docs SET title = 'both', body = body || 'tail' WHERE id = 1;
UPDATE docs SET note = NULL WHERE id = 1;
DELETE FROM docs WHERE id = 1;
