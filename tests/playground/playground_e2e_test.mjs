// Drives `verdict playground` in headless Chromium with playwright-core.
// The test loads the quickstart example, introduces a syntax error and
// checks that the editor marks it, then fixes it. It decides a request
// (PERMIT, with the walk marked in the DAG), changes a condition (DENY,
// with its explanation) and runs the test cases. After each step it saves
// a screenshot into SCREENSHOT_DIR.
//
//   node playground_e2e_test.mjs VERDICT_BINARY NPM_DIR SCREENSHOT_DIR
//
// NPM_DIR holds node_modules with playwright-core (playground/web/setup.sh).
// Chromium is Debian's /usr/bin/chromium (scripts/install-deps.sh); when it
// is missing the test fails and says so.

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const CHROMIUM = '/usr/bin/chromium';
const STEP_TIMEOUT_MS = 15000;
const START_TIMEOUT_MS = 20000;

const [verdictBinary, npmDir, screenshotDir] = process.argv.slice(2);
if (!verdictBinary || !npmDir || !screenshotDir) {
  console.error('usage: node playground_e2e_test.mjs VERDICT_BINARY NPM_DIR SCREENSHOT_DIR');
  process.exit(2);
}
if (!existsSync(CHROMIUM)) {
  console.error(`FAIL: ${CHROMIUM} not found. Install the Debian package ` +
                'chromium with scripts/install-deps.sh (as root) and run the test again.');
  process.exit(1);
}
const require = createRequire(resolve(npmDir, 'node_modules', 'noop.js'));
const { chromium } = require('playwright-core');

const QUICKSTART_POLICY = 'policies/docs.verdict';
const ALICE_EDITS_OWN_DOC = `{
  "subject": {"type": "user", "id": "alice"},
  "action": {"name": "edit"},
  "resource": {"type": "doc", "id": "d1", "properties": {"owner": "alice"}}
}`;

// Starts the playground on an ephemeral loopback port; returns the process
// and its URL once the port file appears.
async function startPlayground(workDir) {
  const portFile = join(workDir, 'port');
  const child = spawn(verdictBinary,
    ['playground', '--listen', '127.0.0.1:0', '--port-file', portFile],
    { stdio: ['ignore', 'inherit', 'pipe'] });
  let log = '';
  child.stderr.on('data', (chunk) => {
    log += chunk;
    process.stderr.write(chunk);
  });
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!existsSync(portFile)) {
    if (child.exitCode !== null) {
      throw new Error(`verdict playground exited with ${child.exitCode} before serving:\n${log}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`verdict playground wrote no port file within ${START_TIMEOUT_MS} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const port = readFileSync(portFile, 'utf8').trim();
  return { child, url: `http://127.0.0.1:${port}/` };
}

async function stopPlayground(child) {
  if (child.exitCode !== null) return child.exitCode;
  const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  return exited;
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

// Replaces the whole document of the CodeMirror editor in `selector`.
async function replaceEditorText(page, selector, text) {
  await page.click(`${selector} .cm-content`);
  await page.keyboard.press('Control+A');
  await page.keyboard.insertText(text);
}

async function run(page, url) {
  const shot = (name) => page.screenshot({ path: join(screenshotDir, `${name}.png`) });
  await page.goto(url);

  // 1. Load an example: quickstart compiles and its first case decides.
  await page.click('#examples button[data-example="quickstart"]');
  await page.waitForSelector('#compile-status.ok');
  await page.waitForSelector('#dag svg');
  await page.waitForFunction(() => document.getElementById('decision').textContent !== '—');
  await shot('1-example-loaded');

  // 2. An `and` with nothing before it is a syntax error, marked in the
  // editor.
  const line = page.locator('#file-editor .cm-line', { hasText: 'permit "read-docs" when {' });
  await line.click();
  await page.keyboard.press('End');
  await page.keyboard.insertText(' and');
  await page.waitForSelector('#compile-status.error');
  await page.waitForSelector('#file-editor .cm-lintRange-error');
  const flagged = await page.locator('#file-list button.has-errors').allTextContents();
  check(flagged.includes(QUICKSTART_POLICY),
        `the file list should flag ${QUICKSTART_POLICY}, flagged: ${flagged}`);
  const diagnostics = await page.textContent('#diagnostics');
  check(diagnostics.includes(`${QUICKSTART_POLICY}:`),
        `the diagnostics should name ${QUICKSTART_POLICY}: ${diagnostics}`);
  await shot('2-syntax-error');

  // 3. Fixing it clears the mark.
  for (let i = 0; i < ' and'.length; ++i) await page.keyboard.press('Backspace');
  await page.waitForSelector('#compile-status.ok');
  await page.waitForSelector('#file-editor .cm-lintRange-error', { state: 'detached' });

  // 4. Alice edits her own document: PERMIT, and the walk is marked.
  await replaceEditorText(page, '#request-editor', ALICE_EDITS_OWN_DOC);
  await page.waitForFunction(() => document.getElementById('decision').textContent === 'PERMIT');
  await page.waitForSelector('#dag g.node.on-path');
  const markedNodes = await page.locator('#dag g.node.on-path').count();
  const markedEdges = await page.locator('#dag g.edge.on-path').count();
  check(markedNodes >= 2, `expected a marked walk of 2 or more nodes, got ${markedNodes}`);
  check(markedEdges === markedNodes - 1,
        `expected ${markedNodes - 1} marked edges for ${markedNodes} nodes, got ${markedEdges}`);
  const reasons = await page.textContent('#decision-details');
  check(reasons.includes('permit:edit-own-docs'), `expected permit:edit-own-docs in ${reasons}`);
  await shot('3-permit');

  // 5. Editors must now hold the "admin" role: DENY, explained.
  const policy = await page.evaluate(async () => {
    const response = await fetch('/api/example?name=quickstart');
    return (await response.json()).files['policies/docs.verdict'];
  });
  check(policy.includes('"editor" in subject.roles'), 'the quickstart policy changed; update this test');
  await replaceEditorText(page, '#file-editor', policy.replace('"editor" in subject.roles', '"admin" in subject.roles'));
  await page.waitForFunction(() => document.getElementById('decision').textContent === 'DENY');
  const explanation = await page.textContent('#explanation');
  check(explanation.includes('DENY'), `the explanation should say DENY: ${explanation}`);
  check(explanation.includes('edit-own-docs'), `the explanation should name edit-own-docs: ${explanation}`);
  check(explanation.includes('"admin" in subject.roles'),
        `the explanation should show the failed condition: ${explanation}`);
  await page.waitForSelector('#dag g.node.on-path');
  await shot('4-deny-explained');

  // 6. The test cases now fail where they expect alice's edit to pass.
  await page.click('#run-tests');
  await page.waitForSelector('#tests tr');
  const summary = await page.textContent('#tests .test-summary');
  check(/^3 passed, 1 failed/.test(summary), `expected 3 passed, 1 failed: ${summary}`);
  await shot('5-tests');
}

async function main() {
  mkdirSync(screenshotDir, { recursive: true });
  const workDir = mkdtempSync(join(tmpdir(), 'verdict-playground-e2e-'));
  const { child, url } = await startPlayground(workDir);
  let browser;
  let failure = null;
  try {
    // Playwright starts Chromium without its sandbox unless asked
    // (chromiumSandbox), which also suits containers that run as root.
    browser = await chromium.launch({ executablePath: CHROMIUM });
    const page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
    page.on('pageerror', (error) => { failure = failure || error; });
    await run(page, url);
  } catch (error) {
    failure = failure || error;
  } finally {
    if (browser) await browser.close();
    const code = await stopPlayground(child);
    if (code !== 0 && failure === null) {
      failure = new Error(`verdict playground exited with ${code} after SIGTERM`);
    }
    rmSync(workDir, { recursive: true, force: true });
  }
  if (failure !== null) {
    console.error(`FAIL: ${failure.stack || failure}`);
    console.error(`screenshots so far are in ${screenshotDir}`);
    process.exit(1);
  }
  console.log(`PASS: screenshots in ${screenshotDir}`);
}

await main();
