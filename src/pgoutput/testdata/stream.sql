-- With logical_decoding_work_mem = 64kB each of these transactions is larger
-- than the limit, so pgoutput streams it (Stream Start .. Stream Stop blocks).
-- 1. Streamed, then committed (Stream Commit), with updates, deletes, a
--    truncate and a transactional message inside the streamed transaction.
BEGIN;
SELECT pg_logical_emit_message(true, 'capture.in_stream', 'streamed message');
INSERT INTO big SELECT g, 'row ' || g, 'ok' FROM generate_series(1, 800) g;
UPDATE big SET payload = 'updated' WHERE id <= 2;
DELETE FROM big WHERE id = 3;
TRUNCATE side;
COMMIT;
-- 2. Streamed, then rolled back (Stream Abort with subxid = xid).
BEGIN;
INSERT INTO big SELECT g, 'row ' || g, 'sad' FROM generate_series(2001, 2600) g;
-- capture: await-stream-stop
ROLLBACK;
-- 3. A savepoint rolled back after its changes were streamed (Stream Abort
--    of the subtransaction), then the top-level transaction commits.
BEGIN;
INSERT INTO big SELECT g, 'row ' || g, 'happy' FROM generate_series(3001, 3400) g;
SAVEPOINT s1;
INSERT INTO big SELECT g, 'row ' || g, 'happy' FROM generate_series(3401, 4000) g;
-- capture: await-stream-stop
ROLLBACK TO SAVEPOINT s1;
INSERT INTO big VALUES (4001, 'after rollback', 'ok');
COMMIT;
