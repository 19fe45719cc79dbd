-- Demands: put forward in a committee group or privately through the committee's link.
-- Texts are sealed; the member who put one forward is only a pseudonym, and never shown.

CREATE TABLE demands (
    id           INTEGER PRIMARY KEY,
    committee_id INTEGER NOT NULL REFERENCES committees (id) ON DELETE CASCADE,
    text_ct      BLOB,
    status       TEXT NOT NULL DEFAULT 'proposed' CHECK (status IN (
                     'proposed', 'endorsed', 'escalated', 'adopted', 'won', 'conceded', 'rejected', 'merged')),
    merged_into  INTEGER REFERENCES demands (id),
    via          TEXT NOT NULL CHECK (via IN ('group', 'private')),
    submitted_by BLOB NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER
);
CREATE INDEX demands_by_committee ON demands (committee_id, status);

-- Committees that endorsed a demand (by an assembly decision): its support.
CREATE TABLE demand_support (
    demand_id    INTEGER NOT NULL REFERENCES demands (id) ON DELETE CASCADE,
    committee_id INTEGER NOT NULL REFERENCES committees (id) ON DELETE CASCADE,
    endorsed_at  INTEGER NOT NULL,
    PRIMARY KEY (demand_id, committee_id)
) WITHOUT ROWID;

-- The private submission link of a committee (`/demand link`): only its HMAC is kept.
CREATE TABLE demand_links (
    committee_id INTEGER PRIMARY KEY REFERENCES committees (id) ON DELETE CASCADE,
    token_ref    BLOB NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    created_by   BLOB NOT NULL
);
