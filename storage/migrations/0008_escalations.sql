-- Escalation: the councils an endorsed demand has risen to, each with its own verdict and the
-- message in its chat (edited as support grows), and when a demand entered the common programme.

ALTER TABLE demands ADD COLUMN adopted_at INTEGER;
CREATE INDEX demands_merged_into ON demands (merged_into) WHERE merged_into IS NOT NULL;
CREATE INDEX demand_support_by_committee ON demand_support (committee_id);

CREATE TABLE demand_escalations (
    demand_id    INTEGER NOT NULL REFERENCES demands (id) ON DELETE CASCADE,
    council_id   INTEGER NOT NULL REFERENCES councils (id) ON DELETE CASCADE,
    verdict      TEXT NOT NULL DEFAULT 'pending' CHECK (verdict IN ('pending', 'adopted', 'rejected', 'merged')),
    outbox_id    INTEGER REFERENCES outbox (id) ON DELETE SET NULL,
    escalated_at INTEGER NOT NULL,
    decided_at   INTEGER,
    PRIMARY KEY (demand_id, council_id)
) WITHOUT ROWID;
CREATE INDEX demand_escalations_by_council ON demand_escalations (council_id, verdict);
