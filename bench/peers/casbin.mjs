// node-casbin peer: loads casbin_model.conf, adds one policy line per
// workload rule, and decides each request with enforceSync.
//
// Usage: node casbin.mjs --workload DIR/workload.json [--time-limit S] [--max-decisions N]

import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { newEnforcer, newModelFromString } from 'casbin';
import { checkAndMeasure, loadWorkload, runMain } from './lib/workload.mjs';

const require = createRequire(import.meta.url);
const VERSION = require('casbin/package.json').version;
const MODEL = readFileSync(new URL('./casbin_model.conf', import.meta.url), 'utf8');

export function ruleToCasbin(rule) {
  return [rule.id, rule.role, rule.tenant, rule.resource_type, rule.action,
    rule.scope ?? '', String(rule.require_tee), String(rule.allow_agent),
    rule.effect === 'permit' ? 'allow' : 'deny'];
}

// The request values in the field names the matcher reads.
function requestToCasbin(request) {
  return [
    { Role: request.subject.role, Tenant: request.subject.tenant },
    { Type: request.resource.type, Tenant: request.resource.tenant },
    request.action,
    {
      Scopes: request.scopes,
      HasActor: request.actor != null,
      HasTee: request.tee != null,
      TeeDebug: request.tee?.debug ?? false,
      TeeTcbOK: request.tee?.tcb_ok ?? false,
    },
  ];
}

async function main(options) {
  const workload = loadWorkload(options.workload);
  const start = performance.now();
  const enforcer = await newEnforcer(newModelFromString(MODEL));
  await enforcer.addFunction('hasScope', (scopes, scope) => scopes.includes(scope));
  const rules = workload.rules.map(ruleToCasbin);
  if (!(await enforcer.addPolicies(rules))) throw new Error('node-casbin rejected the policy lines');
  const policyCount = (await enforcer.getPolicy()).length;
  if (policyCount !== rules.length) {
    throw new Error(`node-casbin loaded ${policyCount} policy lines, expected ${rules.length}`);
  }
  const calls = workload.requests.map(requestToCasbin);
  const setupMs = performance.now() - start;

  const decide = (i) => enforcer.enforceSync(...calls[i]);
  return checkAndMeasure('casbin-node', VERSION, workload, setupMs, decide, options);
}

await runMain(main);
