-- Tables for stream.sql. Runs before the slot is created.
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE big (id int PRIMARY KEY, payload text, feeling mood);
CREATE TABLE side (id int PRIMARY KEY);
INSERT INTO side VALUES (1), (2);
CREATE PUBLICATION capture_pub FOR ALL TABLES;
