package event

import (
	"encoding/json"
	"strings"
	"testing"
)

// benchInput is an ingest request with a payload of about 300 bytes.
func benchInput(b *testing.B) []byte {
	payload := map[string]any{
		"path":     "/products/widgets/blue-widget-deluxe",
		"referrer": "https://www.example.com/search?q=blue+widget&page=2",
		"session":  "9b2f3c1e-7d4a-4e8b-9c6d-2f1a3b4c5d6e",
		"viewport": map[string]int{"w": 1440, "h": 900},
		"tags":     []string{"promo", "summer", "newsletter"},
		"price":    1999,
		"note":     strings.Repeat("x", 60),
	}
	p, err := json.Marshal(payload)
	if err != nil {
		b.Fatal(err)
	}
	if len(p) < 280 || len(p) > 320 {
		b.Fatalf("payload of %d bytes", len(p))
	}
	in, err := json.Marshal(map[string]any{
		"type": "page.view", "ts": 1_700_000_000_123, "schema": 2,
		"payload": json.RawMessage(p), "blobs": []string{testCID(b, "bench").String()},
	})
	if err != nil {
		b.Fatal(err)
	}
	return in
}

func BenchmarkParseInput(b *testing.B) {
	in := benchInput(b)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseInput(in); err != nil {
			b.Fatal(err)
		}
	}
}

// benchEvent is sampleEvent with a 300-byte payload.
func benchEvent(b *testing.B) *Event {
	in, err := ParseInput(benchInput(b))
	if err != nil {
		b.Fatal(err)
	}
	e := sampleEvent(b)
	e.Payload, e.Blobs = in.Payload, in.Blobs
	return e
}

func BenchmarkAppendBinary(b *testing.B) {
	e := benchEvent(b)
	buf := e.AppendBinary(nil)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		buf = e.AppendBinary(buf[:0])
	}
}

func BenchmarkHash(b *testing.B) {
	e := benchEvent(b)
	b.SetBytes(int64(len(e.AppendBinary(nil))))
	b.ReportAllocs()
	for b.Loop() {
		_ = e.Hash()
	}
}

func BenchmarkDecode(b *testing.B) {
	enc := benchEvent(b).AppendBinary(nil)
	b.SetBytes(int64(len(enc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(enc); err != nil {
			b.Fatal(err)
		}
	}
}
