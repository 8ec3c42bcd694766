package policy

import (
	"encoding/json"
	"strings"
)

// The settings' names in JSON (PUT /v1/config). The config file and the
// flags of rumor node use the same names with dashes: sync-fanout.
const (
	KeyPush            = "push"
	KeySyncInterval    = "sync_interval"
	KeySyncFanout      = "sync_fanout"
	KeyBlobPolicy      = "blob_policy"
	KeySyncBatchBytes  = "sync_batch_bytes"
	KeySyncRunBytes    = "sync_run_bytes"
	KeyPushInlineBytes = "push_inline_bytes"
	KeyPeerBandwidth   = "peer_bandwidth"
)

// Keys returns every setting's JSON name, in documentation order.
func Keys() []string {
	return []string{KeyPush, KeySyncInterval, KeySyncFanout, KeyBlobPolicy,
		KeySyncBatchBytes, KeySyncRunBytes, KeyPushInlineBytes, KeyPeerBandwidth}
}

// FlagName returns the flag (and config file key) of a setting:
// "sync_fanout" → "sync-fanout".
func FlagName(key string) string { return strings.ReplaceAll(key, "_", "-") }

// KeyOfFlag returns the setting a flag name sets, and whether it is one.
func KeyOfFlag(flag string) (string, bool) {
	key := strings.ReplaceAll(flag, "-", "_")
	for _, k := range Keys() {
		if k == key {
			return k, true
		}
	}
	return "", false
}

// settingsJSON is the JSON form of Settings; DecodePatch reads the same.
type settingsJSON struct {
	Push            bool       `json:"push"`
	SyncInterval    string     `json:"sync_interval"`
	SyncFanout      int        `json:"sync_fanout"`
	BlobPolicy      BlobPolicy `json:"blob_policy"`
	SyncBatchBytes  int        `json:"sync_batch_bytes"`
	SyncRunBytes    int        `json:"sync_run_bytes"`
	PushInlineBytes int        `json:"push_inline_bytes"`
	PeerBandwidth   int64      `json:"peer_bandwidth"`
}

// MarshalJSON encodes every setting under its key, durations as Go
// duration strings ("1.5s"): a valid PUT /v1/config body.
func (s Settings) MarshalJSON() ([]byte, error) {
	return json.Marshal(settingsJSON{
		Push: s.Push, SyncInterval: s.SyncInterval.String(), SyncFanout: s.SyncFanout, BlobPolicy: s.BlobPolicy,
		SyncBatchBytes: s.SyncBatchBytes, SyncRunBytes: s.SyncRunBytes, PushInlineBytes: s.PushInlineBytes,
		PeerBandwidth: s.PeerBandwidth,
	})
}

// Value returns the setting key of s as its JSON value (a duration as its
// string), or nil for an unknown key.
func (s Settings) Value(key string) any {
	switch key {
	case KeyPush:
		return s.Push
	case KeySyncInterval:
		return s.SyncInterval.String()
	case KeySyncFanout:
		return s.SyncFanout
	case KeyBlobPolicy:
		return string(s.BlobPolicy)
	case KeySyncBatchBytes:
		return s.SyncBatchBytes
	case KeySyncRunBytes:
		return s.SyncRunBytes
	case KeyPushInlineBytes:
		return s.PushInlineBytes
	case KeyPeerBandwidth:
		return s.PeerBandwidth
	}
	return nil
}

// equalKey reports whether a and b agree on the setting key.
func equalKey(a, b Settings, key string) bool {
	switch key {
	case KeyPush:
		return a.Push == b.Push
	case KeySyncInterval:
		return a.SyncInterval == b.SyncInterval
	case KeySyncFanout:
		return a.SyncFanout == b.SyncFanout
	case KeyBlobPolicy:
		return a.BlobPolicy == b.BlobPolicy
	case KeySyncBatchBytes:
		return a.SyncBatchBytes == b.SyncBatchBytes
	case KeySyncRunBytes:
		return a.SyncRunBytes == b.SyncRunBytes
	case KeyPushInlineBytes:
		return a.PushInlineBytes == b.PushInlineBytes
	case KeyPeerBandwidth:
		return a.PeerBandwidth == b.PeerBandwidth
	}
	return true
}

// Diff returns the keys whose values differ between a and b, in key order.
func Diff(a, b Settings) []string {
	var out []string
	for _, k := range Keys() {
		if !equalKey(a, b, k) {
			out = append(out, k)
		}
	}
	return out
}
