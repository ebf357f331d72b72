-- What the connected role may do beyond reading: its own attributes, the roles it is a member of (directly,
-- or through them), and every grant to it, to one of those roles or to PUBLIC that lets it write a table,
-- create in a schema or in the database; ownership counts as every privilege on what is owned.
-- One row per finding: kind, role (who holds it), via (the directly granted role it comes through), object,
-- privilege; names as quote_ident gives them, ready for a statement. Catalogue reads only.
WITH RECURSIVE me AS (
    SELECT oid, rolname FROM pg_roles WHERE rolname = current_user
), up(oid, via) AS (
    SELECT m.roleid, m.roleid FROM pg_auth_members m WHERE m.member = (SELECT oid FROM me)
    UNION
    SELECT m.roleid, up.via FROM pg_auth_members m JOIN up ON m.member = up.oid
), holders(oid, via) AS (
    SELECT oid, NULL::oid FROM me UNION SELECT oid, via FROM up UNION SELECT 0, NULL::oid
), named AS (
    SELECT h.oid, CASE h.oid WHEN 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(h.oid)) END AS role,
           CASE WHEN h.via IS NULL THEN NULL ELSE quote_ident(pg_get_userbyid(h.via)) END AS via
    FROM holders h
), relations AS (
    SELECT c.oid, c.relowner, c.relacl, quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS object,
           quote_ident(n.nspname) AS schema
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v', 'f')
      AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_toast%'
), schemas AS (
    SELECT oid, nspowner, nspacl, nspname FROM pg_namespace
    WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg\_%'
)
SELECT 'attribute' AS kind, named.role, named.via, NULL AS object, NULL AS schema, a.attribute AS privilege
FROM pg_roles r JOIN named ON named.oid = r.oid
CROSS JOIN LATERAL (VALUES ('SUPERUSER', r.rolsuper), ('CREATEROLE', r.rolcreaterole), ('CREATEDB', r.rolcreatedb),
                           ('REPLICATION', r.rolreplication), ('BYPASSRLS', r.rolbypassrls)) AS a(attribute, held)
WHERE a.held
UNION ALL
SELECT 'member', named.role, named.via, NULL, NULL, NULL FROM named WHERE named.via IS NOT NULL
UNION ALL
SELECT 'table', named.role, named.via, rel.object, rel.schema, g.privilege_type
FROM relations rel CROSS JOIN LATERAL aclexplode(rel.relacl) g JOIN named ON named.oid = g.grantee
WHERE g.privilege_type IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE') AND g.grantee <> rel.relowner
UNION ALL
SELECT 'table', named.role, named.via, rel.object, rel.schema, 'OWNER'
FROM relations rel JOIN named ON named.oid = rel.relowner
UNION ALL
SELECT 'schema', named.role, named.via, quote_ident(s.nspname), quote_ident(s.nspname), 'CREATE'
FROM schemas s CROSS JOIN LATERAL aclexplode(s.nspacl) g JOIN named ON named.oid = g.grantee
WHERE g.privilege_type = 'CREATE' AND g.grantee <> s.nspowner
UNION ALL
SELECT 'schema', named.role, named.via, quote_ident(s.nspname), quote_ident(s.nspname), 'OWNER'
FROM schemas s JOIN named ON named.oid = s.nspowner
UNION ALL
SELECT 'database', named.role, named.via, quote_ident(d.datname), NULL, 'CREATE'
FROM pg_database d CROSS JOIN LATERAL aclexplode(d.datacl) g JOIN named ON named.oid = g.grantee
WHERE d.datname = current_database() AND g.privilege_type = 'CREATE' AND g.grantee <> d.datdba
UNION ALL
SELECT 'database', named.role, named.via, quote_ident(d.datname), NULL, 'OWNER'
FROM pg_database d JOIN named ON named.oid = d.datdba
WHERE d.datname = current_database()
ORDER BY 1, 2, 4, 6
