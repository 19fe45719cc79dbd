-- Decisions the bot opens itself act when they pass: `kind` says how, `payload_ct` (sealed JSON)
-- holds the details (a call, a rule, a candidate's pseudonym and mandate), and `subject` names
-- what the decision is about ("call:7", "rule", "recall:3", ...), so that the same question is
-- not put to an assembly twice at once. A decision keeps the fallback of its committee's rule as it
-- was when opened, like the rule itself.
ALTER TABLE decisions ADD COLUMN kind TEXT NOT NULL DEFAULT 'proposal'
    CHECK (kind IN ('proposal', 'endorse', 'join_call', 'elect', 'alternate', 'recall', 'rule', 'fallback'));
ALTER TABLE decisions ADD COLUMN payload_ct BLOB;
ALTER TABLE decisions ADD COLUMN subject TEXT;
ALTER TABLE decisions ADD COLUMN fallback_after_rounds INTEGER;
UPDATE decisions SET kind = 'endorse' WHERE demand_id IS NOT NULL;
CREATE INDEX decisions_by_subject ON decisions (committee_id, subject) WHERE subject IS NOT NULL;

-- Consensus may fall back to a supermajority after this many blocked rounds (NULL: never).
ALTER TABLE committee_rules ADD COLUMN fallback_after_rounds INTEGER
    CHECK (fallback_after_rounds IS NULL OR fallback_after_rounds >= 1);

-- Elected delegates (a group's Telegram admins are delegates by default and are not stored).
-- Holder and alternate only as pseudonyms; the mandate sealed. A term is optional; with one, the
-- alternate serves from half term. Each notice about a term (the rotation, the reminder before
-- its end, its end) is marked when queued to the outbox, in the same transaction, so it is posted
-- once. `ended`: the term was over and the assembly elected anew.
CREATE TABLE delegates (
    id                 INTEGER PRIMARY KEY,
    committee_id       INTEGER NOT NULL REFERENCES committees (id) ON DELETE CASCADE,
    number             INTEGER NOT NULL,
    holder             BLOB NOT NULL,
    alternate          BLOB,
    mandate_ct         BLOB,
    starts_at          INTEGER NOT NULL,
    ends_at            INTEGER,
    status             TEXT NOT NULL DEFAULT 'serving' CHECK (status IN ('serving', 'recalled', 'ended')),
    decision_id        INTEGER REFERENCES decisions (id) ON DELETE SET NULL,
    elected_at         INTEGER NOT NULL,
    left_at            INTEGER,
    rotation_posted_at INTEGER,
    reminder_posted_at INTEGER,
    end_posted_at      INTEGER,
    UNIQUE (committee_id, number),
    CHECK (ends_at IS NULL OR ends_at > starts_at)
);
CREATE INDEX delegates_by_holder ON delegates (holder) WHERE status = 'serving';
CREATE INDEX delegates_by_alternate ON delegates (alternate) WHERE status = 'serving' AND alternate IS NOT NULL;
