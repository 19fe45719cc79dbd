-- Calls: strike and rally calls, their deliveries, answers, live tallies and reminders;
-- committees' strike status; and an outbox that can edit what it sent.
-- Free text (place, call text) is sealed; people appear only as HMAC pseudonyms (*_by).

-- The outbox gains edits (`op = 'edit'` changes the message another row sent, `target_id`)
-- and the state `dropped` (a row that no longer needs sending, e.g. a cancelled call's copy
-- that had not left yet). SQLite cannot change a CHECK constraint, so the table is rebuilt.
CREATE TABLE outbox_new (
    id           INTEGER PRIMARY KEY,
    committee_id INTEGER REFERENCES committees (id) ON DELETE CASCADE,
    council_id   INTEGER REFERENCES councils (id) ON DELETE CASCADE,
    purpose      TEXT NOT NULL,
    op           TEXT NOT NULL DEFAULT 'send' CHECK (op IN ('send', 'edit')),
    target_id    INTEGER REFERENCES outbox_new (id) ON DELETE CASCADE,
    payload_ct   BLOB,
    state        TEXT NOT NULL DEFAULT 'pending'
                 CHECK (state IN ('pending', 'inflight', 'sent', 'failed', 'dropped')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    not_before   REAL NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    sent_at      INTEGER,
    message_id   INTEGER,
    error        TEXT,
    CHECK ((committee_id IS NULL) <> (council_id IS NULL)),
    CHECK ((op = 'edit') = (target_id IS NOT NULL))
);
INSERT INTO outbox_new (id, committee_id, council_id, purpose, payload_ct, state, attempts, not_before,
                        created_at, sent_at, message_id, error)
    SELECT id, committee_id, council_id, purpose, payload_ct, state, attempts, not_before,
           created_at, sent_at, message_id, error
    FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (state, not_before);
CREATE INDEX outbox_edits ON outbox (target_id, state) WHERE target_id IS NOT NULL;

CREATE TABLE calls (
    id                  INTEGER PRIMARY KEY,
    code_ref            BLOB NOT NULL UNIQUE,     -- HMAC of the verification code
    code_ct             BLOB,                     -- the code, sealed, to print it again
    kind                TEXT NOT NULL,
    scope               TEXT NOT NULL,            -- domain.calls.Scope.encode()
    issuer_committee_id INTEGER REFERENCES committees (id) ON DELETE CASCADE,
    issuer_council_id   INTEGER REFERENCES councils (id) ON DELETE CASCADE,
    issuer_region       TEXT NOT NULL,
    starts_at           INTEGER NOT NULL,
    place_ct            BLOB,
    text_ct             BLOB,
    status              TEXT NOT NULL CHECK (status IN ('draft', 'discarded', 'active', 'cancelled')),
    created_at          INTEGER NOT NULL,
    created_by          BLOB NOT NULL,
    issued_at           INTEGER,
    updated_at          INTEGER,
    CHECK ((issuer_committee_id IS NULL) <> (issuer_council_id IS NULL))
);
CREATE INDEX calls_by_status ON calls (status, starts_at);

-- One row per committee a call was sent to, pointing at the outbox row that carries it.
CREATE TABLE call_deliveries (
    call_id      INTEGER NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    committee_id INTEGER NOT NULL REFERENCES committees (id) ON DELETE CASCADE,
    outbox_id    INTEGER NOT NULL REFERENCES outbox (id),
    PRIMARY KEY (call_id, committee_id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX call_deliveries_by_outbox ON call_deliveries (outbox_id);

-- A committee's answer to a call, given by one of its delegates; changeable.
CREATE TABLE call_answers (
    call_id      INTEGER NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    committee_id INTEGER NOT NULL REFERENCES committees (id) ON DELETE CASCADE,
    answer       TEXT NOT NULL CHECK (answer IN ('join', 'decline', 'undecided')),
    headcount    INTEGER CHECK (headcount IS NULL OR headcount >= 0),
    answered_by  BLOB NOT NULL,
    answered_at  INTEGER NOT NULL,
    PRIMARY KEY (call_id, committee_id)
) WITHOUT ROWID;

-- The live status messages of a call (the issuer's chat, its council), edited as answers come.
CREATE TABLE call_tallies (
    call_id   INTEGER NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    outbox_id INTEGER NOT NULL REFERENCES outbox (id),
    PRIMARY KEY (call_id, outbox_id)
) WITHOUT ROWID;

CREATE TABLE call_reminders (
    call_id INTEGER NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    lead_s  INTEGER NOT NULL,                     -- how long before the start
    due_at  INTEGER NOT NULL,
    state   TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'skipped')),
    PRIMARY KEY (call_id, lead_s)
) WITHOUT ROWID;

-- A committee's strike status over time (the spread is computed from it).
CREATE TABLE strike_status (
    id           INTEGER PRIMARY KEY,
    committee_id INTEGER NOT NULL REFERENCES committees (id) ON DELETE CASCADE,
    status       TEXT NOT NULL CHECK (status IN ('on_strike', 'back_at_work', 'suppressed')),
    since        INTEGER NOT NULL,
    call_id      INTEGER REFERENCES calls (id) ON DELETE SET NULL,
    reported_by  BLOB NOT NULL,
    reported_at  INTEGER NOT NULL
);
CREATE INDEX strike_status_by_committee ON strike_status (committee_id, since);

-- Failed /verify guesses per person (pseudonym), to rate-limit guessing.
CREATE TABLE verify_misses (
    user_ref BLOB NOT NULL,
    at       INTEGER NOT NULL
);
CREATE INDEX verify_misses_by_user ON verify_misses (user_ref, at);
