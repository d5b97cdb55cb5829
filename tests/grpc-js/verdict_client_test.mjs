// Drives `verdict serve` with @grpc/grpc-js and @grpc/proto-loader, a gRPC
// stack written apart from the C++ gRPC the server uses, so that a wire
// detail both C++ sides would get wrong in the same way still fails here.
//
// Starts the server on 127.0.0.1 with a port the OS chooses, serving
// examples/envoy, then calls verdict.v1.Verdict/Decide and
// envoy.service.auth.v3.Authorization/Check (every request of
// examples/envoy/checks), and stops it with SIGTERM.
//
// Usage: node verdict_client_test.mjs VERDICT_BINARY SOURCE_DIR MODULES_DIR
// where MODULES_DIR is the directory setup.sh installed the packages into.

import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import fs from 'node:fs';
import {createRequire} from 'node:module';
import os from 'node:os';
import path from 'node:path';

const [verdictBinary, sourceDir, modulesDir] = process.argv.slice(2);
if (!modulesDir) {
  console.error(
      'usage: node verdict_client_test.mjs VERDICT_BINARY SOURCE_DIR ' +
      'MODULES_DIR');
  process.exit(2);
}
const require = createRequire(path.join(path.resolve(modulesDir), 'index.js'));
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const kStartTimeoutMs = 30_000;
const kCallDeadlineMs = 10_000;
const kExitTimeoutMs = 15_000;
const exampleDir = path.join(sourceDir, 'examples', 'envoy');

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Converts proto3 JSON (a plain object, as in the checks files) to the
// google.protobuf.Value shape proto-loader encodes.
function toValue(json) {
  if (json === null) return {nullValue: 'NULL_VALUE'};
  if (Array.isArray(json)) return {listValue: {values: json.map(toValue)}};
  switch (typeof json) {
    case 'string':
      return {stringValue: json};
    case 'number':
      return {numberValue: json};
    case 'boolean':
      return {boolValue: json};
    default:
      return {structValue: toStruct(json)};
  }
}

function toStruct(json) {
  const fields = {};
  for (const [key, value] of Object.entries(json)) fields[key] = toValue(value);
  return {fields};
}

function fromValue(value) {
  switch (value.kind) {
    case 'stringValue':
      return value.stringValue;
    case 'listValue':
      return value.listValue.values.map(fromValue);
    case 'structValue':
      return fromStruct(value.structValue);
    case 'numberValue':
      return value.numberValue;
    case 'boolValue':
      return value.boolValue;
    default:
      return null;
  }
}

function fromStruct(struct) {
  const out = {};
  for (const [key, value] of Object.entries(struct.fields ?? {})) {
    out[key] = fromValue(value);
  }
  return out;
}

// The checks files hold the CheckRequest in proto3 JSON; only the metadata
// Structs need converting to proto-loader's object form.
function toCheckRequest(check) {
  const request = structuredClone(check);
  const metadata = request.attributes?.metadataContext?.filterMetadata;
  if (metadata) {
    for (const [name, struct] of Object.entries(metadata)) {
      metadata[name] = toStruct(struct);
    }
  }
  return request;
}

function headerMap(options) {
  const out = {};
  for (const option of options ?? []) {
    out[option.header.key] = option.header.value;
  }
  return out;
}

function call(client, method, request) {
  const deadline = new Date(Date.now() + kCallDeadlineMs);
  return new Promise((resolve, reject) => {
    client[method](request, {deadline}, (error, response) => {
      if (error) reject(error);
      else resolve(response);
    });
  });
}

async function waitForPortFile(portFile, server) {
  const deadline = Date.now() + kStartTimeoutMs;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) {
      throw new Error(`verdict serve exited with ${server.exitCode}`);
    }
    if (fs.existsSync(portFile)) {
      const port = Number.parseInt(fs.readFileSync(portFile, 'utf8'), 10);
      if (port > 0) return port;
    }
    await sleep(20);
  }
  throw new Error(`no port file ${portFile} within ${kStartTimeoutMs} ms`);
}

function loadClients(port) {
  const definition = protoLoader.loadSync(
      [
        'verdict/v1/verdict.proto',
        'envoy/service/auth/v3/external_auth.proto',
      ],
      {
        includeDirs: [path.join(sourceDir, 'proto')],
        keepCase: false,
        longs: String,
        enums: String,
        defaults: true,
        oneofs: true,
      });
  const loaded = grpc.loadPackageDefinition(definition);
  const address = `127.0.0.1:${port}`;
  const credentials = grpc.credentials.createInsecure();
  return {
    verdict: new loaded.verdict.v1.Verdict(address, credentials),
    authorization:
        new loaded.envoy.service.auth.v3.Authorization(address, credentials),
  };
}

async function testDecide(verdict) {
  const permit = await call(verdict, 'Decide', {
    action: {name: 'GET'},
    resource: {
      properties: {
        fields: {
          host: {stringValue: 'shop.example'},
          path: {stringValue: '/public/index.html'},
        },
      },
    },
  });
  assert.equal(permit.decision, true);
  assert.deepEqual(permit.policies, ['public-pages']);
  assert.match(permit.decisionId, /^[0-9a-f-]{36}$/);

  // An int for the string attribute resource.path is rejected. The int64
  // is sent from a decimal string (longs: String), so no precision is lost.
  await assert.rejects(
      call(verdict, 'Decide', {
        action: {name: 'GET'},
        resource: {
          properties: {fields: {path: {intValue: '9007199254740993'}}},
        },
      }),
      (error) => {
        assert.equal(error.code, grpc.status.INVALID_ARGUMENT);
        assert.match(error.details, /resource\.path/);
        return true;
      });
}

async function testCheck(authorization) {
  const dir = path.join(exampleDir, 'checks');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  assert.ok(files.length >= 5, `too few check files in ${dir}`);
  for (const file of files) {
    const {check, expected} =
        JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
    const response =
        await call(authorization, 'Check', toCheckRequest(check));
    const message = `${file}: ${JSON.stringify(response)}`;
    assert.equal(response.status.code, expected.code, message);
    const metadata = fromStruct(response.dynamicMetadata);
    assert.deepEqual(metadata.reasons, expected.reasons, message);
    assert.equal(metadata.decision, expected.code === 0 ? 'permit' : 'deny',
                 message);
    if (expected.code === 0) {
      assert.equal(response.httpResponse, 'okResponse', message);
      const ok = response.okResponse;
      assert.deepEqual(headerMap(ok.headers), expected.requestHeaders ?? {},
                       message);
      assert.deepEqual(ok.headersToRemove, expected.headersToRemove ?? [],
                       message);
      for (const option of ok.headers) {
        assert.equal(option.appendAction, 'OVERWRITE_IF_EXISTS_OR_ADD',
                     message);
      }
    } else {
      assert.equal(response.httpResponse, 'deniedResponse', message);
      const denied = response.deniedResponse;
      // proto-loader names the enum value, such as 'Unauthorized'; the
      // expected file gives the number.
      const codes = protoCodes();
      assert.equal(codes[denied.status.code], expected.httpStatus, message);
      assert.equal(denied.body, expected.body ?? '', message);
      assert.deepEqual(headerMap(denied.headers),
                       expected.responseHeaders ?? {}, message);
    }
    console.log(`ok - Check ${file}`);
  }
}

let statusCodes = null;
// Returns the envoy.type.v3.StatusCode numbers by name, read from the proto.
function protoCodes() {
  if (statusCodes === null) {
    const text = fs.readFileSync(
        path.join(sourceDir, 'proto/envoy/type/v3/http_status.proto'), 'utf8');
    statusCodes = {};
    for (const match of text.matchAll(/^\s+(\w+) = (\d+);/gm)) {
      statusCodes[match[1]] = Number(match[2]);
    }
  }
  return statusCodes;
}

async function main() {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'verdict-grpc-js-'));
  const portFile = path.join(work, 'port');
  const log = fs.openSync(path.join(work, 'serve.log'), 'w');
  const server = spawn(
      verdictBinary,
      [
        'serve', '--policies', path.join(exampleDir, 'policies'), '--listen',
        '127.0.0.1:0', '--port-file', portFile
      ],
      {stdio: ['ignore', log, log]});
  let failed = false;
  try {
    const port = await waitForPortFile(portFile, server);
    const {verdict, authorization} = loadClients(port);
    await testDecide(verdict);
    console.log('ok - Decide');
    await testCheck(authorization);
    verdict.close();
    authorization.close();
  } catch (error) {
    failed = true;
    console.error(`not ok - ${error.stack ?? error}`);
    console.error(fs.readFileSync(path.join(work, 'serve.log'), 'utf8'));
  }

  const exited = new Promise((resolve) => server.once('exit', resolve));
  server.kill('SIGTERM');
  const code = await Promise.race([exited, sleep(kExitTimeoutMs)]);
  if (code !== 0) {
    failed = true;
    console.error(`not ok - verdict serve did not exit with 0 after ` +
                  `SIGTERM within ${kExitTimeoutMs} ms (got ${code})`);
    if (server.exitCode === null) server.kill('SIGKILL');
  } else {
    console.log('ok - verdict serve stopped on SIGTERM');
  }
  fs.rmSync(work, {recursive: true, force: true});
  process.exit(failed ? 1 : 0);
}

await main();
