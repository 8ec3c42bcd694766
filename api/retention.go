package api

// Retention is the archive and retention state GET /v1/status shows under
// "retention".
type Retention struct {
	// Archived is, per origin, the highest seq some sink has archived
	// durably (contiguous from 1): what devices may prune below.
	Archived map[string]uint64 `json:"archived"`
	// Sinks are the sinks whose watermarks this node learnt, with whether
	// they are live members now.
	Sinks []Sink `json:"sinks"`
	// Pruned is, per origin, the seq at or below which this node holds no
	// raw events any more (they stay in its context and aggregates).
	Pruned map[string]uint64 `json:"pruned"`
	// Retain, MaxDisk and PruneWhenAllHave are the node's settings
	// (retain "0s": keep until the disk budget needs the space).
	Retain           string `json:"retain"`
	MaxDisk          int64  `json:"max_disk"`
	PruneWhenAllHave bool   `json:"prune_when_all_have"`
	// LastPass is the last retention pass, absent before the first.
	LastPass *RetentionPass `json:"last_pass,omitempty"`
}

// Sink is one sink's archived watermark.
type Sink struct {
	ID         string            `json:"id"`
	Member     bool              `json:"member"`
	Watermarks map[string]uint64 `json:"watermarks"`
}

// RetentionPass is the outcome of one retention pass.
type RetentionPass struct {
	At            string `json:"at"`
	DiskBytes     int64  `json:"disk_bytes"`
	Window        string `json:"window"`
	PrunedEvents  uint64 `json:"pruned_events"`
	FreedSegments int    `json:"freed_segments"`
	FreedBytes    int64  `json:"freed_bytes"`
	FreedBlobs    int    `json:"freed_blobs"`
	// Blocked reports that the disk budget could not be met because the
	// events left are not archived; ShortBytes estimates by how much.
	Blocked          bool   `json:"blocked"`
	ShortBytes       int64  `json:"short_bytes"`
	UnarchivedEvents uint64 `json:"unarchived_events"`
}
