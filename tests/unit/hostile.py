"""Hostile strings for the tests of generated shell text: each tries one way out of a quote
or a comment, with a payload (``touch pwned``) that leaves a file behind if it ever runs.
"""

from __future__ import annotations

PAYLOAD = "touch pwned"

HOSTILE = {
    "newline": "harmless\ntouch pwned #",
    "carriage-return": "harmless\rtouch pwned",
    "crlf": "harmless\r\ntouch pwned",
    "line-separator": "harmless\u2028touch pwned",
    "paragraph-separator": "harmless\u2029touch pwned",
    "next-line": "harmless\x85touch pwned",
    "vertical-tab-form-feed": "a\x0b\x0ctouch pwned",
    "nul": "harmless\x00\ntouch pwned",
    "escape-sequence": "\x1b[2J\x1b]0;title\x07\ntouch pwned",
    "bidi-override": "\u202etouch pwned",
    "single-quote": "it's'; touch pwned; '",
    "double-quote": '"; touch pwned; "',
    "command-substitution": "$(touch pwned)",
    "backticks": "`touch pwned`",
    "variable": "${IFS}$(touch${IFS}pwned)",
    "heredoc-terminator": "x\nEOF\ntouch pwned\nEOF",
    "leading-dash": "-rf; touch pwned",
    "backslash-newline": "a\\\ntouch pwned",
    "backslash-quote": "\\'; touch pwned; echo \\'",
    "semicolon-ampersand": "a; touch pwned & touch pwned |",
    "comment-and-glob": "# * ? [a] ~ ! { }",
    "lone-surrogate": "\ud800\ntouch pwned",
    "emoji-and-accents": "penguin 🐧 ünïcødé\ntouch pwned",
    "empty": "",
}
# Every character a line of a script may end at (bash: newline; editors and viewers: the rest).
LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
