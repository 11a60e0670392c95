-- Insert, update, delete with REPLICA IDENTITY DEFAULT (orders, kinds) and FULL (audit).
INSERT INTO orders VALUES (1, 'pending', 19.90, false, ARRAY['a b', 'c"d', NULL, 'NULL'],
  '{"tier": "gold", "n": [1, 2]}', '\x00ff10', '2026-11-21 10:00:00.123+00', 'happy',
  repeat('toast-me ', 1000));
-- The note is not changed: pgoutput sends it as unchanged TOAST ('u').
UPDATE orders SET status = 'paid', paid = true WHERE id = 1;
-- The key changes: the old key is sent ('K').
UPDATE orders SET id = 2 WHERE id = 1;
DELETE FROM orders WHERE id = 2;
INSERT INTO audit VALUES (10, 'first', repeat('big ', 2000));
-- FULL: the whole old row is sent ('O').
UPDATE audit SET body = 'second' WHERE id = 10;
DELETE FROM audit WHERE id = 10;
INSERT INTO kinds VALUES (7, 9223372036854775807, 'NaN', 1.5, '2026-11-21 10:00:00',
  '0044-03-15 BC', '1 day 02:03:04', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{1,2,3}',
  ARRAY['{"a": 1}'::jsonb, 'null'], '[0:1][1:2]={{1,2},{3,4}}');
INSERT INTO kinds (id, f8, f4) VALUES (8, '-Infinity', 1e30), (9, 1.5e-7, NULL);
-- Several changes and a transactional logical message in one transaction.
BEGIN;
INSERT INTO orders (id, status) VALUES (3, 'new');
SELECT pg_logical_emit_message(true, 'sluice:transaction_annotations.set', '{"user": "ann"}');
INSERT INTO orders (id, status) VALUES (4, 'new');
COMMIT;
SELECT pg_logical_emit_message(false, 'capture.nontransactional', 'hello');
-- Schema changes mid-stream: each makes pgoutput send a new Relation.
ALTER TABLE orders ADD COLUMN extra int;
INSERT INTO orders (id, status, extra) VALUES (5, 'new', 42);
ALTER TABLE orders DROP COLUMN paid;
INSERT INTO orders (id, status, extra) VALUES (6, 'new', 43);
TRUNCATE audit;
TRUNCATE orders, kinds RESTART IDENTITY CASCADE;
-- A transaction replayed from a replication origin: pgoutput sends Origin.
SELECT pg_replication_origin_session_setup('capture_origin');
BEGIN;
SELECT pg_replication_origin_xact_setup('0/AB12CD', '2026-11-21 10:00:00+00');
INSERT INTO orders (id, status) VALUES (7, 'replicated');
COMMIT;
SELECT pg_replication_origin_session_reset();
