#!/usr/bin/env python3
"""Checks the relative links of every tracked Markdown file.

Usage: check_links.py [REPOSITORY_ROOT]

A link fails when its file does not exist, or when its #anchor is not made
by any heading (or <a name>/id) of the Markdown file it points to. Anchors
follow GitHub's rules: the heading's text, lower-case, with every character
that is not a letter, a digit, a space, '-' or '_' removed (CJK and other
letters stay), spaces turned into '-', and -1, -2, ... appended to repeats.
Links inside code (fenced blocks, inline code spans) are not links. Absolute
URLs (http:, mailto:, ...) are not checked. Exit status 0 when every link
resolves, 1 otherwise (each broken link printed as FILE:LINE: reason).
Standard library only.
"""

import os
import re
import subprocess
import sys
import unicodedata
from urllib.parse import unquote

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t]*#*[ \t]*$")
SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
INLINE_CODE = re.compile(r"(`+)(.+?)\1")
# [text](target) and ![alt](target); the text may hold one level of [..].
INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*(<[^>]*>|[^\s()]*(?:\([^\s()]*\)[^\s()]*)*)(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?\s*\)")
REFERENCE_DEF = re.compile(r"^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)")
HTML_ANCHOR = re.compile(r"<a\s[^>]*\b(?:name|id)\s*=\s*[\"']([^\"']+)[\"']", re.IGNORECASE)
HTML_HREF = re.compile(r"<(?:a|img)\s[^>]*\b(?:href|src)\s*=\s*[\"']([^\"']+)[\"']", re.IGNORECASE)
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def markdown_files(root):
    try:
        out = subprocess.run(["git", "-C", root, "ls-files", "-z", "--", "*.md"],
                             check=True, capture_output=True).stdout
        return sorted(p for p in out.decode("utf-8").split("\0") if p)
    except (OSError, subprocess.CalledProcessError):
        # Not a git checkout (a source tarball): every .md outside build trees.
        found = []
        for top, dirs, files in os.walk(root):
            dirs[:] = [d for d in dirs if not d.startswith((".", "build"))]
            found += [os.path.relpath(os.path.join(top, f), root)
                      for f in files if f.endswith(".md")]
        return sorted(found)


def prose_lines(text):
    """(line number, line) of the lines outside fenced code blocks."""
    fence = None
    for number, line in enumerate(text.split("\n"), 1):
        m = FENCE.match(line)
        if fence:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) \
                    and not line.strip()[len(m.group(1)):].strip():
                fence = None
            continue
        if m:
            fence = m.group(1)
            continue
        yield number, line


def heading_text(raw):
    """The text GitHub renders for a heading's Markdown source."""
    text = INLINE_CODE.sub(lambda m: m.group(2), raw)
    text = re.sub(r"!?\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\([^)]*\)", r"\1", text)  # links
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML
    text = re.sub(r"(\*\*|__|\*)", "", text)  # emphasis
    return text


def slug(text):
    text = text.strip().lower()
    kept = []
    for ch in text:
        if ch in " -_":
            kept.append(ch)
        elif unicodedata.category(ch)[0] in ("L", "N", "M"):
            kept.append(ch)
    return "".join(kept).replace(" ", "-")


def anchors_of(path, cache):
    if path in cache:
        return cache[path]
    with open(path, encoding="utf-8") as f:
        text = f.read()
    anchors, seen = set(), {}
    previous = None
    for _, line in prose_lines(text):
        base = None
        m = HEADING.match(line)
        if m:
            base = slug(heading_text(m.group(2)))
        elif previous is not None and previous.strip() and SETEXT.match(line) \
                and not HEADING.match(previous) and not previous.lstrip().startswith(("-", "*", "|", ">")):
            base = slug(heading_text(previous.strip()))
        if base is not None:
            n = seen.get(base, 0)
            seen[base] = n + 1
            anchors.add(base if n == 0 else "%s-%d" % (base, n))
        for name in HTML_ANCHOR.findall(line):
            anchors.add(name)
        previous = line
    cache[path] = anchors
    return anchors


def links_of(text):
    """(line number, target) of every link outside code."""
    # Code blocks become empty lines and code spans blanks, so that line
    # numbers stay right and link text may run over a line break.
    lines = [""] * (text.count("\n") + 1)
    for number, line in prose_lines(text):
        lines[number - 1] = INLINE_CODE.sub(lambda m: " " * len(m.group(0)), line)
    plain = "\n".join(lines)
    for m in INLINE_LINK.finditer(plain):
        if "\n\n" not in m.group(0):
            yield plain.count("\n", 0, m.start(1)) + 1, m.group(1)
    for number, line in enumerate(lines, 1):
        m = REFERENCE_DEF.match(line)
        if m:
            yield number, m.group(1)
        for href in HTML_HREF.findall(line):
            yield number, href


def check(root):
    root = os.path.abspath(root)
    cache, problems, count = {}, [], 0
    for rel in markdown_files(root):
        source = os.path.join(root, rel)
        if not os.path.isfile(source):
            continue
        with open(source, encoding="utf-8") as f:
            text = f.read()
        for number, target in links_of(text):
            target = target.strip()
            if target.startswith("<") and target.endswith(">"):
                target = target[1:-1]
            if not target or SCHEME.match(target) or target.startswith("//"):
                continue
            count += 1
            path, _, anchor = target.partition("#")
            path = unquote(path.split("?", 1)[0])
            if path:
                if path.startswith("/"):
                    resolved = os.path.join(root, path.lstrip("/"))
                else:
                    resolved = os.path.join(os.path.dirname(source), path)
                resolved = os.path.normpath(resolved)
                if not os.path.exists(resolved):
                    problems.append("%s:%d: %s: no such file" % (rel, number, target))
                    continue
            else:
                resolved = source
            if anchor and resolved.endswith(".md") and os.path.isfile(resolved):
                if unquote(anchor) not in anchors_of(resolved, cache):
                    problems.append("%s:%d: %s: no heading makes the anchor #%s in %s"
                                    % (rel, number, target, anchor,
                                       os.path.relpath(resolved, root)))
    return count, problems


def main(argv):
    root = argv[1] if len(argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
    count, problems = check(root)
    for p in problems:
        print(p)
    if problems:
        print("%d of %d relative links are broken" % (len(problems), count))
        return 1
    print("%d relative links, all resolve" % count)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
