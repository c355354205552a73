-- The daemon's persistent state (DESIGN.md section 6). Times are Unix milliseconds (UTC).

-- One row per upgrade: what was asked, the facts that cannot be re-read from AWS later
-- (original counts, suspended processes, tokens), and where it stands.
CREATE TABLE upgrade (
	id		INTEGER PRIMARY KEY,
	deployment	TEXT NOT NULL,
	from_version	TEXT,
	to_version	TEXT NOT NULL,
	surge		INTEGER NOT NULL CHECK (surge >= 1),
	state		TEXT NOT NULL CHECK (state IN ('running', 'paused', 'halted',
			    'done', 'cancelled', 'rolled_back', 'failed')),
	phase		TEXT NOT NULL,
	reason		TEXT,			-- why it halted or failed
	original_min	INTEGER,
	original_max	INTEGER,
	original_desired INTEGER,
	facts		TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(facts)),
	budget_ms	INTEGER,		-- deadline left in the current phase
	created_at	INTEGER NOT NULL,
	updated_at	INTEGER NOT NULL,
	finished_at	INTEGER
) STRICT;

-- At most one unfinished upgrade, whatever the code above it does.
CREATE UNIQUE INDEX upgrade_one_unfinished ON upgrade (finished_at IS NULL)
	WHERE finished_at IS NULL;

-- Every node an upgrade saw and what happened to it.
CREATE TABLE upgrade_node (
	upgrade_id	INTEGER NOT NULL REFERENCES upgrade (id),
	instance_id	TEXT NOT NULL,
	private_ip	TEXT,
	role		TEXT NOT NULL CHECK (role IN ('original', 'surge', 'replacement')),
	version		TEXT,
	was_protected	INTEGER NOT NULL DEFAULT 0,	-- scale-in protection before we began
	state		TEXT NOT NULL,
	drain		TEXT CHECK (drain IN ('clean', 'forced')),
	updated_at	INTEGER NOT NULL,
	PRIMARY KEY (upgrade_id, instance_id)
) STRICT;

-- Destructive actions: the intent is committed before the call, the outcome after it.
-- An intent without an outcome is resolved by observation after a restart.
CREATE TABLE journal (
	id		INTEGER PRIMARY KEY,
	upgrade_id	INTEGER NOT NULL REFERENCES upgrade (id),
	action		TEXT NOT NULL,
	target		TEXT,
	token		TEXT NOT NULL UNIQUE,	-- idempotency token (ClientRequestToken, ...)
	intent_at	INTEGER NOT NULL,
	outcome		TEXT CHECK (outcome IN ('done', 'failed', 'not_done')),
	outcome_detail	TEXT,
	outcome_at	INTEGER
) STRICT;

CREATE INDEX journal_unresolved ON journal (upgrade_id) WHERE outcome IS NULL;

-- The timeline that watch, events and history show.
CREATE TABLE event (
	id		INTEGER PRIMARY KEY,
	upgrade_id	INTEGER REFERENCES upgrade (id),
	at		INTEGER NOT NULL,
	level		TEXT NOT NULL CHECK (level IN ('info', 'warning', 'error')),
	phase		TEXT,
	node		TEXT,
	message		TEXT NOT NULL,
	data		TEXT CHECK (data IS NULL OR json_valid(data))
) STRICT;

CREATE INDEX event_by_upgrade ON event (upgrade_id, id);
