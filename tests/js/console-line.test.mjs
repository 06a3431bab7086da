// The console terminal's line discipline (static/netlab/editor/console-line.js): what keys do
// to the line, what is written to the terminal, and how a program's output is made harmless.

import test from "node:test";
import assert from "node:assert/strict";
import { LineEditor, complete, printable, visibleLength } from "../../static/netlab/editor/console-line.js";

const LEFT = "\x1b[D";
const RIGHT = "\x1b[C";
const UP = "\x1b[A";
const DOWN = "\x1b[B";
const HOME = "\x1b[H";
const END = "\x1b[F";

function typed(keys, editor = new LineEditor("red$ ")) {
  for (const key of keys) editor.type(key);
  return editor;
}

test("typing inserts at the cursor; Backspace, Delete, arrows, Home and End move and remove", () => {
  const editor = typed(["p", "i", "g"]);
  assert.equal(editor.line, "pig");
  typed([LEFT, "n", "\x7f", "n"], editor); // "pi|g" -> "pin|g" -> "pi|g" -> "pin|g"
  assert.deepEqual([editor.line, editor.cursor], ["ping", 3]);
  typed([HOME, "\x1b[3~", "P"], editor);
  assert.deepEqual([editor.line, editor.cursor], ["Ping", 1]);
  typed([END, " ", "x", LEFT, LEFT, LEFT, LEFT, LEFT, LEFT, LEFT, "\x7f"], editor); // Left stops at 0
  assert.deepEqual([editor.line, editor.cursor], ["Ping x", 0]);
  typed([RIGHT, RIGHT, RIGHT, RIGHT, RIGHT, RIGHT, RIGHT, RIGHT], editor); // Right stops at the end
  assert.equal(editor.cursor, 6);
  typed(["\x01"], editor); // Ctrl+A
  assert.equal(editor.cursor, 0);
  typed(["\x05"], editor); // Ctrl+E
  assert.equal(editor.cursor, 6);
});

test("a paste types its characters; Enter submits the line, drops what follows, clears it", () => {
  const editor = new LineEditor("red$ ");
  const answer = editor.type("ip a\rreboot");
  assert.equal(answer.line, "ip a");
  assert.ok(answer.write.endsWith("\r\n"));
  assert.deepEqual([editor.line, editor.cursor], ["", 0]);
  assert.equal(editor.type("\x1b").line, undefined); // a lone ESC does nothing
  assert.equal(editor.line, "");
});

test("Up and Down walk the history, keeping the line being typed", () => {
  const editor = new LineEditor("red$ ");
  editor.type("ip a\r");
  editor.type("ping blue\r");
  editor.type("ping blue\r"); // a repeated line is kept once
  editor.type("\r"); // an empty one never
  editor.type("ip r");
  assert.deepEqual(editor.history, ["ip a", "ping blue"]);
  typed([UP], editor);
  assert.deepEqual([editor.line, editor.cursor], ["ping blue", 9]);
  typed([UP, UP, UP], editor); // stops at the oldest
  assert.equal(editor.line, "ip a");
  typed([DOWN], editor);
  assert.equal(editor.line, "ping blue");
  typed([DOWN, DOWN], editor); // back to the line being typed
  assert.equal(editor.line, "ip r");
  typed(["\x1bOA"], editor); // application cursor mode spells Up so
  assert.equal(editor.line, "ping blue");
});

test("Tab completes the word before the cursor, the rest of the line kept", () => {
  const words = ["blue", "red", "veth-red", "192.168.15.2"];
  const editor = new LineEditor("red$ ");
  editor.type("ping -c 1 bl");
  editor.type("\t", { words });
  assert.deepEqual([editor.line, editor.cursor], ["ping -c 1 blue ", 15]);
  editor.type(`${HOME}${"\x1b[C".repeat(4)} x\t`, { words }); // no word starts with "x"
  assert.equal(editor.line, "ping x -c 1 blue ");
  assert.equal(complete("ip a show dev veth-r", words), "ip a show dev veth-red ");
  assert.equal(complete("ping 192.168.15.", ["192.168.15.1", "192.168.15.2"]), "ping 192.168.15.");
  assert.equal(complete("ping ", words), "ping ");
});

test("Ctrl+C abandons the line and answers an interrupt with a fresh prompt", () => {
  const editor = new LineEditor("red$ ");
  editor.type("ping blue");
  const answer = editor.type("\x03");
  assert.equal(answer.interrupt, true);
  assert.equal(answer.line, undefined);
  assert.ok(answer.write.endsWith("^C\r\nred$ "));
  assert.equal(editor.line, "");
  assert.deepEqual(editor.history, []);
});

test("the terminal is rewritten from the line's first row, wrapped rows included", () => {
  const editor = new LineEditor("\x1b[1;32mred$\x1b[0m ");
  assert.equal(visibleLength(editor.prompt), 5);
  // On a 10-column screen "red$ " plus "abc" stays on row 0: column 1, erase, write, column 9.
  assert.equal(editor.type("abc", { cols: 10 }).write, `\x1b[1G\x1b[J${editor.prompt}abc\x1b[9G`);
  // "red$ abcdef" wraps: the cursor (offset 11) ends on row 1, column 2.
  assert.equal(editor.type("def", { cols: 10 }).write, `\x1b[1G\x1b[J${editor.prompt}abcdef\x1b[2G`);
  // Left from there: up a row to the prompt first, the text, then back to offset 10 (column 1).
  assert.equal(editor.type(LEFT, { cols: 10 }).write,
    `\x1b[1A\x1b[1G\x1b[J${editor.prompt}abcdef\x1b[1G`);
  // A text ending exactly at the margin leaves xterm's cursor waiting to wrap: a space and a
  // carriage return put it on the next row, where the offsets say it is.
  const full = new LineEditor("ab$ ");
  assert.equal(full.type("cdefgh", { cols: 10 }).write, `\x1b[1G\x1b[Jab$ cdefgh \r\x1b[K\x1b[1G`);
});

test("a program's output is text: lines end with CRLF, control characters are shown, not obeyed", () => {
  assert.equal(printable("a\nb\r\n"), "a\r\nb\r\n");
  assert.equal(printable("\x1b]0;owned\x07\x1b[2J\x1b[31mred"), "^[]0;owned^G^[[2J^[[31mred");
  assert.equal(printable("\x9b31m"), "\ufffd31m"); // a C1 CSI
  assert.equal(printable("tab\there"), "tab\there");
});
