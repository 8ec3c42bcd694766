// Package duckdb lets tests read a sink's archive with DuckDB (its Node.js
// client), a Parquet reader independent of the one rumor writes with.
//
// The client is looked up in $RUMOR_DUCKDB_DIR, else
// ~/.cache/rumor-test/duckdb (npm install --prefix DIR
// @duckdb/node-api@1.5.6-r.1), and needs node on PATH. Without them a test
// is skipped, or fails when RUMOR_REQUIRE_DUCKDB=1 (as .ci/run sets it).
package duckdb
