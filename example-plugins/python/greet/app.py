"""greet-py: `greet-py NAME` says hello and counts NAME's visits in the
host's cache, so a second run says `#2` (one atomic increment, so runs at
the same time all count). Logs one line through `log`."""

import wit_world
from componentize_py_types import Err
from wit_world.imports import cache, log, types

COMMAND = "greet-py"


class WitWorld(wit_world.WitWorld):
    def metadata(self) -> types.PluginInfo:
        return types.PluginInfo(
            name="greet-py",
            version="0.1.0",
            description="Greets NAME and counts the visits (Python)",
            commands=[types.CommandInfo(name=COMMAND, summary="Greet NAME and count the visits", usage="greet-py NAME")],
        )

    def run(self, command: str, args: list[str]) -> str:
        if command != COMMAND:
            raise Err(types.Error_Failed(f"greet-py has no command `{command}`"))
        if len(args) != 1:
            raise Err(types.Error_Usage("usage: greet-py NAME"))
        name = args[0]
        key = f"visits:{name}"
        try:
            visits = cache.increment(key, 1)
        except Err as e:
            raise Err(types.Error_Failed(f"the cache failed: {e.value}"))
        log.log(log.Level.INFO, f"greeted {name} (visit #{visits})")
        return f"Hello, {name}! (visit #{visits})"
