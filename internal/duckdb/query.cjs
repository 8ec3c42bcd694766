// Runs one SQL query with DuckDB, an implementation independent of the
// Parquet writer, and prints each result row as a JSON line (BIGINTs as
// strings, lists as arrays).
//
//   node query.cjs <path of the package.json next to node_modules> <sql>
const { createRequire } = require('module');
const duck = createRequire(process.argv[2])('@duckdb/node-api');

(async () => {
  const db = await duck.DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const rows = await c.runAndReadAll(process.argv[3]);
  for (const r of rows.getRowObjectsJson()) console.log(JSON.stringify(r));
})().catch((e) => { console.error(e); process.exit(1); });
