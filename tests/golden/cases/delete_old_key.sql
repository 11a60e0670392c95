-- delete: the record is the old row as Postgres logs it. DEFAULT: the primary
-- key columns, the others null. FULL: the whole old row. USING INDEX: the
-- columns of that unique index, the others null. Without a primary key,
-- record_pks come from the replica identity index, in its key order
-- (region, code), like a primary key's.
CREATE TABLE d_default (id int PRIMARY KEY, name text, qty int);
CREATE TABLE d_full (id int PRIMARY KEY, name text, qty int);
ALTER TABLE d_full REPLICA IDENTITY FULL;
CREATE TABLE d_index (code text NOT NULL, region int NOT NULL, name text, qty int);
CREATE UNIQUE INDEX d_index_code_region ON d_index (region, code);
ALTER TABLE d_index REPLICA IDENTITY USING INDEX d_index_code_region;
INSERT INTO d_default VALUES (1, 'one', 1), (2, 'two', 2);
INSERT INTO d_full VALUES (1, 'one', 1), (2, NULL, 2);
INSERT INTO d_index VALUES ('a', 1, 'one', 1), ('b', 2, 'two', 2);

-- workload
DELETE FROM d_default WHERE id = 1;
DELETE FROM d_full WHERE id = 1;
DELETE FROM d_full WHERE id = 2;
UPDATE d_index SET qty = 10 WHERE code = 'a';
DELETE FROM d_index WHERE code = 'a';
BEGIN;
DELETE FROM d_default WHERE id = 2;
DELETE FROM d_index WHERE code = 'b';
COMMIT;
