// Reads a sink's redaction manifest with DuckDB, for the sink tests.
//
//   node read_manifest.cjs <path of the package.json next to node_modules> <archive root>
//
// Prints one JSON line with each column's DuckDB type, then one JSON line
// per row with its file and row number in the file (no order: the test
// orders them by the file's range). BIGINTs print as strings. Prints only
// the types line ({}) when there is no manifest file.
const { createRequire } = require('module');
const fs = require('fs');
const path = require('path');
const duck = createRequire(process.argv[2])('@duckdb/node-api');

(async () => {
  if (!fs.existsSync(path.join(process.argv[3], 'redactions'))) {
    console.log('{}');
    return;
  }
  const db = await duck.DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const files = JSON.stringify(process.argv[3] + '/redactions/**/*.parquet');
  const src = `read_parquet(${files}, hive_partitioning = true, filename = true, file_row_number = true)`;
  const types = {};
  for (const r of (await c.runAndReadAll(`DESCRIBE SELECT * FROM ${src}`)).getRowObjectsJson()) {
    types[r.column_name] = r.column_type;
  }
  console.log(JSON.stringify(types));
  const rows = await c.runAndReadAll(`
    SELECT device_id, seq, event_id, type, epoch_ms(ts) AS ts, redacted_by, epoch_ms(redacted_at) AS redacted_at,
           file AS archive_file, filename AS manifest, file_row_number AS row, log
    FROM ${src}`);
  for (const r of rows.getRowObjectsJson()) console.log(JSON.stringify(r));
})().catch((e) => { console.error(e); process.exit(1); });
