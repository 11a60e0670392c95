-- Composite primary keys: record_pks lists the key values as strings in key
-- order (the order of PRIMARY KEY (...), not of the columns), for uuid and
-- text keys too; a delete under DEFAULT carries the key columns only.
CREATE TABLE memberships (
  org text,
  role text,
  user_id uuid,
  since date,
  PRIMARY KEY (user_id, org)
);
CREATE TABLE pages (tenant int, slug text, title text, PRIMARY KEY (tenant, slug));

-- workload
INSERT INTO memberships VALUES ('acme', 'admin', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '2026-01-02');
UPDATE memberships SET role = 'owner' WHERE org = 'acme';
UPDATE memberships SET org = 'acme, inc.' WHERE org = 'acme';
DELETE FROM memberships WHERE org = 'acme, inc.';
INSERT INTO pages VALUES (1, 'a/b "c" \d', 'title'), (-2, '', 'empty slug'), (3, 'é ✓', NULL);
DELETE FROM pages WHERE tenant = -2;
