-- The audit log (storage/audit.py, domain/audit.py): one row per privileged action, written in the
-- transaction of the action itself, so that both are there or neither. Nothing in it names anyone:
-- `actor` is the HMAC pseudonym the rest of the database keeps for a person (crypto.user), NULL where
-- no person acted (the operator's command line, a term's clock) or where a committee's wipe unlinked
-- it; `kind` and `detail` are code words the bot chose (a call's kind), never a person's text, and the
-- CHECKs below keep it so. `region` is the federation node of the committee or council concerned, so
-- that a council reads its own area; the ids are internal rows, never chat ids.
CREATE TABLE audit (
    id           INTEGER PRIMARY KEY,
    at           INTEGER NOT NULL,
    kind         TEXT NOT NULL CHECK (length(kind) BETWEEN 1 AND 32 AND kind NOT GLOB '*[^a-z_]*'),
    role         TEXT NOT NULL CHECK (role IN ('committee_delegate', 'council_delegate', 'assembly', 'operator')),
    actor        BLOB CHECK (actor IS NULL OR length(actor) = 16),
    region       TEXT NOT NULL,
    committee_id INTEGER REFERENCES committees (id) ON DELETE SET NULL,
    council_id   INTEGER REFERENCES councils (id) ON DELETE SET NULL,
    detail       TEXT CHECK (detail IS NULL OR (length(detail) BETWEEN 1 AND 32 AND detail NOT GLOB '*[^a-z_]*'))
);
-- A council's period (and the daily purge) reads by time; the foreign keys look rows up by the
-- committee or council they point at when one of those goes.
CREATE INDEX audit_by_time ON audit (at);
CREATE INDEX audit_by_committee ON audit (committee_id) WHERE committee_id IS NOT NULL;
CREATE INDEX audit_by_council ON audit (council_id) WHERE council_id IS NOT NULL;
