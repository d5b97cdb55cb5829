// Calls to the playground's JSON endpoints (playground/playground_http.h).

// Sends `body` as JSON to `path` and returns the parsed response. Throws an
// Error with the server's message, and its diagnostics when the policies
// do not compile, for a response that is not 2xx.
export async function post(path, body) {
  const response = await fetch(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return readResponse(response);
}

export async function get(path) {
  return readResponse(await fetch(path));
}

async function readResponse(response) {
  let json;
  try {
    json = await response.json();
  } catch {
    throw new Error(`the server sent ${response.status} without a JSON body`);
  }
  if (!response.ok) {
    const error = new Error(json.error ? json.error.message : `HTTP ${response.status}`);
    error.status = response.status;
    error.diagnostics = json.diagnostics;
    throw error;
  }
  return json;
}
