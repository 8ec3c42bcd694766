package sink

import (
	"bytes"
	"fmt"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"
)

// createdBy is written into every file's footer; it is constant, so that
// the same rows always encode to the same bytes.
const createdBy = "rumor"

// EncodeParquet returns rows as one zstd-compressed Parquet file (a single
// row group). The encoding is deterministic: the same rows give the same
// bytes, so re-uploading a range rewrites its file identically.
func EncodeParquet(rows []Row) ([]byte, error) { return encodeRows(rows) }

// encodeRows is EncodeParquet for any row type.
func encodeRows[T any](rows []T) ([]byte, error) {
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[T](&buf,
		parquet.Compression(&zstd.Codec{Level: zstd.SpeedDefault}),
		parquet.CreatedBy(createdBy, "", ""),
		parquet.MaxRowsPerRowGroup(int64(max(len(rows), 1))),
	)
	if _, err := w.Write(rows); err != nil {
		return nil, fmt.Errorf("sink: encode parquet: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("sink: encode parquet: %w", err)
	}
	return buf.Bytes(), nil
}
