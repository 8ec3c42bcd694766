// Reads an archive's Parquet files with DuckDB, an implementation
// independent of the one that wrote them, for the sink tests.
//
//   node read_parquet.cjs <path of the package.json next to node_modules> <archive root>
//
// Prints one JSON line with each column's DuckDB type, then one JSON line
// per row, ordered by device and seq. BIGINTs print as strings.
const { createRequire } = require('module');
const duck = createRequire(process.argv[2])('@duckdb/node-api');

(async () => {
  const db = await duck.DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const files = JSON.stringify(process.argv[3] + '/events/**/*.parquet');
  const src = `read_parquet(${files}, hive_partitioning = true, filename = true)`;
  const types = {};
  for (const r of (await c.runAndReadAll(`DESCRIBE SELECT * FROM ${src}`)).getRowObjectsJson()) {
    types[r.column_name] = r.column_type;
  }
  console.log(JSON.stringify(types));
  const rows = await c.runAndReadAll(`
    SELECT event_id, device_id, seq, epoch_ms(ts) AS ts, type, schema,
           payload::VARCHAR AS payload, blobs, epoch_ms(received_at) AS received_at,
           redacted, redacted_by, epoch_ms(redacted_at) AS redacted_at,
           filename AS file, date::VARCHAR AS date, device
    FROM ${src} ORDER BY device_id, seq`);
  for (const r of rows.getRowObjectsJson()) console.log(JSON.stringify(r));
})().catch((e) => { console.error(e); process.exit(1); });
