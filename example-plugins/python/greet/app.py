"""greet-py: `greet-py NAME` says hello and counts NAME's visits in the
host's cache, so a second run says `#2` (one atomic increment, so runs at
the same time all count), and logs one line through `log`. Without NAME it
greets each line of stdin as it arrives (`isaac run greet-py < names.txt`).
`ask QUESTION...` (or the question on stdin) prints the AI's answer while
the model writes it."""

import sys

import wit_world
from componentize_py_types import Err
from wit_world.imports import ai, cache, log, types

COMMAND = "greet-py"


class WitWorld(wit_world.WitWorld):
    def metadata(self) -> types.PluginInfo:
        return types.PluginInfo(
            name="greet-py",
            version="0.1.0",
            description="Greets NAME and counts the visits (Python)",
            commands=[
                types.CommandInfo(name=COMMAND, summary="Greet NAME (or each line of stdin) and count the visits", usage="greet-py [NAME]"),
                types.CommandInfo(name="ask", summary="Ask the AI; the answer is printed as it is written", usage="ask [QUESTION...]"),
            ],
        )

    def run(self, command: str, args: list[str]) -> str:
        if command == "ask":
            return ask(" ".join(args) if args else sys.stdin.read())
        if command != COMMAND:
            raise Err(types.Error_Failed(f"greet-py has no command `{command}`"))
        if len(args) == 1:
            return greet(args[0])
        if args:
            raise Err(types.Error_Usage("usage: greet-py [NAME]"))
        for line in sys.stdin:  # each line as soon as it has arrived
            if line.strip():
                print(greet(line.strip()), flush=True)
        return ""


def greet(name: str) -> str:
    try:
        visits = cache.increment(f"visits:{name}", 1)
    except Err as e:
        raise Err(types.Error_Failed(f"the cache failed: {e.value}"))
    log.log(log.Level.INFO, f"greeted {name} (visit #{visits})")
    return f"Hello, {name}! (visit #{visits})"


def ask(question: str) -> str:
    question = question.strip()
    if not question:
        raise Err(types.Error_Usage("usage: ask QUESTION... (or the question on stdin)"))
    request = ai.Request(messages=[ai.Message(role="user", content=question)], model=None, max_tokens=None, temperature=None)
    try:
        with ai.query_stream(request) as answer:
            # Each piece as the model writes it; None once the answer is complete.
            while (piece := answer.next()) is not None:
                print(piece, end="", flush=True)
    except Err as e:
        raise Err(types.Error_Failed(f"the AI failed: {e.value}"))
    return ""
