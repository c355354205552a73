-- What the effect shell needs to resume an upgrade exactly (daemon/engine/core.h, the
-- mapping of struct engine_upgrade): each node's place in the upgrade, the parameters
-- of a journal intent (so that an open one can be sent again as it was), and the
-- progress marker whose deadline upgrade.budget_ms measures.

-- The wait whose remaining deadline budget_ms holds; a new marker starts a new budget.
ALTER TABLE upgrade ADD COLUMN budget_marker TEXT;

-- The node's index in the upgrade (replaces and replaced_by name instance ids).
ALTER TABLE upgrade_node ADD COLUMN ord INTEGER NOT NULL DEFAULT 0;
ALTER TABLE upgrade_node ADD COLUMN purpose TEXT NOT NULL DEFAULT 'none'
	CHECK (purpose IN ('none', 'victim', 'leaver', 'retry'));
ALTER TABLE upgrade_node ADD COLUMN prot_req TEXT NOT NULL DEFAULT 'none'
	CHECK (prot_req IN ('none', 'on', 'off'));
ALTER TABLE upgrade_node ADD COLUMN replaces TEXT;
ALTER TABLE upgrade_node ADD COLUMN replaced_by TEXT;
ALTER TABLE upgrade_node ADD COLUMN retries INTEGER NOT NULL DEFAULT 0;
ALTER TABLE upgrade_node ADD COLUMN activity_id TEXT;
ALTER TABLE upgrade_node ADD COLUMN reverse_born INTEGER NOT NULL DEFAULT 0;

-- The intent's parameters as JSON: protect, processes, changeset, version, min, max,
-- purpose, targets.
ALTER TABLE journal ADD COLUMN params TEXT CHECK (params IS NULL OR json_valid(params));
