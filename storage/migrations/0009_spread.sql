-- The spread: digests a council got (so "since the last digest" has an anchor and a slot missed
-- while the bot was down goes out once), solidarity appeals (one per region per time it joins),
-- and the indexes the spread and digest queries read by.

CREATE INDEX strike_status_by_since ON strike_status (since);
CREATE INDEX committees_by_decision ON committees (decided_at) WHERE decided_at IS NOT NULL;
CREATE INDEX calls_by_issue ON calls (issued_at) WHERE status IN ('active', 'cancelled');
CREATE INDEX outbox_failed ON outbox (created_at) WHERE state = 'failed';

CREATE TABLE digests (
    id          INTEGER PRIMARY KEY,
    council_id  INTEGER NOT NULL REFERENCES councils (id) ON DELETE CASCADE,
    slot        INTEGER,                      -- the scheduled moment it is for; NULL when asked with /digest
    covers_from INTEGER NOT NULL,             -- the changes it reports are those after this moment
    built_at    INTEGER NOT NULL,
    late        INTEGER NOT NULL DEFAULT 0,
    UNIQUE (council_id, slot)
);
CREATE INDEX digests_by_council ON digests (council_id, built_at);

CREATE TABLE solidarity_appeals (
    id         INTEGER PRIMARY KEY,
    region     TEXT NOT NULL,                 -- the region whose first committee went on strike
    joined_at  INTEGER NOT NULL,
    targets    TEXT NOT NULL,                 -- the neighbouring regions appealed to, comma-separated
    state      TEXT NOT NULL CHECK (state IN ('suggested', 'sent', 'dismissed')),
    council_id INTEGER REFERENCES councils (id) ON DELETE SET NULL,
    outbox_id  INTEGER REFERENCES outbox (id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    decided_at INTEGER,
    UNIQUE (region, joined_at)
);
