-- What the digest reads (`asamblea bench digest`, docs/benchmarks.md): every status report in
-- time order, from an index that holds all the columns read (no look-up of each row), replacing
-- the index on `since` alone; and by time, the calls answered and the demands put forward since
-- the last digest, which were found by scanning every answer (hundreds of thousands after a few
-- days of calls) and every demand.

CREATE INDEX strike_status_in_time ON strike_status (since, id, committee_id, status);
DROP INDEX strike_status_by_since;
CREATE INDEX call_answers_by_time ON call_answers (answered_at);
CREATE INDEX demands_by_time ON demands (created_at);
