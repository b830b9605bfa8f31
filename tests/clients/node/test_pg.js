#!/usr/bin/env node
// Client test: node-postgres (npm `pg`) against a real `ripple` (or PostgreSQL with --pg).
//
// node-postgres sends no SSLRequest, runs every parameterised query as unnamed
// Parse/Bind/Describe P/Execute/Sync with OID 0 (unknown) text parameters, so the
// server must infer parameter types from context; `{name: 'q1', text, values}`
// parses a named statement once and then only Binds it. Results come back in text
// and are converted by the driver's type parsers keyed on the RowDescription OIDs.
// One scenario, one output line per check.
//
// Usage:
//   node tests/clients/node/test_pg.js --ripple-bin target/debug/ripple [--workers N]
//   node tests/clients/node/test_pg.js --pg        # PostgreSQL at 127.0.0.1:54329
// Needs `npm ci` (or `npm install`) in tests/clients/node (tests/install-deps.sh).
'use strict';

const { spawn } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const pg = require('pg');

const PG_PORT = Number(process.env.PGTEST_PORT || 54329);
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const USE_PG = args.includes('--pg');
const RIPPLE_BIN = path.resolve(opt('--ripple-bin', 'target/debug/ripple'));
const WORKERS = opt('--workers', '1');

class CheckFailed extends Error {}
function check(cond, msg) {
  if (!cond) throw new CheckFailed(msg);
}
const show = (v) => JSON.stringify(v, (k, x) => (typeof x === 'bigint' ? `${x}n` : x));
function same(got, want) {
  return show(got) === show(want);
}
function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

class Server {
  async start() {
    this.tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ripple-nodepg-'));
    this.logPath = path.join(this.tmp, 'ripple.log');
    this.port = await freePort();
    const log = fs.openSync(this.logPath, 'a');
    this.proc = spawn(RIPPLE_BIN, ['--listen', `127.0.0.1:${this.port}`, '--data-dir',
      path.join(this.tmp, 'data'), '--workers', WORKERS], { stdio: ['ignore', log, log] });
    this.exited = false;
    this.proc.on('exit', () => { this.exited = true; });
    process.on('exit', () => { if (!this.exited) this.proc.kill('SIGKILL'); });  // never leave it behind
    const deadline = Date.now() + 30000;
    while (Date.now() < deadline) {
      if (this.exited) throw new CheckFailed(`ripple exited during start-up\n${this.logTail()}`);
      const c = new pg.Client(this.config());
      try {
        await c.connect();
        await c.end();
        return;
      } catch (e) {
        await sleep(100);
      }
    }
    throw new CheckFailed(`ripple did not accept connections within 30 s\n${this.logTail()}`);
  }
  config() {
    return { host: '127.0.0.1', port: this.port, user: 'ripple', database: 'ripple' };
  }
  async stop() {
    if (!this.proc || this.exited) return;
    this.proc.kill('SIGTERM');
    for (let i = 0; i < 100 && !this.exited; i++) await sleep(100);
    if (!this.exited) this.proc.kill('SIGKILL');
  }
  logTail() {
    try {
      return fs.readFileSync(this.logPath, 'utf8').split('\n').slice(-30).join('\n');
    } catch (e) {
      return '(no server log)';
    }
  }
}

const SCHEMA = [
  'CREATE TABLE things (id integer NOT NULL, big bigint, f8 double precision, amount numeric(12,3),'
    + ' label text, tag varchar(20), flag boolean, day date, at timestamp, atz timestamptz,'
    + ' doc jsonb, span interval, words text[], nums integer[])',
  'CREATE INDEX things_day_idx ON things (day)',
  "CREATE VIEW recent AS SELECT id, label, day FROM things WHERE day >= DATE '2024-01-01'",
  'CREATE MATERIALIZED VIEW totals AS SELECT flag, count(*) AS n, sum(amount) AS total'
    + ' FROM things GROUP BY flag',
];
const INSERT = 'INSERT INTO things VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)';
const ROWS = [
  [1, '1099511627776', 0.5, '12.5', 'apple', 'red', true, '2024-01-15', '2024-01-15 10:30:00.25',
    new Date(Date.UTC(2024, 0, 15, 9, 0)), { a: 1, b: [true, null] }, '1 day 02:00:00', ['x', 'y z'], [1, 2, 3]],
  [2, -5, -2.25, '0.001', 'pear', 'green', false, '2023-12-31', '2023-12-31 23:59:59',
    '2023-12-31 22:00:00+02', '[1, 2]', '00:05:00', ['only'], []],
  [3, null, null, null, 'fig', null, null, null, null, null, null, null, null, null],
  [4, '9223372036854775807', 1e100, '-999999999.999', "o'range", '', true, '2000-02-29',
    '2000-02-29 00:00:00', '2000-02-29T12:00:00Z', '"str"', '-3 days +00:00:01', [null, ''], [null, 5]],
];

// Rows as node-postgres returns them with its default type parsers (text results):
// int8 and numeric stay strings, date/timestamp/timestamptz become Date (timestamp
// without time zone is read in the process's local zone: TZ=UTC is set below),
// jsonb is parsed, interval becomes a PostgresInterval, arrays are parsed.
const EXPECTED = [
  { id: 1, big: '1099511627776', f8: 0.5, amount: '12.500', label: 'apple', tag: 'red', flag: true,
    day: '2024-01-15T00:00:00.000Z', at: '2024-01-15T10:30:00.250Z', atz: '2024-01-15T09:00:00.000Z',
    doc: { a: 1, b: [true, null] }, span: { days: 1, hours: 2 }, words: ['x', 'y z'], nums: [1, 2, 3] },
  { id: 2, big: '-5', f8: -2.25, amount: '0.001', label: 'pear', tag: 'green', flag: false,
    day: '2023-12-31T00:00:00.000Z', at: '2023-12-31T23:59:59.000Z', atz: '2023-12-31T20:00:00.000Z',
    doc: [1, 2], span: { minutes: 5 }, words: ['only'], nums: [] },
  { id: 3, big: null, f8: null, amount: null, label: 'fig', tag: null, flag: null, day: null, at: null,
    atz: null, doc: null, span: null, words: null, nums: null },
  { id: 4, big: '9223372036854775807', f8: 1e100, amount: '-999999999.999', label: "o'range", tag: '',
    flag: true, day: '2000-02-29T00:00:00.000Z', at: '2000-02-29T00:00:00.000Z',
    atz: '2000-02-29T12:00:00.000Z', doc: 'str', span: { days: -3, seconds: 1 }, words: [null, ''],
    nums: [null, 5] },
];

function plain(row) {
  const out = {};
  for (const [k, v] of Object.entries(row)) {
    if (v instanceof Date) out[k] = v.toISOString();
    else if (v && typeof v === 'object' && v.constructor && v.constructor.name === 'PostgresInterval') {
      out[k] = Object.fromEntries(Object.entries(v).filter(([, x]) => x !== 0));
    } else out[k] = v;
  }
  return out;
}

let server = null;
let client = null;

function connectConfig() {
  if (USE_PG) return { host: '127.0.0.1', port: PG_PORT, user: 'postgres', database: 'ripple_nodepg' };
  return server.config();
}
async function syncMv(c = client) {
  // PostgreSQL's materialized views are snapshots; Ripple's follow writes.
  if (USE_PG) await c.query('REFRESH MATERIALIZED VIEW totals');
}

const CHECKS = {
  async connect() {
    client = new pg.Client(connectConfig());
    await client.connect();
    const r = await client.query('SELECT 1 AS one');
    check(r.rows[0].one === 1, `SELECT 1: ${show(r.rows)}`);
  },
  async schema() {
    for (const s of SCHEMA) await client.query(s);
  },
  async insert_params() {
    for (const row of ROWS) {
      const r = await client.query(INSERT, row);
      check(r.command === 'INSERT' && r.rowCount === 1, `${r.command} ${r.rowCount}`);
    }
  },
  async fetch_typed() {
    const r = await client.query('SELECT * FROM things ORDER BY id');
    const got = r.rows.map(plain);
    for (let i = 0; i < EXPECTED.length; i++) {
      check(same(got[i], EXPECTED[i]), `row ${i + 1}\n  want ${show(EXPECTED[i])}\n  got  ${show(got[i])}`);
    }
    check(got.length === EXPECTED.length, `${got.length} rows`);
    const oids = r.fields.map((f) => f.dataTypeID);
    const want = [23, 20, 701, 1700, 25, 1043, 16, 1082, 1114, 1184, 3802, 1186, 1009, 1007];
    check(same(oids, want), `column type OIDs want ${show(want)} got ${show(oids)}`);
  },
  async param_inference() {
    // OID 0 (unknown) text parameters: the server types them from context.
    const cases = [
      ['SELECT id FROM things WHERE big > $1 ORDER BY id', [0], [1, 4]],
      ['SELECT id FROM things WHERE amount >= $1 AND label LIKE $2 ORDER BY id', ['0.001', '%a%'], [1, 2]],
      ['SELECT id FROM things WHERE day BETWEEN $1 AND $2 ORDER BY id', ['2023-01-01', '2024-12-31'], [1, 2]],
      ['SELECT id FROM things WHERE at < $1 ORDER BY id', [new Date(Date.UTC(2000, 2, 1))], [4]],
      ['SELECT id FROM things WHERE atz > $1 ORDER BY id', ['2024-01-01T00:00:00Z'], [1]],
      ['SELECT id FROM things WHERE flag = $1 ORDER BY id', [false], [2]],
      ['SELECT id FROM things WHERE f8 < $1 ORDER BY id', [0], [2]],
      ['SELECT id FROM things WHERE id = ANY($1) ORDER BY id', [[2, 3, 9]], [2, 3]],
      ['SELECT id FROM things WHERE doc @> $1 ORDER BY id', [{ a: 1 }], [1]],
      ['SELECT id FROM things ORDER BY id LIMIT $1 OFFSET $2', [2, 1], [2, 3]],
      ['SELECT id FROM things WHERE id = $1::int + 1', ['1'], [2]],
      ['SELECT id FROM things WHERE span > $1 ORDER BY id', ['1 hour'], [1]],
    ];
    const bad = [];
    for (const [sql, params, want] of cases) {
      try {
        const r = await client.query(sql, params);
        const got = r.rows.map((x) => x.id);
        if (!same(got, want)) bad.push(`${sql} ${show(params)}: want ${show(want)} got ${show(got)}`);
      } catch (e) {
        bad.push(`${sql} ${show(params)}: ${e.message} [${e.code}]`);
      }
    }
    check(bad.length === 0, `${bad.length}/${cases.length} cases failed:\n    ${bad.join('\n    ')}`);
  },
  async param_results() {
    const r = await client.query(
      'SELECT $1::int + 1 AS a, $2::bigint * 2 AS b, $3::float8 / 2 AS c, $4::numeric + 1 AS d,'
      + " $5::text || '!' AS e, NOT $6::bool AS f, $7::date + 1 AS g, $8::jsonb -> 'k' AS h",
      [41, '8589934592', 5, '1.25', 'hi', false, '2024-02-28', '{"k": [1]}']);
    const got = plain(r.rows[0]);
    const want = { a: 42, b: '17179869184', c: 2.5, d: '2.25', e: 'hi!', f: true,
      g: '2024-02-29T00:00:00.000Z', h: [1] };
    check(same(got, want), `want ${show(want)} got ${show(got)}`);
  },
  async named_prepared_reuse() {
    const q = { name: 'q1', text: 'SELECT label, amount FROM things WHERE id = $1' };
    for (let round = 0; round < 3; round++) {
      for (const [id, want] of [[1, [{ label: 'apple', amount: '12.500' }]], [2, [{ label: 'pear', amount: '0.001' }]], [9, []]]) {
        const r = await client.query({ ...q, values: [id] });
        check(same(r.rows, want), `round ${round} id=${id}: ${show(r.rows)}`);
      }
    }
    const q2 = { name: 'count_le', text: 'SELECT count(*)::int AS n FROM things WHERE id <= $1' };
    for (let i = 0; i < 6; i++) {
      const r = await client.query({ ...q2, values: [i] });
      check(r.rows[0].n === Math.min(i, 4), `count_le(${i}): ${show(r.rows)}`);
    }
  },
  async row_mode_array() {
    const r = await client.query({ text: 'SELECT id, label FROM things WHERE id < $1 ORDER BY id', values: [3], rowMode: 'array' });
    check(same(r.rows, [[1, 'apple'], [2, 'pear']]), show(r.rows));
    check(same(r.fields.map((f) => f.name), ['id', 'label']), show(r.fields.map((f) => f.name)));
  },
  async update_delete() {
    let r = await client.query('UPDATE things SET amount = amount + $1 WHERE flag = $2', ['1', true]);
    check(r.command === 'UPDATE' && r.rowCount === 2, `UPDATE ${r.rowCount}`);
    r = await client.query('DELETE FROM things WHERE id = $1', [4]);
    check(r.command === 'DELETE' && r.rowCount === 1, `DELETE ${r.rowCount}`);
  },
  async mv_follows_writes() {
    const q = 'SELECT flag, n, total FROM totals ORDER BY flag NULLS LAST';
    await syncMv();
    let r = await client.query(q);
    let want = [{ flag: false, n: '1', total: '0.001' }, { flag: true, n: '1', total: '13.500' },
      { flag: null, n: '1', total: null }];
    check(same(r.rows, want), `before: want ${show(want)} got ${show(r.rows)}`);
    await client.query('INSERT INTO things (id, amount, flag) VALUES ($1, $2, $3), ($4, $5, $6)',
      [10, '2.5', false, 11, '1', true]);
    await syncMv();
    r = await client.query(q);
    want = [{ flag: false, n: '2', total: '2.501' }, { flag: true, n: '2', total: '14.500' },
      { flag: null, n: '1', total: null }];
    check(same(r.rows, want), `after INSERT: want ${show(want)} got ${show(r.rows)}`);
    await client.query('DELETE FROM things WHERE id >= $1', [10]);
    await syncMv();
    r = await client.query('SELECT sum(n)::int AS s FROM totals');
    check(r.rows[0].s === 3, `after DELETE: ${show(r.rows)}`);
  },
  async view() {
    const r = await client.query('SELECT id, label FROM recent ORDER BY id');
    check(same(r.rows, [{ id: 1, label: 'apple' }]), show(r.rows));
  },
  async information_schema() {
    let r = await client.query(
      'SELECT column_name, data_type FROM information_schema.columns'
      + ' WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position', ['public', 'things']);
    const want = [['id', 'integer'], ['big', 'bigint'], ['f8', 'double precision'], ['amount', 'numeric'],
      ['label', 'text'], ['tag', 'character varying'], ['flag', 'boolean'], ['day', 'date'],
      ['at', 'timestamp without time zone'], ['atz', 'timestamp with time zone'], ['doc', 'jsonb'],
      ['span', 'interval'], ['words', 'ARRAY'], ['nums', 'ARRAY']];
    const got = r.rows.map((x) => [x.column_name, x.data_type]);
    check(same(got, want), `columns\n  want ${show(want)}\n  got  ${show(got)}`);
    r = await client.query("SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1");
    const tables = r.rows.map((x) => [x.table_name, x.table_type]);
    check(same(tables, [['recent', 'VIEW'], ['things', 'BASE TABLE']]), `tables ${show(tables)}`);
  },
  async pg_catalog() {
    const r = await client.query(
      'SELECT c.relname, c.relkind FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n'
      + ' ON n.oid = c.relnamespace WHERE n.nspname = $1 ORDER BY c.relname', ['public']);
    const got = r.rows.map((x) => [x.relname, x.relkind]);
    const want = [['recent', 'v'], ['things', 'r'], ['things_day_idx', 'i'], ['totals', 'm']];
    check(same(got, want), `pg_class want ${show(want)} got ${show(got)}`);
  },
  async transaction() {
    await client.query('BEGIN');
    await client.query('INSERT INTO things (id, label) VALUES ($1, $2)', [20, 'kept']);
    await client.query('COMMIT');
    await client.query('BEGIN');
    await client.query('INSERT INTO things (id, label) VALUES ($1, $2)', [21, 'dropped']);
    await client.query('ROLLBACK');
    const r = await client.query('SELECT id, label FROM things WHERE id >= 20 ORDER BY id');
    check(same(r.rows, [{ id: 20, label: 'kept' }]), show(r.rows));
    await client.query('DELETE FROM things WHERE id >= 20');
  },
  async errors() {
    for (const [sql, params, code] of [
      ['SELECT * FROM no_such_table WHERE id = $1', [1], '42P01'],
      ['SELECT no_such_column FROM things', [], '42703'],
      ['SELEC 1', [], '42601'],
      ['SELECT 1 / $1::int', [0], '22012'],
      ['SELECT $1::int', ['abc'], '22P02'],
    ]) {
      let err = null;
      try {
        await client.query(sql, params);
      } catch (e) {
        err = e;
      }
      check(err !== null, `${sql}: want error ${code}, got success`);
      check(err.code === code, `${sql}: want ${code}, got ${err.code} ${err.message}`);
    }
    const r = await client.query('SELECT $1::int + 1 AS n', [1]);
    check(r.rows[0].n === 2, `session usable after errors: ${show(r.rows)}`);
  },
  async simple_multi_statement() {
    // no values: node-postgres uses the simple query protocol
    const r = await client.query('SELECT 1 AS a; SELECT 2 AS b');
    check(Array.isArray(r) && r.length === 2 && r[1].rows[0].b === 2, show(r.map ? r.map((x) => x.rows) : r));
  },
  async pool() {
    const pool = new pg.Pool({ ...connectConfig(), max: 3 });
    try {
      const rs = await Promise.all([1, 2, 3, 4, 5, 6].map((i) => pool.query('SELECT $1::int * 2 AS v', [i])));
      const got = rs.map((r) => r.rows[0].v);
      check(same(got, [2, 4, 6, 8, 10, 12]), show(got));
    } finally {
      await pool.end();
    }
  },
};

async function freshPgDb() {
  const admin = new pg.Client({ host: '127.0.0.1', port: PG_PORT, user: 'postgres', database: 'postgres' });
  await admin.connect();
  await admin.query('DROP DATABASE IF EXISTS ripple_nodepg');
  await admin.query('CREATE DATABASE ripple_nodepg');
  await admin.end();
}

function withTimeout(p, ms) {
  let t;
  return Promise.race([p, new Promise((_, rej) => { t = setTimeout(() => rej(new CheckFailed(`timed out after ${ms / 1000} s`)), ms); })])
    .finally(() => clearTimeout(t));
}

async function main() {
  process.env.TZ = 'UTC';
  console.log(`pg (node-postgres) ${require('pg/package.json').version}, node ${process.version}`);
  let passed = 0;
  let failed = 0;
  try {
    if (USE_PG) await freshPgDb();
    else {
      server = new Server();
      await server.start();
    }
    for (const [name, fn] of Object.entries(CHECKS)) {
      try {
        await withTimeout(fn(), 30000);
        passed++;
        console.log(`ok   ${name}`);
      } catch (e) {
        failed++;
        const code = e.code ? ` [SQLSTATE ${e.code}]` : '';
        console.log(`FAIL ${name}: ${e instanceof CheckFailed ? '' : `${e.constructor.name}: `}${e.message}${code}`);
        if (server && server.exited) {
          console.log(server.logTail());
          break;
        }
        if (client === null || client._ending || !client._connected || client._queryable === false) {
          try {
            if (client) client.end().catch(() => {});
            client = new pg.Client(connectConfig());
            await client.connect();
          } catch (e2) {
            console.log(`FAIL reconnect: ${e2.message}`);
            break;
          }
        }
      }
    }
  } finally {
    if (client) await client.end().catch(() => {});
    if (server) {
      await server.stop();
      if (failed) console.log(`server log: ${server.logPath}`);
    }
  }
  console.log(`test_pg: ${passed} passed, ${failed} failed`);
  return failed ? 1 : 0;
}

main().then((rc) => process.exit(rc), (e) => {
  console.log(`FAIL setup: ${e.message}`);
  if (server) server.stop().then(() => process.exit(1));
  else process.exit(1);
});
