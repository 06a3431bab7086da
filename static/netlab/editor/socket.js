// The live lab's websocket client (/ws/designs/<id>/, docs/protocol.md): one socket per
// page that reconnects by itself. A lost connection is retried with an exponential backoff
// (with jitter, capped); on every (re)connect the server sends the deployment, its steps and
// the tables again, so the page only has to start its picture afresh from them.

export const BACKOFF_FIRST_MS = 500;
export const BACKOFF_MAX_MS = 15000;

/**
 * The wait before reconnect attempt `attempt` (0 for the first): doubling from
 * BACKOFF_FIRST_MS up to BACKOFF_MAX_MS, then jittered down by up to a quarter so that many
 * pages losing the same server do not all come back in the same instant.
 */
export function backoffDelay(attempt, random = Math.random) {
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** Math.max(0, attempt));
  return Math.round(base * (1 - 0.25 * random()));
}

/** The websocket URL of a design's lab, from the page's own location. */
export function labUrl(designId, location = window.location) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/ws/designs/${designId}/`;
}

export class LabSocket {
  /**
   * @param url the websocket URL (labUrl)
   * @param handlers {onEvent(event), onStatus(status, detail)}: status is "connecting",
   *   "open" or "lost" (detail: the seconds until the next attempt)
   */
  constructor(url, handlers, { WebSocketClass = window.WebSocket } = {}) {
    this.url = url;
    this.handlers = handlers;
    this.WebSocketClass = WebSocketClass;
    this.attempt = 0;
    this.socket = null;
    this.timer = null;
    this.stopped = false;
    this.status = "connecting";
  }

  start() {
    this.stopped = false;
    this.#connect();
    return this;
  }

  /** Close for good (the page is going away): no reconnect. */
  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.socket) this.socket.close();
  }

  /** Reconnect now instead of waiting for the backoff (the "retry now" link). */
  retryNow() {
    if (this.status === "open" || this.stopped) return;
    clearTimeout(this.timer);
    this.#connect();
  }

  get isOpen() {
    return this.status === "open";
  }

  /** Send a request; answers false (and sends nothing) while disconnected. */
  send(request) {
    if (!this.isOpen) return false;
    this.socket.send(JSON.stringify(request));
    return true;
  }

  #setStatus(status, detail = null) {
    this.status = status;
    this.handlers.onStatus?.(status, detail);
  }

  #connect() {
    this.#setStatus("connecting");
    let socket;
    try {
      socket = new this.WebSocketClass(this.url);
    } catch {
      this.#lost();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      if (socket !== this.socket) return;
      this.attempt = 0;
      this.#setStatus("open");
    };
    socket.onmessage = (message) => {
      if (socket !== this.socket) return;
      let event;
      try {
        event = JSON.parse(message.data);
      } catch {
        return;
      }
      if (event && typeof event.type === "string") this.handlers.onEvent(event);
    };
    socket.onclose = () => {
      if (socket !== this.socket) return;
      this.socket = null;
      this.#lost();
    };
  }

  #lost() {
    if (this.stopped) return;
    const delay = backoffDelay(this.attempt);
    this.attempt += 1;
    this.#setStatus("lost", Math.ceil(delay / 1000));
    this.timer = setTimeout(() => this.#connect(), delay);
  }
}
