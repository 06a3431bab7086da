// The JSON API client of the editor page: the session cookie authenticates, and every
// write carries Django's CSRF token (the csrftoken cookie) in X-CSRFToken.

export class ApiError extends Error {
  /** An answer other than 2xx: `status`, and the server's `problems` when it listed some. */
  constructor(message, status, problems = []) {
    super(message);
    this.status = status;
    this.problems = problems;
  }
}

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

async function request(method, url, body = undefined, { signal } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET") headers["X-CSRFToken"] = csrfToken();
  let response;
  try {
    response = await fetch(url, {
      method, headers, signal, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(`the server cannot be reached (${error.message})`, 0);
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const detail = (data && data.detail) || response.statusText || "request failed";
    throw new ApiError(detail, response.status, (data && data.problems) || []);
  }
  return data;
}

/**
 * The problems of a document ([{path, message, element, sentence}], empty when it is valid)
 * and its warnings (the same, with severity "warning": they refuse nothing). With `designId`,
 * the warnings include what the kernel of the site that design's lab runs on (or would run
 * on) lacks.
 */
export async function validate(doc, options = {}, designId = null) {
  const query = designId ? `?design=${encodeURIComponent(designId)}` : "";
  const answer = await request("POST", `/api/validate${query}`, doc, options);
  return { problems: answer.problems, warnings: answer.warnings || [] };
}

/** Save `doc` as a new revision; answers the design (id, name, revision, document, draft,
 * problems...). With `draft`, a document with problems is saved as a draft revision (not
 * deployable) instead of being refused. */
export function saveDesign(id, doc, message = "", { draft = false } = {}) {
  const params = new URLSearchParams();
  if (message) params.set("message", message);
  if (draft) params.set("draft", "true");
  const query = params.toString() ? `?${params}` : "";
  return request("PUT", `/api/designs/${id}${query}`, doc);
}

/** The design as saved (id, name, revision, document, draft, problems...). */
export function readDesign(id) {
  return request("GET", `/api/designs/${id}`);
}

/** Why a packet from `source` to `target` arrives or not (POST /api/designs/{id}/explain). */
export function explainPath(id, body) {
  return request("POST", `/api/designs/${id}/explain`, body);
}

/** The ping-all the design predicts (GET /api/designs/{id}/explain/matrix). */
export function predictedMatrix(id) {
  return request("GET", `/api/designs/${id}/explain/matrix`);
}

/** Read a file's text in any format netlab imports (POST /api/import): with
 * `dry_run`, answers {source, notes, document} and saves nothing; `onto` replays a command
 * script onto that document. */
export function importText(body) {
  return request("POST", "/api/import", body);
}
