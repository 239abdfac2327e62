// DuckDB peer for tools/bench/run.sh, through the @duckdb/node-api package.
//
//   node duckdb_bench.mjs load  DB CORPUS.jsonl
//       Loads the JSON lines into a native table `events` (typed columns and structs; bodies
//       and maps as JSON) and prints {"seconds":..., "events":...}.
//   node duckdb_bench.mjs query DB RUNS QUERIES.json
//       QUERIES.json is [{"name":..., "sql":...}]. Runs each query RUNS times in this one
//       process and prints one JSON line per query: {"name", "ms":[...], "rows"}.
//   node duckdb_bench.mjs version
import { readFileSync } from 'node:fs';
import duckdb, { DuckDBInstance } from '@duckdb/node-api';

const kColumns = `{
  kind: 'VARCHAR', apiVersion: 'VARCHAR', level: 'VARCHAR', auditID: 'VARCHAR',
  stage: 'VARCHAR', requestURI: 'VARCHAR', verb: 'VARCHAR',
  "user": 'STRUCT(username VARCHAR, uid VARCHAR, groups VARCHAR[], extra JSON)',
  impersonatedUser: 'JSON', sourceIPs: 'VARCHAR[]', userAgent: 'VARCHAR',
  objectRef: 'STRUCT(resource VARCHAR, namespace VARCHAR, name VARCHAR, uid VARCHAR,
    apiGroup VARCHAR, apiVersion VARCHAR, resourceVersion VARCHAR, subresource VARCHAR)',
  responseStatus: 'STRUCT(metadata JSON, status VARCHAR, message VARCHAR, reason VARCHAR,
    details JSON, code INTEGER)',
  requestObject: 'JSON', responseObject: 'JSON',
  requestReceivedTimestamp: 'TIMESTAMP', stageTimestamp: 'TIMESTAMP', annotations: 'JSON'
}`;

function quote(text) {
  return `'${text.replaceAll("'", "''")}'`;
}

async function main() {
  const [mode, db, ...rest] = process.argv.slice(2);
  if (mode === 'version') {
    console.log(duckdb.version());
    return;
  }
  const instance = await DuckDBInstance.create(db);
  const connection = await instance.connect();
  if (mode === 'load') {
    const [corpus] = rest;
    const start = process.hrtime.bigint();
    await connection.run(
        `CREATE TABLE events AS SELECT * FROM read_json(${quote(corpus)}, ` +
        `format = 'newline_delimited', columns = ${kColumns}, maximum_object_size = 67108864)`);
    await connection.run('CHECKPOINT');
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const count = await connection.runAndReadAll('SELECT count(*)::BIGINT AS n FROM events');
    console.log(JSON.stringify({ seconds, events: Number(count.getRowObjects()[0].n) }));
  } else if (mode === 'query') {
    const [runs, queriesFile] = rest;
    const queries = JSON.parse(readFileSync(queriesFile, 'utf8'));
    for (const q of queries) {
      const ms = [];
      let rows = 0;
      for (let i = 0; i < Number(runs); ++i) {
        const start = process.hrtime.bigint();
        const reader = await connection.runAndReadAll(q.sql);
        rows = reader.getRows().length;
        ms.push(Number(process.hrtime.bigint() - start) / 1e6);
      }
      console.log(JSON.stringify({ name: q.name, ms, rows }));
    }
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
  connection.closeSync?.();
}

main().catch((e) => {
  console.error(`duckdb_bench: ${e.message}`);
  process.exit(1);
});
