// Loading of workload.json and the measurement loop that every Node.js peer
// adapter shares, so that each engine is checked and timed the same way.

import { readFileSync } from 'node:fs';

// Reads and validates workload.json. Throws an Error naming the file and the
// offending field when the file does not have the documented shape.
export function loadWorkload(path) {
  let workload;
  try {
    workload = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read workload ${path}: ${error.message}`);
  }
  if (!Array.isArray(workload.rules) || !Array.isArray(workload.requests)) {
    throw new Error(`invalid workload ${path}: "rules" and "requests" must be arrays`);
  }
  workload.rules.forEach((rule, i) => checkRule(path, rule, i));
  workload.requests.forEach((request, i) => checkRequest(path, request, i));
  return workload;
}

function fail(path, where, message) {
  throw new Error(`invalid workload ${path}: ${where}: ${message}`);
}

function checkRule(path, rule, i) {
  const where = `rules[${i}]`;
  if (rule.effect !== 'permit' && rule.effect !== 'forbid') {
    fail(path, where, `effect is ${JSON.stringify(rule.effect)}, expected "permit" or "forbid"`);
  }
  for (const key of ['id', 'role', 'tenant', 'resource_type', 'action']) {
    if (typeof rule[key] !== 'string') fail(path, where, `"${key}" must be a string`);
  }
  if (rule.scope !== null && typeof rule.scope !== 'string') {
    fail(path, where, '"scope" must be a string or null');
  }
  for (const key of ['require_tee', 'allow_agent']) {
    if (typeof rule[key] !== 'boolean') fail(path, where, `"${key}" must be a boolean`);
  }
}

function checkRequest(path, request, i) {
  const where = `requests[${i}]`;
  const { subject, resource, tee, actor } = request;
  if (typeof subject?.id !== 'string' || typeof subject.role !== 'string' ||
      typeof subject.tenant !== 'string') {
    fail(path, where, '"subject" must have string "id", "role" and "tenant"');
  }
  if (typeof resource?.id !== 'string' || typeof resource.type !== 'string' ||
      typeof resource.tenant !== 'string') {
    fail(path, where, '"resource" must have string "id", "type" and "tenant"');
  }
  if (typeof request.action !== 'string') fail(path, where, '"action" must be a string');
  if (!Array.isArray(request.scopes) || request.scopes.some((s) => typeof s !== 'string')) {
    fail(path, where, '"scopes" must be an array of strings');
  }
  if (actor != null && typeof actor.id !== 'string') {
    fail(path, where, '"actor" must be null or have a string "id"');
  }
  if (tee != null && (typeof tee.debug !== 'boolean' || typeof tee.tcb_ok !== 'boolean')) {
    fail(path, where, '"tee" must be null or have boolean "debug" and "tcb_ok"');
  }
  if (typeof request.expected !== 'boolean') fail(path, where, '"expected" must be a boolean');
}

// Returns the arguments of a runner's command line as an object:
// --workload PATH (required), --time-limit SECONDS, --max-decisions N.
export function parseArgs(argv) {
  const options = { workload: null, timeLimitSeconds: 20, maxDecisions: 200000 };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`missing value after ${flag}`);
    if (flag === '--workload') {
      options.workload = value;
    } else if (flag === '--time-limit') {
      options.timeLimitSeconds = Number(value);
      if (!(options.timeLimitSeconds > 0)) throw new Error(`invalid --time-limit ${value}: expected seconds > 0`);
    } else if (flag === '--max-decisions') {
      options.maxDecisions = Number(value);
      if (!Number.isInteger(options.maxDecisions) || options.maxDecisions < 1) {
        throw new Error(`invalid --max-decisions ${value}: expected an integer >= 1`);
      }
    } else {
      throw new Error(`unknown option ${flag}; options are --workload, --time-limit, --max-decisions`);
    }
  }
  if (options.workload === null) throw new Error('missing --workload PATH');
  return options;
}

// Checks `decide(i)` against requests[i].expected for every request, then
// times single decisions over repeated passes of the same list until
// `timeLimitSeconds` have passed or `maxDecisions` were timed. Returns the
// result record that run.sh collects, or throws on the first disagreement
// with the request and both decisions.
export function checkAndMeasure(engine, version, workload, setupMs, decide, options) {
  const requests = workload.requests;
  if (requests.length === 0) throw new Error(`the workload ${options.workload} has no requests`);
  for (let i = 0; i < requests.length; i++) {
    const decision = decide(i);
    if (decision !== requests[i].expected) {
      throw new Error(
          `${engine} disagrees on request ${i}: decided ${decision ? 'PERMIT' : 'DENY'}, ` +
          `expected ${requests[i].expected ? 'PERMIT' : 'DENY'}\n` +
          `request: ${JSON.stringify(requests[i])}`);
    }
  }

  const samples = [];
  const deadline = process.hrtime.bigint() + BigInt(Math.round(options.timeLimitSeconds * 1e9));
  let sink = 0;
  outer: for (;;) {
    for (let i = 0; i < requests.length; i++) {
      const start = process.hrtime.bigint();
      const decision = decide(i);
      const end = process.hrtime.bigint();
      sink += decision ? 1 : 0;
      samples.push(Number(end - start));
      if (samples.length >= options.maxDecisions || end >= deadline) break outer;
    }
  }
  if (sink < 0) console.error(sink);  // keeps the decisions observable
  return summarize(engine, version, workload, setupMs, samples);
}

export function summarize(engine, version, workload, setupMs, samples) {
  const sorted = Float64Array.from(samples).sort();
  const rank = (q) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  return {
    engine, version,
    size: workload.rules.length,
    requests: workload.requests.length,
    checked: workload.requests.length,
    timed: sorted.length,
    setup_ms: Math.round(setupMs * 10) / 10,
    median_ns: rank(0.5),
    p99_ns: rank(0.99),
    mean_ns: Math.round(sorted.reduce((a, b) => a + b, 0) / sorted.length),
  };
}

// Runs `main` and prints its result as one JSON line, or prints the error
// and exits with status 1.
export async function runMain(main) {
  try {
    const result = await main(parseArgs(process.argv.slice(2)));
    process.stdout.write(JSON.stringify(result) + '\n');
  } catch (error) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}
