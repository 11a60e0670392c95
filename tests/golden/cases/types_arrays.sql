-- Arrays: quoting and escaping of text elements, NULL elements versus the
-- string 'NULL', 2-D arrays, empty arrays, an explicit lower bound, and arrays
-- of the types with a special mapping (numeric, jsonb, bytea, timestamptz,
-- bool, uuid, float8).
CREATE TABLE arrays (
  id int PRIMARY KEY,
  a_int int[],
  a_text text[],
  a_int2d int[],
  a_text2d text[],
  a_numeric numeric[],
  a_jsonb jsonb[],
  a_bytea bytea[],
  a_tstz timestamptz[],
  a_ts timestamp[],
  a_bool bool[],
  a_uuid uuid[],
  a_float8 float8[],
  a_int8 int8[]
);

-- workload
INSERT INTO arrays VALUES (
  1,
  '{1,-2,NULL,2147483647}',
  ARRAY['plain', 'with space', 'comma,inside', 'quote"inside', E'back\\slash', NULL, 'NULL',
        'null', '', '{braces}', ' padded ', E'new\nline', '√ unicode'],
  '{{1,2},{3,4}}',
  '{{"a b",c},{NULL,"d,e"}}',
  '{1.50,NaN,-0.001,12345678901234567890}',
  ARRAY['{"a": 1}', '[1, "x"]', 'null', '"s"', '{"q": "say \"hi\""}']::jsonb[],
  ARRAY['\xdeadbeef'::bytea, '\x'::bytea, NULL],
  ARRAY['2026-11-21 15:30:00.5+05:30'::timestamptz, 'infinity', NULL],
  ARRAY['2026-11-21 10:00:00.000001'::timestamp, '-infinity'],
  '{t,f,NULL}',
  ARRAY['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid, NULL],
  '{1.5,NaN,Infinity,-Infinity,1e-10}',
  '{9223372036854775807,-9223372036854775808}');
INSERT INTO arrays VALUES (
  2, '{}', '{}', '[0:1]={1,2}', '{{NULL}}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}',
  '[-2:-1]={7,8}');
INSERT INTO arrays (id) VALUES (3);
