// Collects the result lines of one run.sh run into results.json and
// results.csv, and prints the comparison table with the ratio of each
// peer's per-decision time to Verdict's, measured in the same run.
//
// Usage: node report.mjs OUT_DIR   (reads OUT_DIR/raw/*.json and OUT_DIR/meta.json)

import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ENGINES = ['verdict', 'cedar', 'casbin-node', 'casbin-go'];

function formatNs(ns) {
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(1)} µs`;
  return `${ns} ns`;
}

function formatRatio(ratio) {
  return ratio >= 100 ? `${Math.round(ratio).toLocaleString('en-US')}x` : `${ratio.toFixed(1)}x`;
}

const out = process.argv[2];
if (!out) {
  process.stderr.write('usage: node report.mjs OUT_DIR\n');
  process.exit(2);
}
const meta = JSON.parse(readFileSync(join(out, 'meta.json'), 'utf8'));
const results = readdirSync(join(out, 'raw')).filter((name) => name.endsWith('.json'))
    .map((name) => JSON.parse(readFileSync(join(out, 'raw', name), 'utf8')));

const sizes = [...new Set(results.map((r) => r.size))].sort((a, b) => a - b);
const rows = [];
for (const size of sizes) {
  const verdict = results.find((r) => r.size === size && r.engine === 'verdict');
  for (const engine of ENGINES) {
    const r = results.find((x) => x.size === size && x.engine === engine);
    if (!r) continue;
    rows.push({
      ...r,
      median_ratio: verdict ? r.median_ns / verdict.median_ns : null,
      p99_ratio: verdict ? r.p99_ns / verdict.p99_ns : null,
    });
  }
}

writeFileSync(join(out, 'results.json'), JSON.stringify({ meta, results: rows }, null, 1) + '\n');
const columns = ['size', 'engine', 'version', 'requests', 'checked', 'timed', 'setup_ms',
  'median_ns', 'p99_ns', 'mean_ns', 'median_ratio', 'p99_ratio', 'evaluate_median_ns',
  'evaluate_p99_ns'];
writeFileSync(join(out, 'results.csv'), [columns.join(',')]
    .concat(rows.map((row) => columns.map((c) => row[c] ?? '').join(','))).join('\n') + '\n');

const header = ['rules', 'engine', 'median', 'p99', 'timed', 'median vs Verdict', 'p99 vs Verdict'];
const table = [header].concat(rows.map((row) => [
  row.size.toLocaleString('en-US'), `${row.engine} ${row.version}`, formatNs(row.median_ns),
  formatNs(row.p99_ns), row.timed.toLocaleString('en-US'),
  row.engine === 'verdict' ? '1x' : formatRatio(row.median_ratio),
  row.engine === 'verdict' ? '1x' : formatRatio(row.p99_ratio),
]));
const widths = header.map((_, c) => Math.max(...table.map((line) => String(line[c]).length)));
process.stdout.write(`commit ${meta.commit}, ${meta.date}, ${meta.machine}\n`);
for (const line of table) {
  process.stdout.write(line.map((cell, c) => String(cell).padEnd(widths[c])).join('  ') + '\n');
}
for (const row of rows.filter((r) => r.engine === 'verdict')) {
  process.stdout.write(`verdict at ${row.size.toLocaleString('en-US')} rules: evaluation alone ` +
      `(request decoding excluded) median ${formatNs(row.evaluate_median_ns)}, ` +
      `p99 ${formatNs(row.evaluate_p99_ns)}\n`);
}
process.stdout.write(`every engine returned the expected decision for every request; ` +
    `results in ${join(out, 'results.json')} and results.csv\n`);
