// The decision DAG pane: the SVG that Graphviz drew on the server, with the
// walk the engine took for the current request marked. Nodes and edges are
// found by their SVG titles, "n<index>" and "n<a>->n<b>", which the server
// also uses to name the walk, so this code only marks what the server
// reports and never computes a path itself.

const container = () => document.getElementById('dag');

export function showSvg(svgText) {
  const parsed = new DOMParser().parseFromString(svgText, 'image/svg+xml');
  const svg = parsed.documentElement;
  if (svg.nodeName !== 'svg') {
    showMessage('The server sent a drawing that is not SVG.');
    return;
  }
  container().replaceChildren(document.importNode(svg, true));
}

export function showMessage(text) {
  const message = document.createElement('p');
  message.className = 'error-text';
  message.textContent = text;
  container().replaceChildren(message);
}

// Marks the nodes and edges of `path` ({nodes: [...], edges: [...]}, or
// null to clear the marks).
export function markPath(path) {
  const marked = new Set(path ? [...path.nodes, ...path.edges] : []);
  const root = container();
  root.classList.toggle('has-path', marked.size > 0);
  let leaf = null;
  for (const group of root.querySelectorAll('g.node, g.edge')) {
    const title = group.querySelector('title');
    const onPath = title !== null && marked.has(title.textContent);
    group.classList.toggle('on-path', onPath);
    if (onPath && path && title.textContent === path.nodes[path.nodes.length - 1]) {
      leaf = group;
    }
  }
  if (leaf !== null) centerInPane(leaf);
}

// Scrolls the DAG pane, and only it, so that `element` is in its middle: a
// large DAG is wider and taller than the pane, and the walk's leaf is where
// the decision was made.
function centerInPane(element) {
  const pane = container().closest('section');
  const target = element.getBoundingClientRect();
  const view = pane.getBoundingClientRect();
  pane.scrollTop += target.top + target.height / 2 - (view.top + view.height / 2);
  pane.scrollLeft += target.left + target.width / 2 - (view.left + view.width / 2);
}

export function setFit(fit) {
  container().classList.toggle('fit', fit);
}
