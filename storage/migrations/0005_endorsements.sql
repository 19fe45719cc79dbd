-- A decision may be the assembly's endorsement of one of its committee's demands.
ALTER TABLE decisions ADD COLUMN demand_id INTEGER REFERENCES demands (id) ON DELETE CASCADE;
CREATE INDEX decisions_by_demand ON decisions (demand_id) WHERE demand_id IS NOT NULL;
