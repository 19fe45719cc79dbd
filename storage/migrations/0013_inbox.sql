-- The durable inbox (storage/inbox.py, bot/inbox.py): every update from Telegram is written here,
-- sealed, before Telegram is told it arrived (the next getUpdates' offset, or the webhook's 200);
-- a handler's first write empties the row's payload in the same transaction, so after a kill the
-- rows still holding a payload are exactly the updates whose effects were never committed. The
-- emptied row stays a while as proof that this update_id was handled, so that a copy Telegram
-- delivers again has no second effect.

CREATE TABLE inbox (
    update_id   INTEGER PRIMARY KEY,          -- Telegram's id for the update (no personal data)
    received_at INTEGER NOT NULL,             -- the clock moment it was kept
    update_ct   BLOB,                         -- the update's JSON, sealed; NULL once handled
    handled_at  INTEGER                       -- when its first write (or its end) was committed
);

CREATE INDEX inbox_pending ON inbox (update_id) WHERE update_ct IS NOT NULL;
CREATE INDEX inbox_by_handled_at ON inbox (handled_at) WHERE handled_at IS NOT NULL;
