"""Shared by every room: the project root, the one error type (bad input:
one clear line, exit 1) and reading JSON, key-value and text files."""

import json
import os




ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class ReportError(Exception):
    """Bad input: one clear line, exit 1."""


def load_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except OSError as e:
        raise ReportError("cannot read %s: %s" % (path, e.strerror))
    except json.JSONDecodeError as e:
        raise ReportError("%s is not JSON: %s" % (path, e))


def load_json_or_none(path):
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return None


def read_kv(path):
    out = {}
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                k, _, v = line.rstrip("\n").partition(" ")
                if k:
                    out[k] = v
    except OSError:
        pass
    return out


def write_text(path, text):
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)


def plural(n, word, words=None):
    """"1 run", "5 runs": the count with the word that follows it."""
    return "%s %s" % (n, word if n == 1 else (words or word + "s"))
