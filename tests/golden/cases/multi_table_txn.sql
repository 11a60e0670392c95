-- One transaction over three tables, including a truncate: one commit_lsn,
-- commit_idx 0..n in statement order. A TRUNCATE of several tables gives one
-- message per table, each listing every table truncated together.
CREATE TABLE customers (id int PRIMARY KEY, name text);
CREATE TABLE orders (id int PRIMARY KEY, customer_id int, total numeric(10, 2));
CREATE TABLE audit (id int PRIMARY KEY, what text);
INSERT INTO audit VALUES (1, 'old');

-- workload
BEGIN;
INSERT INTO customers VALUES (1, 'ada');
INSERT INTO orders VALUES (10, 1, 19.90);
UPDATE customers SET name = 'ada lovelace' WHERE id = 1;
TRUNCATE audit;
INSERT INTO audit VALUES (2, 'new');
DELETE FROM orders WHERE id = 10;
COMMIT;
INSERT INTO customers VALUES (2, 'bob');
TRUNCATE customers, orders;
