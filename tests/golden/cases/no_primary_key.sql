-- Tables without a primary key. Under REPLICA IDENTITY DEFAULT Postgres only
-- publishes inserts (it refuses UPDATE/DELETE on such a published table), and
-- record_pks is []. Under REPLICA IDENTITY FULL updates and deletes carry the
-- whole old row; record_pks is still [] (there is no key).
CREATE TABLE events_log (kind text, payload jsonb, at timestamptz);
CREATE TABLE nopk_full (a int, b text);
ALTER TABLE nopk_full REPLICA IDENTITY FULL;
INSERT INTO nopk_full VALUES (1, 'x'), (2, 'y'), (2, 'y');

-- workload
INSERT INTO events_log VALUES ('click', '{"x": 1}', '2026-11-21 10:00:00+00'), ('view', NULL, NULL);
INSERT INTO nopk_full VALUES (3, 'z');
UPDATE nopk_full SET b = 'yy' WHERE a = 2;
DELETE FROM nopk_full WHERE a = 1;
