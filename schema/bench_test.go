package schema

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

const benchRegistry = `{"sensor.reading": {"1": {"type": "object", "required": ["value"], "additionalProperties": false,
  "properties": {"value": {"type": "integer", "minimum": 0, "maximum": 100000}, "pad": {"type": "string", "maxLength": 1024}}}}}`

// BenchmarkCheck measures validating one 256-byte payload against its
// schema, next to the json.Valid every ingested payload already costs.
func BenchmarkCheck(b *testing.B) {
	payload := []byte(fmt.Sprintf(`{"value":%d,"pad":"%s"}`, 421, strings.Repeat("x", 256-40)))
	r := mustParse(b, benchRegistry)
	var base float64
	b.Run("json.Valid", func(b *testing.B) {
		for b.Loop() {
			if !json.Valid(payload) {
				b.Fatal("invalid")
			}
		}
		base = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})
	b.Run("Check", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := r.Check("sensor.reading", 1, payload); err != nil {
				b.Fatal(err)
			}
		}
		if base > 0 {
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/base, "x-json.Valid")
		}
	})
}
