-- Tables for dml.sql. Runs before the slot is created.
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE orders (
  id int PRIMARY KEY,
  status text NOT NULL,
  total numeric(10,2),
  paid bool,
  tags text[],
  meta jsonb,
  payload bytea,
  created_at timestamptz,
  feeling mood,
  note text
);
-- EXTERNAL: stored out of line without compression, so a long note is TOASTed.
ALTER TABLE orders ALTER COLUMN note SET STORAGE EXTERNAL;
CREATE TABLE audit (id bigint PRIMARY KEY, body text, big text);
ALTER TABLE audit REPLICA IDENTITY FULL;
ALTER TABLE audit ALTER COLUMN big SET STORAGE EXTERNAL;
CREATE TABLE kinds (
  id int2 PRIMARY KEY,
  i8 int8,
  f8 float8,
  f4 float4,
  ts timestamp,
  d date,
  iv interval,
  u uuid,
  ints int4[],
  docs jsonb[],
  grid int[][]
);
CREATE PUBLICATION capture_pub FOR ALL TABLES;
-- Origins are cluster-wide: create it once.
SELECT pg_replication_origin_create('capture_origin')
  WHERE NOT EXISTS (SELECT FROM pg_replication_origin WHERE roname = 'capture_origin');
