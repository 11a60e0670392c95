-- User-defined types: enums map to strings, arrays of enums to arrays of
-- strings, domains to the mapping of their base type (also through a domain
-- over a domain and arrays of a domain).
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy', 'very happy', 'NULL');
CREATE DOMAIN posint AS int CHECK (VALUE > 0);
CREATE DOMAIN small_posint AS posint CHECK (VALUE < 100);
CREATE DOMAIN amount AS numeric(12, 2);
CREATE DOMAIN email AS text CHECK (VALUE LIKE '%@%');
CREATE DOMAIN doc AS jsonb;
CREATE DOMAIN int_list AS int[];
CREATE DOMAIN flag AS bool;
CREATE DOMAIN happened_at AS timestamptz;
CREATE TABLE profiles (
  id int PRIMARY KEY,
  m mood,
  moods mood[],
  n posint,
  small small_posint,
  total amount,
  mail email,
  d doc,
  l int_list,
  ns posint[],
  f flag,
  at happened_at
);

-- workload
INSERT INTO profiles VALUES (
  1, 'happy', '{sad,"very happy",NULL,"NULL"}', 7, 99, 19.9, 'ada@example.com',
  '{"tier": "gold", "tags": ["a", "b"]}', '{1,2,3}', '{4,5}', true,
  '2026-11-21 12:00:00+02');
INSERT INTO profiles VALUES (2, 'very happy', '{}', NULL, NULL, -0.5, NULL, 'null', '{}', NULL, false, NULL);
UPDATE profiles SET m = 'NULL', n = 8 WHERE id = 1;
INSERT INTO profiles (id) VALUES (3);
