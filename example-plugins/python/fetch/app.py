"""fetch-py: `fetch-py URL` GETs a URL through the host's outbound HTTP
(`wasi:http/outgoing-handler`, only to the hosts in plugin.toml's
`allowed_hosts`) and shows the status, the content type and the first lines
of the body. Synchronous: each wait blocks on a WASI pollable."""

import wit_world
from componentize_py_types import Err
from wit_world.imports import isaac_plugin_types as types
from wit_world.imports import log, outgoing_handler, streams
from wit_world.imports import wasi_http_types as http

COMMAND = "fetch-py"
LINES = 10


def failed(message: str) -> Err:
    return Err(types.Error_Failed(message))


def split(url: str):
    """`scheme://authority/path` as a wasi:http scheme, the authority and the path."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme not in ("http", "https"):
        raise Err(types.Error_Usage(f"{url!r} is not an http:// or https:// URL"))
    cut = min([i for i in (rest.find("/"), rest.find("?")) if i >= 0] or [len(rest)])
    authority, path = rest[:cut], rest[cut:]
    path = path if path.startswith("/") else "/" + path
    return (http.Scheme_Https() if scheme == "https" else http.Scheme_Http()), authority, path


def get(url: str):
    """GET `url`: (status, headers, body), or Err with the reason."""
    scheme, authority, path = split(url)
    request = http.OutgoingRequest(http.Fields())
    request.set_method(http.Method_Get())
    request.set_scheme(scheme)
    request.set_authority(authority)
    request.set_path_with_query(path)
    try:
        future = outgoing_handler.handle(request, None)
    except Err as e:
        raise failed(f"{url}: {e.value}")
    with future:
        future.subscribe().block()
        ready = future.get()
        if ready is None or isinstance(ready, Err) or isinstance(ready.value, Err):
            reason = "the response was lost" if ready is None or isinstance(ready, Err) else ready.value.value
            raise failed(f"{url}: {reason}")
        response = ready.value.value
    with response:
        status = response.status()
        headers = {name.lower(): value.decode(errors="replace") for name, value in response.headers().entries()}
        body = bytearray()
        with response.consume() as incoming:
            with incoming.stream() as stream:
                while True:
                    try:
                        body += stream.blocking_read(65536)
                    except Err as e:
                        if isinstance(e.value, streams.StreamError_Closed):
                            break
                        raise failed(f"{url}: reading the body failed")
    return status, headers, bytes(body)


class WitWorld(wit_world.WitWorld):
    def metadata(self) -> types.PluginInfo:
        return types.PluginInfo(
            name="fetch-py",
            version="0.1.0",
            description="Fetches a URL from an allowed host (Python)",
            commands=[types.CommandInfo(name=COMMAND, summary="GET a URL: status, content type, first lines", usage="fetch-py URL")],
        )

    def run(self, command: str, args: list[str]) -> str:
        if command != COMMAND:
            raise failed(f"fetch-py has no command `{command}`")
        if len(args) != 1:
            raise Err(types.Error_Usage("usage: fetch-py URL"))
        url = args[0]
        log.log(log.Level.INFO, f"fetching {url}")
        status, headers, body = get(url)
        text = body.decode(errors="replace")
        lines = text.splitlines()
        out = f"{status} {headers.get('content-type', 'unknown')} ({len(body)} bytes)\n" + "\n".join(lines[:LINES])
        if len(lines) > LINES:
            out += f"\n... ({len(lines) - LINES} more lines)"
        return out
