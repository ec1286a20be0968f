"""jsonargparse reports a bad option or YAML key in 5-60 lines plus the usage; this makes one line of it that
names the key and, when there is one, the closest valid key."""

from __future__ import annotations

import argparse
import difflib
import importlib
import inspect
import re

_NOT_ACCEPTED = re.compile(r"Option '([^']+)' is not accepted")
_NOT_EXPECTED = re.compile(r'Key "([^"]+)" is not expected')
_UNRECOGNIZED = re.compile(r"unrecognized arguments: (\S+)", re.IGNORECASE)
_CLASS_PATH = re.compile(r"class_path '([\w.]+)'")
_LITERAL = re.compile(r'Parser key "([^"]+)":\s*Expected a typing\.Literal\[([^\]]*)\]\. Got value: (\S+)')
_EXPECTED = re.compile(r"Expected a (?!<class 'NoneType'>)(.+?)\. Got value: (\S+)")
_UNION = re.compile(r"Subtypes: \[(.*?)\](?= Errors:| Given|$)")
_UNION_MEMBER = re.compile(r"typing\.Literal\[([^\]]*)\]|<class '(\w+)'>|([\w.\[\]]+)")
_GIVEN = re.compile(r"Given value: (\S+)")
_TYPE_NAME = re.compile(r"<class '(\w+)'>")
_PARSER_KEY = re.compile(r'Parser key "([\w.]+)"')


def _init_args(class_path: str) -> list[str]:
    """Constructor arguments of a configured class, along its base classes (``**kwargs`` passes them on)."""
    module_name, _, name = class_path.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError, ValueError):
        return []
    names: list[str] = []
    for klass in inspect.getmro(cls):
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        names += [
            p.name for p in inspect.signature(init).parameters.values() if p.name != "self" and p.kind == p.KEYWORD_ONLY
        ]
        names += [
            p.name
            for p in inspect.signature(init).parameters.values()
            if p.name != "self" and p.kind == p.POSITIONAL_OR_KEYWORD
        ]
    return list(dict.fromkeys(names))


def _suggest(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def one_line_parse_error(message: str, known_keys: list[str]) -> str:
    """One line for a jsonargparse error ``message``; ``known_keys`` are the parser's own dotted keys."""
    text = " ".join(message.split())
    if match := _NOT_ACCEPTED.search(text):
        key = match.group(1)
        class_match = _CLASS_PATH.search(text)
        group_match = _PARSER_KEY.search(text)
        group = group_match.group(1) if group_match else "model"
        choices = _init_args(class_match.group(1)) if class_match else []
        owner = class_match.group(1).rpartition(".")[2] if class_match else group
        return f"unknown option '{key}' for {owner}{_suggest(key, choices)} (see `--{group}.help {owner}`)"
    if match := _LITERAL.search(text):
        key, allowed, got = match.groups()
        return f"{key} must be one of {allowed}, got {got}"
    if match := _EXPECTED.search(text):
        keys = [k for k in _PARSER_KEY.finditer(text) if k.start() < match.start()]
        key = keys[-1].group(1) if keys else "a value"
        expected = _TYPE_NAME.sub(r"\1", match.group(1))
        return f"{key} must be {expected}, got {match.group(2)!r}"
    if unions := list(_UNION.finditer(text)):
        # A class's argument is a union nested in the class's own (model: LightningModule | None): the innermost
        # union is the argument the user got wrong, and the outer key names the class it belongs to.
        match = unions[-1]
        keys = [k for k in _PARSER_KEY.finditer(text) if k.start() < match.start()]
        if keys:
            key = keys[-1].group(1)
            if len(keys) > 1 and _CLASS_PATH.search(text, keys[0].end(), keys[-1].start()):
                key = f"{keys[0].group(1)}.init_args.{key}"
            given = _GIVEN.search(text, match.end())
            return f"{key} must be {_union_choices(match.group(1))}" + (f", got {given.group(1)!r}" if given else "")
    for pattern in (_NOT_EXPECTED, _UNRECOGNIZED):
        if match := pattern.search(text):
            key = match.group(1).lstrip("-").split("=")[0]
            return f"unknown option '{key}'{_suggest(key, known_keys)} (see --help)"
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    summary = " ".join(lines[:3])[:240] or "invalid arguments"
    return f"{summary} (see --help)"


def _union_choices(subtypes: str) -> str:
    """``Literal[64, 32], Literal['64', 'bf16'], <class 'int'>, <class 'NoneType'>`` -> ``one of 64, 32, bf16 (or
    int)``: every accepted value once (64 and '64' are one choice on the command line), then the other types."""
    values: list[str] = []
    types: list[str] = []
    for literal, class_name, other in _UNION_MEMBER.findall(subtypes):
        if literal:
            values += [value.strip().strip("'\"") for value in literal.split(",")]
        elif (class_name or other) and (class_name or other) != "NoneType":
            types.append(class_name or other)
    values = list(dict.fromkeys(values))
    if not values:
        return ", ".join(types) or "null"
    return f"one of {', '.join(values)}" + (f" (or {', '.join(types)})" if types else "")


def known_options(parser: argparse.ArgumentParser) -> list[str]:
    """Every option the parser and its subcommand parsers accept, without the leading dashes."""
    names: list[str] = []
    for action in parser._actions:
        names += [option.lstrip("-") for option in action.option_strings if option.startswith("--")]
        if isinstance(action, argparse._SubParsersAction):
            for subparser in action.choices.values():
                names += known_options(subparser)
    return list(dict.fromkeys(names))
