package main

import "testing"

func TestByteSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true},
		{"1073741824", 1 << 30, true},
		{"500MiB", 500 << 20, true},
		{"20GB", 20e9, true},
		{"8 KiB", 8 << 10, true},
		{"12B", 12, true},
		{"", 0, false},
		{"-1", 0, false},
		{"lots", 0, false},
		{"1.5GiB", 0, false},
		{"99999999999TiB", 0, false},
	} {
		var b byteSize
		err := b.Set(tc.in)
		if (err == nil) != tc.ok || (tc.ok && int64(b) != tc.want) {
			t.Errorf("Set(%q) = %d, %v; want %d, ok %v", tc.in, b, err, tc.want, tc.ok)
		}
	}
}

// The retention options come from flags, RUMOR_* variables and the config
// file like every other.
func TestRetentionOptions(t *testing.T) {
	fs, err := resolveNode(t, []string{"--retain", "24h"}, map[string]string{"RUMOR_MAX_DISK": "2GiB"},
		"prune-when-all-have: true\njoin-snapshot: true\nretention-interval: 30s\nwatermark-interval: 2s\n")
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"retain": "24h0m0s", "max-disk": "2147483648", "prune-when-all-have": "true", "join-snapshot": "true",
		"retention-interval": "30s", "watermark-interval": "2s",
	} {
		if got := fs.Lookup(name).Value.String(); got != want {
			t.Errorf("--%s = %q, want %q", name, got, want)
		}
	}
}

func TestBadMaxDiskRefused(t *testing.T) {
	if _, err := resolveNode(t, nil, nil, "max-disk: plenty\n"); err == nil {
		t.Error("a bad max-disk in the config file was accepted")
	}
}
