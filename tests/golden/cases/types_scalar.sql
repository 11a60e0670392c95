-- Every scalar type of DESIGN §2's value mapping, with edge values, and a row
-- of NULLs. Inputs use explicit offsets so that no session setting matters.
CREATE TABLE scalars (
  id int PRIMARY KEY,
  c_int2 int2,
  c_int4 int4,
  c_int8 int8,
  c_float4 float4,
  c_float8 float8,
  c_numeric numeric,
  c_bool bool,
  c_json json,
  c_jsonb jsonb,
  c_text text,
  c_varchar varchar(20),
  c_char char(5),
  c_uuid uuid,
  c_date date,
  c_time time,
  c_timetz timetz,
  c_interval interval,
  c_inet inet,
  c_cidr cidr,
  c_macaddr macaddr,
  c_bytea bytea,
  c_timestamp timestamp,
  c_timestamptz timestamptz,
  c_money money,
  c_bit bit(4)
);

-- workload
INSERT INTO scalars VALUES (
  1, 32767, 2147483647, 9223372036854775807, 1.5, 1.5e-10, 123.4500, true,
  '{"a": [1, 2, {"b": null}],  "c": "x y"}',
  '{"nested": {"k": [true, false]}, "n": 1.50}',
  E'say "hi"\nline 2\ttab \\ backslash \u00e9 \u2713 \U0001F600',
  'varchar', 'ab', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', '2026-11-21',
  '10:11:12.123456', '10:11:12+05:30', '1 year 2 months 3 days 04:05:06.789',
  '192.168.1.5/24', '10.0.0.0/8', '08:00:2b:01:02:03', '\xdeadbeef',
  '2026-11-21 10:00:00.123456', '2026-11-21 15:30:00.123456+05:30', 1234.56, B'1010');
INSERT INTO scalars VALUES (
  2, -32768, -2147483648, -9223372036854775808, 'NaN', 'Infinity', 'NaN', false,
  '"just a string"', '[1, "two", 3.50, null]', '', 'it''s', 'abcde',
  '00000000-0000-0000-0000-000000000000', '0044-03-15 BC', '00:00:00', '23:59:59.999999-08',
  '-1 days +02:00:00', '::1', '2001:db8::/32', 'ff:ff:ff:ff:ff:ff', '\x',
  'infinity', '-infinity', -1.5, B'0000');
INSERT INTO scalars VALUES (
  3, 0, -1, -42, '-Infinity', 'NaN', '-12345678901234567890.000000001', NULL,
  '[]', '{}', 'plain', '', '', 'ffffffff-ffff-ffff-ffff-ffffffffffff', 'infinity', '24:00:00',
  '00:00:00+00', '0', '0.0.0.0', '0.0.0.0/0', '00:00:00:00:00:00', '\x00ff',
  '-infinity', 'infinity', 0, B'1111');
INSERT INTO scalars VALUES (
  4, 1, 1, 1, 0.1, 0.1, 0, true, 'null', 'null', 'NULL', 'null', 'x', NULL, '2000-02-29',
  '12:00:00.5', '12:00:00.5-03:30', '1 day', '10.1.2.3', '10.1.2.3/32', '01:23:45:67:89:ab',
  '\x00', '2000-01-01 00:00:00', '2000-01-01 00:00:00-00:30', 0.01, B'0101');
INSERT INTO scalars (id) VALUES (5);
