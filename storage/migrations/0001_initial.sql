-- The foundation: keyring, chat settings, councils and their link codes, committees, outbox.
-- No column holds a Telegram user id, chat id, name, username or phone number in clear:
-- *_ref and *_by columns are HMAC pseudonyms, *_ct columns AES-GCM ciphertexts.

CREATE TABLE keyring (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    salt        BLOB NOT NULL,
    check_value BLOB NOT NULL,
    created_at  INTEGER NOT NULL
);

-- The language a chat (group, channel or private chat) has chosen.
CREATE TABLE chat_settings (
    chat_ref   BLOB PRIMARY KEY,
    language   TEXT NOT NULL,
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE councils (
    id         INTEGER PRIMARY KEY,
    region     TEXT NOT NULL UNIQUE,            -- the federation node it speaks for
    chat_ref   BLOB NOT NULL UNIQUE,
    chat_id_ct BLOB,                            -- NULL only inside the inserting transaction
    chat_type  TEXT NOT NULL CHECK (chat_type IN ('group', 'supergroup', 'channel')),
    reachable  INTEGER NOT NULL DEFAULT 1,
    linked_at  INTEGER NOT NULL,
    linked_by  BLOB                             -- pseudonym; NULL when linked from a channel post
);

CREATE TABLE council_codes (
    code_ref   BLOB PRIMARY KEY,                -- HMAC of the code; the code itself is never stored
    region     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
) WITHOUT ROWID;

CREATE TABLE committees (
    id            INTEGER PRIMARY KEY,
    chat_ref      BLOB NOT NULL UNIQUE,
    chat_id_ct    BLOB,
    name_ct       BLOB,
    region        TEXT NOT NULL,
    kind          TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('pending', 'active', 'rejected', 'suspended', 'wiped')),
    reachable     INTEGER NOT NULL DEFAULT 1,
    registered_by BLOB NOT NULL,
    registered_at INTEGER NOT NULL,
    decided_by    BLOB,
    decided_at    INTEGER
);
CREATE INDEX committees_by_region ON committees (region, status);

-- Messages that matter are written here in the same transaction as the change they announce
-- and sent by the outbox worker, which survives restarts.
CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY,
    committee_id INTEGER REFERENCES committees (id) ON DELETE CASCADE,
    council_id   INTEGER REFERENCES councils (id) ON DELETE CASCADE,
    purpose      TEXT NOT NULL,
    payload_ct   BLOB,
    state        TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'inflight', 'sent', 'failed')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    not_before   REAL NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    sent_at      INTEGER,
    message_id   INTEGER,
    error        TEXT,
    CHECK ((committee_id IS NULL) <> (council_id IS NULL))
);
CREATE INDEX outbox_due ON outbox (state, not_before);
