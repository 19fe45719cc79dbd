-- Rows of a broadcast (written together by OutboxRepository.enqueue_many) are sent after any
-- single message that is due, so a tally or a council's request never waits behind them.
ALTER TABLE outbox ADD COLUMN bulk INTEGER NOT NULL DEFAULT 0;
