-- Transaction annotations: a transactional logical message with prefix
-- sluice:transaction_annotations.set annotates the changes after it in the
-- same transaction, .clear clears, a later .set replaces. The sequin: prefix
-- is accepted too. Invalid JSON is ignored, non-transactional messages do not
-- annotate, and annotations never carry over to the next transaction. JSON
-- written over several lines arrives as the same JSON (and, like every
-- message, without a raw newline).
CREATE TABLE notes (id int PRIMARY KEY, body text);

-- workload
BEGIN;
INSERT INTO notes VALUES (1, 'before');
SELECT pg_logical_emit_message(true, 'sluice:transaction_annotations.set', '{"user":"ada","reason":"refund"}');
INSERT INTO notes VALUES (2, 'after set');
UPDATE notes SET body = 'before, updated after set' WHERE id = 1;
SELECT pg_logical_emit_message(true, 'sluice:transaction_annotations.clear', '');
INSERT INTO notes VALUES (3, 'after clear');
SELECT pg_logical_emit_message(true, 'sluice:transaction_annotations.set', '{"step": 1}');
INSERT INTO notes VALUES (4, 'step 1');
SELECT pg_logical_emit_message(true, 'sluice:transaction_annotations.set', '{"step": 2, "nested": {"a": [1, null]}}');
DELETE FROM notes WHERE id = 4;
COMMIT;
INSERT INTO notes VALUES (5, 'next transaction');
BEGIN;
SELECT pg_logical_emit_message(true, 'sequin:transaction_annotations.set', '{"source": "sequin"}');
INSERT INTO notes VALUES (6, 'sequin prefix');
SELECT pg_logical_emit_message(true, 'sequin:transaction_annotations.clear', '');
INSERT INTO notes VALUES (7, 'sequin cleared');
COMMIT;
BEGIN;
SELECT pg_logical_emit_message(true, 'sluice:transaction_annotations.set', '{not json');
INSERT INTO notes VALUES (8, 'invalid annotation');
COMMIT;
BEGIN;
SELECT pg_logical_emit_message(true, 'sluice:transaction_annotations.set', E'{\n  "user": "ada",\n  "note": "line 1\\nline 2"\n}');
INSERT INTO notes VALUES (9, 'multi-line annotation');
COMMIT;
BEGIN;
SELECT pg_logical_emit_message(false, 'sluice:transaction_annotations.set', '{"transactional": false}');
INSERT INTO notes VALUES (10, 'non-transactional message');
SELECT pg_logical_emit_message(true, 'other:prefix', '{"other": true}');
INSERT INTO notes VALUES (11, 'other prefix');
COMMIT;
