-- The UNIQUE constraint on hitl_audit_logs.hash kept a btree of random
-- 64-character keys: the largest index of the table (about 1,700 pages per
-- 100,000 entries against 320 for the primary key), and one insert on a
-- random page for every audit entry, on the single writer's path. Nothing
-- looks an entry up by its hash, and uniqueness is not what protects the
-- chain: each hash covers its seq and its predecessor's hash, and the
-- verifier (hitl audit verify, GET /hitl/audit/verify) names any entry whose
-- stored hash does not match, duplicates included. The CHECK on the hash's
-- form stays.
ALTER TABLE hitl_audit_logs DROP CONSTRAINT hitl_audit_logs_hash_key;
