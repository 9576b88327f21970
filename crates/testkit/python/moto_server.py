"""Start moto's server on 127.0.0.1 and a port the OS chooses, for the Rust test kit.

Usage: python moto_server.py [HOST]

Binds before it says anything, then prints one line of JSON, {"port": N}, on stdout:
once the parent has read that line the socket is listening, so no other process can
take the port in between (the race of "ask for a free port, then pass it on").
The server exits when its standard input closes, so a test process that dies without
running its destructors does not leave servers behind.
"""

import json
import os
import sys
import threading

from werkzeug.serving import make_server

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)


def exit_when_stdin_closes() -> None:
    # read() returns only at EOF: the parent closed the pipe or died.
    sys.stdin.buffer.read()
    os._exit(0)


def main() -> None:
    host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
    app = DomainDispatcherApplication(create_backend_app)
    server = make_server(host, 0, app, threaded=True, request_handler=MotoRequestHandler)
    port = server.server_address[1]
    # moto reads MOTO_PORT where it builds URLs for containers (lambda, batch).
    os.environ["MOTO_PORT"] = str(port)
    threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
    print(json.dumps({"port": port}), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
