-- Assembly decisions: a committee's rule, its decisions (text sealed) and one voice per member
-- and round (members only as pseudonyms). Results are counts; voices are never shown by name.

CREATE TABLE committee_rules (
    committee_id INTEGER PRIMARY KEY REFERENCES committees (id) ON DELETE CASCADE,
    rule         TEXT NOT NULL CHECK (rule IN ('consensus', 'majority')),
    updated_at   INTEGER NOT NULL
);

CREATE TABLE decisions (
    id             INTEGER PRIMARY KEY,
    committee_id   INTEGER NOT NULL REFERENCES committees (id) ON DELETE CASCADE,
    text_ct        BLOB,
    rule           TEXT NOT NULL CHECK (rule IN ('consensus', 'majority')),
    deadline_hours REAL NOT NULL,
    round          INTEGER NOT NULL DEFAULT 1,
    status         TEXT NOT NULL DEFAULT 'open'
                   CHECK (status IN ('open', 'passed', 'blocked', 'rejected', 'no_quorum', 'no_voices')),
    opened_by      BLOB NOT NULL,
    opened_at      INTEGER NOT NULL,
    closes_at      INTEGER NOT NULL,
    closed_at      INTEGER
);
CREATE INDEX decisions_open ON decisions (status, closes_at);

CREATE TABLE decision_voices (
    decision_id INTEGER NOT NULL REFERENCES decisions (id) ON DELETE CASCADE,
    round       INTEGER NOT NULL,
    voter       BLOB NOT NULL,
    choice      TEXT NOT NULL,
    at          INTEGER NOT NULL,
    PRIMARY KEY (decision_id, round, voter)
) WITHOUT ROWID;
