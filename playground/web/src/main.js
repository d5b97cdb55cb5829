// The playground page: a workspace of policy, data and test case files in
// one CodeMirror editor, a request editor, and the panes that show what the
// server computes for them (decision, explanation, DAG, tests).

import { basicSetup } from 'codemirror';
import { EditorState } from '@codemirror/state';
import { EditorView } from '@codemirror/view';
import { json } from '@codemirror/lang-json';
import { lintGutter, setDiagnostics } from '@codemirror/lint';

import { get, post } from './api.js';
import { markPath, setFit, showMessage, showSvg } from './dag.js';
import { verdictLanguage } from './verdict_language.js';
import './style.css';

// Milliseconds of quiet typing before the page sends the next request.
const DEBOUNCE_MS = 250;

// DAGs with at most this many nodes are shrunk to fit the pane at first.
const FIT_MAX_NODES = 40;

const REQUEST_TEMPLATE = `{
  "subject": {"type": "user", "id": "alice"},
  "action": {"name": "read"},
  "resource": {"type": "doc", "id": "d1"}
}
`;

const page = {
  files: {},            // workspace path -> contents
  active: null,         // path shown in the file editor
  editorStates: new Map(),
  diagnostics: [],      // of the last compile
  compiled: false,      // whether the last compile succeeded
  compiledFiles: null,  // the files of the last successful compile
  revision: null,       // of the last successful compile
  nodeCount: 0,         // DAG nodes of the last successful compile
  drawnRevision: null,  // of the DAG on the page
  path: null,           // walk of the last decision
  compileSequence: 0,   // drops responses that a later edit made stale
  decideSequence: 0,
};

const $ = (id) => document.getElementById(id);

function debounce(action) {
  let timer = null;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(action, DEBOUNCE_MS);
  };
}

const scheduleCompile = debounce(compile);
const scheduleDecide = debounce(decide);

// The file editor ------------------------------------------------------------

const fileView = new EditorView({ parent: $('file-editor') });

function fileState(path) {
  let state = page.editorStates.get(path);
  if (state) return state;
  state = EditorState.create({
    doc: page.files[path],
    extensions: [
      basicSetup,
      path.endsWith('.verdict') ? verdictLanguage : json(),
      EditorView.lineWrapping,
      lintGutter(),
      EditorView.updateListener.of((update) => {
        if (!update.docChanged) return;
        page.files[path] = update.state.doc.toString();
        scheduleCompile();
      }),
    ],
  });
  page.editorStates.set(path, state);
  return state;
}

function openFile(path) {
  if (page.active !== null) page.editorStates.set(page.active, fileView.state);
  page.active = path;
  fileView.setState(fileState(path));
  showDiagnosticsInEditor();
  renderFileList();
}

// Returns the document offset of 1-based `line` and byte `column`. The
// compiler counts columns in bytes of UTF-8.
function offsetOf(doc, line, column) {
  if (line < 1 || line > doc.lines) return doc.length;
  const text = doc.line(line).text;
  const encoder = new TextEncoder();
  let bytes = 0;
  let index = 0;
  while (index < text.length && bytes < column - 1) {
    const codePoint = text.codePointAt(index);
    const character = String.fromCodePoint(codePoint);
    bytes += encoder.encode(character).length;
    index += character.length;
  }
  return doc.line(line).from + index;
}

function showDiagnosticsInEditor() {
  const doc = fileView.state.doc;
  const marks = page.diagnostics
    .filter((d) => d.file === page.active && d.line > 0)
    .map((d) => {
      const from = offsetOf(doc, d.line, d.column);
      const to = Math.min(doc.length, Math.max(from + 1,
        offsetOf(doc, d.line, d.column + Math.max(d.width, 1))));
      return { from, to, severity: d.severity, message: d.message, source: 'verdict' };
    });
  fileView.dispatch(setDiagnostics(fileView.state, marks));
}

function renderFileList() {
  const list = $('file-list');
  list.replaceChildren();
  for (const path of Object.keys(page.files).sort()) {
    if (path === 'request.json') continue;
    const item = document.createElement('li');
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = path;
    button.dataset.path = path;
    const errors = page.diagnostics.filter((d) => d.file === path && d.severity === 'error');
    if (errors.length > 0) {
      button.classList.add('has-errors');
      button.title = `${errors.length} error${errors.length === 1 ? '' : 's'}`;
    }
    if (path === page.active) button.setAttribute('aria-current', 'true');
    button.addEventListener('click', () => openFile(path));
    item.append(button);
    list.append(item);
  }
}

// The request editor ---------------------------------------------------------

const requestView = new EditorView({
  parent: $('request-editor'),
  state: EditorState.create({
    doc: REQUEST_TEMPLATE,
    extensions: [
      basicSetup,
      json(),
      EditorView.lineWrapping,
      EditorView.updateListener.of((update) => {
        if (update.docChanged) scheduleDecide();
      }),
    ],
  }),
});

function setRequest(text) {
  requestView.dispatch({
    changes: { from: 0, to: requestView.state.doc.length, insert: text },
  });
}

function initialRequest(files) {
  if (files['request.json']) return files['request.json'];
  const firstCase = Object.keys(files).sort().find((p) => p.startsWith('cases/'));
  return firstCase ? files[firstCase] : REQUEST_TEMPLATE;
}

// Compiling ------------------------------------------------------------------

async function compile() {
  const sequence = ++page.compileSequence;
  const files = { ...page.files };
  let result;
  try {
    result = await post('/api/compile', { files });
  } catch (error) {
    if (sequence === page.compileSequence) setStatus(error.message, 'error');
    return;
  }
  if (sequence !== page.compileSequence) return;
  page.diagnostics = result.diagnostics;
  page.compiled = result.ok;
  $('diagnostics').textContent = result.text;
  showDiagnosticsInEditor();
  renderFileList();
  // The decision shown is of the last policies that compiled.
  $('decision-pane').classList.toggle('stale', !result.ok);
  if (!result.ok) {
    const count = result.error_count;
    setStatus(`${count} error${count === 1 ? '' : 's'}`, 'error');
    return;
  }
  page.revision = result.revision;
  page.compiledFiles = files;
  const stats = result.stats;
  page.nodeCount = stats.nodes;
  setStatus(`compiled: ${stats.policies} policies, ${stats.nodes} DAG nodes, ` +
            `revision ${result.revision}`, 'ok');
  await drawDag();
  decide();
}

function setStatus(text, kind) {
  const status = $('compile-status');
  status.textContent = text;
  status.className = kind;
}

// Deciding and explaining ----------------------------------------------------

// Decides against the last policies that compiled, so that the request can
// be edited while the policies have errors.
async function decide() {
  if (page.compiledFiles === null) return;
  const sequence = ++page.decideSequence;
  let result;
  try {
    result = await post('/api/explain', {
      files: page.compiledFiles,
      request: requestView.state.doc.toString(),
    });
  } catch (error) {
    if (sequence !== page.decideSequence) return;
    $('request-error').textContent = error.message;
    showDecision(null);
    return;
  }
  if (sequence !== page.decideSequence) return;
  $('request-error').textContent = '';
  $('decision-pane').classList.toggle('stale', !page.compiled);
  showDecision(result);
}

function showDecision(result) {
  const badge = $('decision');
  const details = $('decision-details');
  details.replaceChildren();
  if (result === null) {
    badge.textContent = '—';
    badge.className = 'badge';
    $('explanation').textContent = '';
    page.path = null;
    markPath(null);
    return;
  }
  const permit = result.response.decision === true;
  badge.textContent = permit ? 'PERMIT' : 'DENY';
  badge.className = `badge ${permit ? 'permit' : 'deny'}`;
  const context = result.response.context;
  addDetail(details, 'reasons', context.reasons);
  addDetail(details, 'policies', context.policies);
  addDetail(details, 'errors',
    (context.errors || []).map((e) => `${e.policy}: ${e.message}`));
  addDetail(details, 'obligations',
    (context.obligations || []).map((o) => `${o.name} ${JSON.stringify(o.fields)} (${o.policy})`));
  addDetail(details, 'advice',
    (context.advice || []).map((o) => `${o.name} ${JSON.stringify(o.fields)} (${o.policy})`));
  $('explanation').textContent = result.text;
  page.path = result.path;
  markPath(result.path);
}

function addDetail(parent, name, values) {
  if (!values || values.length === 0) return;
  const row = document.createElement('div');
  row.className = `detail detail-${name}`;
  const label = document.createElement('b');
  label.textContent = `${name}: `;
  row.append(label, values.join(', '));
  parent.append(row);
}

// The DAG --------------------------------------------------------------------

async function drawDag() {
  if (page.drawnRevision === page.revision) return;
  try {
    const result = await post('/api/dag', { files: page.compiledFiles });
    showSvg(result.svg);
    // A small DAG is drawn whole, shrunk to the pane. A larger one keeps
    // its size so that its labels stay readable, and the pane scrolls to
    // the walk.
    const fit = page.nodeCount <= FIT_MAX_NODES;
    setFit(fit);
    $('dag-fit').checked = fit;
    page.drawnRevision = result.revision;
    markPath(page.path);
  } catch (error) {
    page.drawnRevision = null;
    showMessage(error.message);
  }
}

// Tests ----------------------------------------------------------------------

async function runTests() {
  const container = $('tests');
  container.textContent = 'running…';
  let result;
  try {
    result = await post('/api/test', { files: page.files });
  } catch (error) {
    container.textContent = error.message;
    return;
  }
  container.replaceChildren();
  const summary = document.createElement('p');
  const coverage = result.coverage;
  summary.className = 'test-summary';
  summary.textContent = `${result.passed} passed, ${result.failed} failed; ` +
    `policy coverage ${coverage.policies.covered}/${coverage.policies.total}, ` +
    `condition coverage ${coverage.conditions.covered}/${coverage.conditions.total}`;
  container.append(summary);
  const table = document.createElement('table');
  for (const testCase of result.cases) {
    const row = table.insertRow();
    row.className = testCase.passed ? 'pass' : 'fail';
    row.insertCell().textContent = testCase.passed ? 'PASS' : 'FAIL';
    const open = document.createElement('button');
    open.type = 'button';
    open.textContent = testCase.file.replace(/^cases\//, '');
    open.title = 'Load this case into the request editor';
    open.addEventListener('click', () => setRequest(page.files[testCase.file]));
    row.insertCell().append(open);
    row.insertCell().textContent = testCase.failure || testCase.description;
  }
  container.append(table);
}

// Workspaces and examples ----------------------------------------------------

function loadWorkspace(name, files) {
  page.files = { ...files };
  page.editorStates.clear();
  page.active = null;
  page.diagnostics = [];
  page.compiled = false;
  page.compiledFiles = null;
  page.revision = null;
  page.drawnRevision = null;
  page.path = null;
  $('workspace-name').textContent = name;
  $('tests').replaceChildren();
  $('dag').replaceChildren();
  const paths = Object.keys(page.files).sort();
  const first = paths.find((p) => p.endsWith('.verdict')) || paths[0];
  if (first) openFile(first);
  setRequest(initialRequest(page.files));
  compile();
}

function renderExamples(names) {
  const nav = $('examples');
  nav.replaceChildren();
  for (const name of names) {
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = name;
    button.dataset.example = name;
    button.addEventListener('click', async () => {
      try {
        const example = await get(`/api/example?name=${encodeURIComponent(name)}`);
        loadWorkspace(example.name, example.files);
      } catch (error) {
        setStatus(error.message, 'error');
      }
    });
    nav.append(button);
  }
}

async function start() {
  $('run-tests').addEventListener('click', runTests);
  $('dag-fit').addEventListener('change', (event) => setFit(event.target.checked));
  try {
    const workspace = await get('/api/workspace');
    renderExamples(workspace.examples);
    loadWorkspace(workspace.name, workspace.files);
  } catch (error) {
    setStatus(`cannot load the workspace: ${error.message}`, 'error');
  }
}

start();
