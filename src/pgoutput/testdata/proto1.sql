-- Protocol 1 without streaming: a large transaction arrives as Begin .. Commit.
INSERT INTO big VALUES (1, 'one', 'ok');
UPDATE big SET payload = 'uno' WHERE id = 1;
BEGIN;
INSERT INTO big SELECT g, 'row ' || g, 'sad' FROM generate_series(2, 400) g;
COMMIT;
DELETE FROM big WHERE id = 1;
