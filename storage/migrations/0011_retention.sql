-- Retention (storage/retention.py): when the daily purge last ran, so that a start after downtime
-- catches up once; and the indexes that let it (and the foreign keys it sets off) find rows by the
-- outbox row, call or decision they point at without reading whole tables. These tables are
-- written rarely, so the indexes cost the busy paths nothing.

CREATE TABLE retention_runs (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    ran_at INTEGER NOT NULL,                  -- the clock moment the purge ran
    cutoff INTEGER NOT NULL,                  -- what was older than this went
    purged INTEGER NOT NULL                   -- how many rows went
);

CREATE INDEX call_tallies_by_outbox ON call_tallies (outbox_id);
CREATE INDEX demand_escalations_by_outbox ON demand_escalations (outbox_id) WHERE outbox_id IS NOT NULL;
CREATE INDEX strike_status_by_call ON strike_status (call_id) WHERE call_id IS NOT NULL;
CREATE INDEX delegates_by_decision ON delegates (decision_id) WHERE decision_id IS NOT NULL;
