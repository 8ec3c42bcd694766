package sink

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

func TestOpenBucketURLs(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		url, err string
	}{
		{filepath.Join(dir, "a"), ""},
		{"file://" + filepath.Join(dir, "b"), ""},
		{"file://localhost" + filepath.Join(dir, "c"), ""},
		{"s3://bucket?region=us-east-1&endpoint=http://127.0.0.1:1&use_path_style=true", ""},
		{"", "empty"},
		{"file://", "empty"},
		{"file://host/x", "no host"},
		{"file:///x?create_dir=1", "no parameters"},
		{"s3://", "names no bucket"},
		{"s3://b?colour=blue", "colour"},
		{"gs://bucket", `scheme "gs"`},
		{"://x", "archive URL"},
	} {
		b, err := OpenBucket(context.Background(), tc.url)
		if tc.err == "" {
			if err != nil {
				t.Errorf("OpenBucket(%q): %v", tc.url, err)
				continue
			}
			b.Close()
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("OpenBucket(%q) = %v, want an error with %q", tc.url, err, tc.err)
		}
	}
}

func TestIsFileTemp(t *testing.T) {
	for key, want := range map[string]bool{
		"events/date=2025-03-01/device=x/1-2.parquet.17a9f3c2b.tmp": true,
		"blobs/bafkreiabc.1f.tmp":                                   true,
		"events/date=2025-03-01/device=x/1-2.parquet":               false,
		"x.tmp":      false,
		"x..tmp":     false,
		"x.17g.tmp":  false,
		"x.17a.tmpx": false,
	} {
		if isFileTemp(key) != want {
			t.Errorf("isFileTemp(%q) = %v", key, !want)
		}
	}
}
