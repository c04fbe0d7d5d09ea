"""A Lambda execution environment: ``python -m infra.local.worker`` serves one function's invocations.

It speaks length-prefixed JSON on its stdin/stdout; what the function prints goes to the function's log file.
The environment it runs in is set by the parent, exactly as the template gives it.
"""

from __future__ import annotations

import importlib
import json
import os
import struct
import sys
import time
import traceback
from typing import IO, Any

from infra.assets import ASSET_DIR
from infra.local import crashes

_HEADER = struct.Struct(">I")


def write_message(stream: IO[bytes], message: Any) -> None:
    data = json.dumps(message, default=str).encode()
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def read_message(stream: IO[bytes]) -> Any:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise EOFError
    (length,) = _HEADER.unpack(header)
    return json.loads(stream.read(length))


class Context:
    """The Lambda context object as handlers (and Powertools) read it."""

    def __init__(self, request_id: str, deadline: float) -> None:
        name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        region = os.environ.get("AWS_REGION", "us-east-1")
        self.function_name = name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{region}:123456789012:function:{name}"
        self.memory_limit_in_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
        self.aws_request_id = request_id
        self.log_group_name = f"/aws/lambda/{name}"
        self.log_stream_name = f"local/[$LATEST]{os.getpid()}"
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.time()) * 1000))


def main() -> None:
    handler_path, log_path = sys.argv[1], sys.argv[2]
    protocol_in, protocol_out = sys.stdin.buffer, sys.stdout.buffer
    log = open(log_path, "a", buffering=1)  # noqa: SIM115 - lives as long as the process
    sys.stdout = sys.stderr = log
    sys.path.insert(0, str(ASSET_DIR))  # the built asset, as Lambda would unpack it
    crashes.install(os.environ.get(crashes.ENV_VAR))  # the chaos run only
    module_name, function_name = handler_path.rsplit(".", 1)
    handler = init_error = None
    try:
        handler = getattr(importlib.import_module(module_name), function_name)
    except Exception as error:  # an INIT failure is reported on every invocation, as Lambda does
        init_error = error
        traceback.print_exc()
    # INIT is over: the invocation's own timeout starts now, as on Lambda (INIT has a budget of its own).
    write_message(protocol_out, ["ready", None, None])
    while True:
        try:
            event, request_id, deadline = read_message(protocol_in)
        except EOFError:
            return
        if handler is None:
            write_message(protocol_out, ["error", type(init_error).__name__, str(init_error)])
            continue
        crashes.arm(event)
        try:
            result = handler(event, Context(request_id, deadline))
        except Exception as error:
            traceback.print_exc()
            write_message(protocol_out, ["error", type(error).__name__, str(error)])
        else:
            write_message(protocol_out, ["ok", result, None])


if __name__ == "__main__":
    main()
