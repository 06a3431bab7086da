// The line discipline of a console terminal: what a key typed into xterm.js does to the line
// being edited (insert, Backspace, Delete, Left and Right, Home and End, history with Up and
// Down, Tab completion, Enter, Ctrl+C) and what to write so the terminal shows it. No DOM and
// no xterm here: console-panel.js feeds it xterm's onData strings and writes what it answers.

const ESC = "\x1b";
const CSI = `${ESC}[`;

// xterm's onData spells a key as one character or an escape sequence (normal or application
// cursor mode); a paste is many at once.
const KEY = /\x1b(?:\[[0-9;]*[~A-Za-z]|O[A-Za-z])|[\s\S]/gu;
const NAMES = {
  "\r": "enter", "\x7f": "backspace", "\b": "backspace", "\t": "tab", "\x03": "interrupt",
  "\x01": "home", "\x05": "end",
  [`${CSI}D`]: "left", [`${ESC}OD`]: "left", [`${CSI}C`]: "right", [`${ESC}OC`]: "right",
  [`${CSI}A`]: "up", [`${ESC}OA`]: "up", [`${CSI}B`]: "down", [`${ESC}OB`]: "down",
  [`${CSI}H`]: "home", [`${ESC}OH`]: "home", [`${CSI}1~`]: "home",
  [`${CSI}F`]: "end", [`${ESC}OF`]: "end", [`${CSI}4~`]: "end", [`${CSI}3~`]: "delete",
};

/** The columns a prompt takes on screen (its colour codes take none). */
export function visibleLength(text) {
  return [...text.replace(/\x1b\[[0-9;]*m/g, "")].length;
}

/** A program's output as text for the terminal: a line ends with \r\n, and every other control
 * character (an escape sequence's ESC, C1 codes) is shown in caret notation, never obeyed:
 * a lab's output cannot move the cursor, fake a prompt, retitle or colour the page. */
export function printable(text) {
  return text
    .replace(/\r\n/g, "\n")
    .replace(/[\x00-\x08\x0b-\x1f\x7f]/g, (c) => `^${String.fromCharCode(c.charCodeAt(0) ^ 64)}`)
    .replace(/[\x80-\x9f]/g, "\ufffd")
    .replace(/\n/g, "\r\n");
}

/** The escape sequence moving the cursor from offset `from` to offset `to` of a text written
 * from column 0 on a screen `cols` wide (rows up or down, then the column). */
function move(from, to, cols) {
  const rows = Math.floor(to / cols) - Math.floor(from / cols);
  const vertical = rows < 0 ? `${CSI}${-rows}A` : rows > 0 ? `${CSI}${rows}B` : "";
  return `${vertical}${CSI}${(to % cols) + 1}G`;
}

export class LineEditor {
  /** @param prompt what starts every line (colour codes allowed) */
  constructor(prompt) {
    this.prompt = prompt;
    this.line = "";
    this.cursor = 0;
    this.history = [];
    this.back = 0; // how far up the history Up went; 0: the line being typed
    this.draft = ""; // the line being typed, kept while Up shows older ones
  }

  /** The prompt and the current line, to write on a fresh line (the cursor at its end). */
  start() {
    this.cursor = this.line.length;
    return this.prompt + this.line;
  }

  /**
   * Types `data` (one onData chunk) on a screen `cols` wide; Tab completes from `words`.
   * Answers `{write}` (what to write to the terminal), with `line` when Enter submitted one
   * (the keys after it are dropped) and `interrupt` on Ctrl+C.
   */
  type(data, { cols = 80, words = [] } = {}) {
    const shown = this.cursor;
    let write = "";
    for (const [key] of data.matchAll(KEY)) {
      const name = NAMES[key] || (key.length === 1 && key >= " " ? "insert" : null);
      if (name === "enter" || name === "interrupt") {
        write += this.#redraw(shown, cols, this.line.length);
        const line = this.line;
        this.line = "";
        this.cursor = 0;
        this.back = 0;
        if (name === "interrupt") return { write: `${write}^C\r\n${this.prompt}`, interrupt: true };
        if (line.trim() && this.history.at(-1) !== line) this.history.push(line);
        return { write: `${write}\r\n`, line };
      }
      this.#edit(name, key, words);
    }
    return { write: write + this.#redraw(shown, cols, this.cursor) };
  }

  #edit(name, key, words) {
    const { line, cursor } = this;
    if (name === "insert") {
      this.line = line.slice(0, cursor) + key + line.slice(cursor);
      this.cursor += 1;
    } else if (name === "backspace" && cursor > 0) {
      this.line = line.slice(0, cursor - 1) + line.slice(cursor);
      this.cursor -= 1;
    } else if (name === "delete") {
      this.line = line.slice(0, cursor) + line.slice(cursor + 1);
    } else if (name === "left") {
      this.cursor = Math.max(cursor - 1, 0);
    } else if (name === "right") {
      this.cursor = Math.min(cursor + 1, line.length);
    } else if (name === "home") {
      this.cursor = 0;
    } else if (name === "end") {
      this.cursor = line.length;
    } else if (name === "up" || name === "down") {
      if (this.back === 0) this.draft = line;
      this.back = Math.min(Math.max(this.back + (name === "up" ? 1 : -1), 0), this.history.length);
      this.line = this.back ? this.history[this.history.length - this.back] : this.draft;
      this.cursor = this.line.length;
    } else if (name === "tab") {
      const before = complete(line.slice(0, cursor), words);
      this.line = before + line.slice(cursor);
      this.cursor = before.length;
    }
  }

  /** Rewrites the prompt and line from its first row (the cursor was at `shown`), leaving the
   * cursor at `cursor`. A text ending exactly at the right margin leaves xterm's cursor waiting
   * to wrap: a space and a carriage return put it on the next row, where the offsets say. */
  #redraw(shown, cols, cursor) {
    const width = visibleLength(this.prompt);
    const end = width + this.line.length;
    let write = `${move(width + shown, 0, cols)}${CSI}J${this.prompt}${this.line}`;
    if (end % cols === 0) write += ` \r${CSI}K`;
    return write + move(end, width + cursor, cols);
  }
}

/** `line` with its last word completed from `words` (the common prefix of the matches). */
export function complete(line, words) {
  const start = line.lastIndexOf(" ") + 1;
  const partial = line.slice(start);
  const matches = words.filter((word) => word.startsWith(partial));
  if (!partial || !matches.length) return line;
  let common = matches[0];
  for (const word of matches) while (!word.startsWith(common)) common = common.slice(0, -1);
  return line.slice(0, start) + common + (matches.length === 1 ? " " : "");
}
