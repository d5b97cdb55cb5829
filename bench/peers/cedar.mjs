// Cedar peer: translates the workload rules into Cedar policies, validates
// them against a schema once, preparses the policy set once, and decides
// each request with statefulIsAuthorized.
//
// Usage: node cedar.mjs --workload DIR/workload.json [--time-limit S] [--max-decisions N]

import { readFileSync } from 'node:fs';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { checkAndMeasure, loadWorkload, runMain } from './lib/workload.mjs';

const VERSION = JSON.parse(readFileSync(new URL(
    './node_modules/@cedar-policy/cedar-wasm/package.json', import.meta.url), 'utf8')).version;

// Principals are Users, resources are Resources; the workload's resource
// type is an attribute so that one schema serves every generated size.
const SCHEMA = `
entity User = { role: String, tenant: String };
entity Resource = { type: String, tenant: String };
type Tee = { debug: Bool, tcb_ok: Bool };
type Actor = { id: String };
action ACTIONS appliesTo {
  principal: User,
  resource: Resource,
  context: { scopes: Set<String>, actor?: Actor, tee?: Tee },
};`;

function quote(text) {
  return JSON.stringify(text);
}

// One Cedar policy per rule, with the rule id in an @id annotation.
export function ruleToCedar(rule) {
  const conditions = [
    `principal.role == ${quote(rule.role)}`,
    `resource.tenant == ${quote(rule.tenant)}`,
    'principal.tenant == resource.tenant',
    `resource.type == ${quote(rule.resource_type)}`,
  ];
  if (rule.scope !== null) conditions.push(`context.scopes.contains(${quote(rule.scope)})`);
  if (rule.require_tee) {
    conditions.push('context has tee', 'context.tee.debug == false', 'context.tee.tcb_ok == true');
  }
  if (!rule.allow_agent) conditions.push('!(context has actor)');
  return `@id(${quote(rule.id)})\n${rule.effect} (principal, ` +
      `action == Action::${quote(rule.action)}, resource)\n` +
      `when { ${conditions.join('\n  && ')} };`;
}

function schemaText(workload) {
  const actions = [...new Set(workload.rules.map((rule) => rule.action)
      .concat(workload.requests.map((request) => request.action)))].sort();
  return SCHEMA.replace('ACTIONS', actions.map(quote).join(', '));
}

function requestToCedar(request) {
  const context = { scopes: request.scopes };
  if (request.actor != null) context.actor = { id: request.actor.id };
  if (request.tee != null) context.tee = { debug: request.tee.debug, tcb_ok: request.tee.tcb_ok };
  const principal = { type: 'User', id: request.subject.id };
  const resource = { type: 'Resource', id: request.resource.id };
  return {
    principal,
    action: { type: 'Action', id: request.action },
    resource,
    context,
    preparsedPolicySetId: 'workload',
    entities: [
      { uid: principal, attrs: { role: request.subject.role, tenant: request.subject.tenant }, parents: [] },
      { uid: resource, attrs: { type: request.resource.type, tenant: request.resource.tenant }, parents: [] },
    ],
  };
}

function details(errors) {
  return errors.map((error) => error.message).join('; ');
}

async function main(options) {
  const workload = loadWorkload(options.workload);
  const start = performance.now();
  const policies = workload.rules.map(ruleToCedar).join('\n');
  const validation = cedar.validate({ schema: schemaText(workload), policies: { staticPolicies: policies } });
  if (validation.type !== 'success') throw new Error(`Cedar validation failed: ${details(validation.errors)}`);
  if (validation.validationErrors.length > 0) {
    const first = validation.validationErrors[0];
    throw new Error(`Cedar policy ${first.policyId} is ill-typed: ${first.error.message}`);
  }
  const parsed = cedar.preparsePolicySet('workload', { staticPolicies: policies });
  if (parsed.type !== 'success') throw new Error(`Cedar cannot parse the policies: ${details(parsed.errors)}`);
  const calls = workload.requests.map(requestToCedar);
  const setupMs = performance.now() - start;

  const decide = (i) => {
    const answer = cedar.statefulIsAuthorized(calls[i]);
    if (answer.type !== 'success') throw new Error(`Cedar failed on request ${i}: ${details(answer.errors)}`);
    if (answer.response.diagnostics.errors.length > 0) {
      throw new Error(`Cedar policy errors on request ${i}: ` +
          JSON.stringify(answer.response.diagnostics.errors));
    }
    return answer.response.decision === 'allow';
  };
  return checkAndMeasure('cedar', VERSION, workload, setupMs, decide, options);
}

await runMain(main);
