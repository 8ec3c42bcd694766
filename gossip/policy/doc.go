// Package policy holds a node's sync switches: the replication settings an
// operator may change while the node runs (push on or off, the
// anti-entropy interval and fan-out, the blob replication policy, batch
// sizes and the bandwidth budget per peer).
//
// The package is pure: it validates settings, decodes the JSON of a
// change (PUT /v1/config), tracks where each value came from (default,
// file, env, flag, api) and swaps the whole set atomically. The
// replicator reads the current set with Holder.Settings on every round,
// session, announcement and blob fetch, so a change takes effect at the
// next one; no lock is held while reading.
//
//	h, err := policy.NewHolder(policy.DefaultLimits(), policy.Resolved{Settings: policy.Defaults()}, clock.Real{})
//	p, err := policy.DecodePatch([]byte(`{"sync_fanout": 2, "push": false}`))
//	st, err := h.Update(p, policy.SourceAPI) // all or nothing
//	<-old.Superseded()                        // closed when a newer state replaces old
//
// A change is all or nothing: Update decodes, applies and validates the
// whole set before it swaps it in, so on any error nothing changes.
package policy
