"""Sample HTTP service for the aws-swarm stack: names itself on every path.

Standard library only, and only modules that Debian's python3-minimal ships (no http.server,
no json), so the same file runs FROM python:alpine on AWS and FROM the test harness's base image.

Environment:
  PORT          listening port (default 8080)
  BIND          listening address (default 0.0.0.0)
  SERVICE_NAME  service name shown in every answer (default "echo")
  TASK_NAME     swarm task name, e.g. "{{.Task.Name}}" (default: the hostname)
  ECHO_VERSION  build version shown in every answer
  ECHO_HEALTHY  "0" makes /healthz fail forever (a deliberately broken build)
  DRAIN_DELAY   seconds to keep serving after SIGTERM (default 3)
  DRAIN_TIMEOUT seconds to wait for in-flight requests after that (default 10)

`server.py --healthcheck` probes /healthz on 127.0.0.1:$PORT and exits 0 when it answers 200:
the container HEALTHCHECK, no curl needed.
"""
import os
import signal
import socket
import sys
import threading
import time

PORT = int(os.environ.get("PORT", "8080"))
BIND = os.environ.get("BIND", "0.0.0.0")
SERVICE = os.environ.get("SERVICE_NAME", "echo")
HOST = socket.gethostname()
TASK = os.environ.get("TASK_NAME") or HOST
VERSION = os.environ.get("ECHO_VERSION", "dev")
HEALTHY = os.environ.get("ECHO_HEALTHY", "1") != "0"
DRAIN_DELAY = float(os.environ.get("DRAIN_DELAY", "3"))
DRAIN_TIMEOUT = float(os.environ.get("DRAIN_TIMEOUT", "10"))
IDLE_TIMEOUT = 60.0  # longer than any proxy's keep-alive pool, so the proxy closes first
MAX_HEADER = 64 * 1024

draining = threading.Event()  # SIGTERM seen: report unhealthy, keep serving
closing = threading.Event()  # drain delay over: stop accepting, close idle connections
active = 0
active_lock = threading.Lock()


def log(message):
    sys.stderr.write("echo[%s]: %s\n" % (SERVICE, message))
    sys.stderr.flush()


def respond(conn, status, body, keep_alive, head=False):
    reason = {200: "OK", 400: "Bad Request", 500: "Internal Server Error", 503: "Service Unavailable"}
    payload = body.encode()
    headers = [
        "HTTP/1.1 %d %s" % (status, reason.get(status, "Unknown")),
        "Content-Type: text/plain; charset=utf-8",
        "Content-Length: %d" % len(payload),
        "X-Served-By: %s" % TASK,
        "Connection: %s" % ("keep-alive" if keep_alive else "close"),
    ]
    conn.sendall(("\r\n".join(headers) + "\r\n\r\n").encode() + (b"" if head else payload))


def read_exact(conn, buffer, size):
    while len(buffer) < size:
        chunk = conn.recv(65536)
        if not chunk:
            raise ConnectionError("closed in body")
        buffer += chunk
    return buffer[size:]


def read_chunked(conn, buffer):
    """Discards a chunked request body; returns what follows it."""
    while True:
        while b"\r\n" not in buffer:
            chunk = conn.recv(65536)
            if not chunk:
                raise ConnectionError("closed in chunk size")
            buffer += chunk
        line, buffer = buffer.split(b"\r\n", 1)
        size = int(line.split(b";")[0].strip() or b"0", 16)
        if size == 0:
            while b"\r\n\r\n" not in b"\r\n" + buffer:
                chunk = conn.recv(65536)
                if not chunk:
                    raise ConnectionError("closed in trailer")
                buffer += chunk
            return (b"\r\n" + buffer).split(b"\r\n\r\n", 1)[1]
        buffer = read_exact(conn, buffer, size + 2)


def answer(method, target, headers):
    path = target.split("?", 1)[0]
    if path == "/healthz":
        if draining.is_set():
            return 503, "draining\n"
        return (200, "ok\n") if HEALTHY else (500, "unhealthy build\n")
    # What the gateway says of the client: its address and the scheme it used ("-" when unset).
    forwarded = headers.get("x-forwarded-for", "-").replace(" ", "")
    proto = headers.get("x-forwarded-proto", "-")
    return 200, "service=%s task=%s host=%s version=%s path=%s forwarded-for=%s proto=%s\n" % (
        SERVICE, TASK, HOST, VERSION, path, forwarded, proto)


def handle(conn):
    global active
    buffer = b""
    conn.settimeout(1.0)
    idle_since = time.monotonic()
    try:
        while True:
            # Wait for a complete request head, closing when idle too long or shutting down.
            while b"\r\n\r\n" not in buffer:
                if not buffer and (closing.is_set() or time.monotonic() - idle_since > IDLE_TIMEOUT):
                    return
                try:
                    chunk = conn.recv(65536)
                except socket.timeout:
                    continue
                if not chunk:
                    return
                buffer += chunk
                if len(buffer) > MAX_HEADER:
                    respond(conn, 400, "request head too large\n", False)
                    return
            with active_lock:
                active += 1
            try:
                head, buffer = buffer.split(b"\r\n\r\n", 1)
                lines = head.decode("latin-1").split("\r\n")
                parts = lines[0].split(" ")
                if len(parts) != 3:
                    respond(conn, 400, "bad request line\n", False)
                    return
                method, target, version = parts
                headers = {}
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
                if headers.get("transfer-encoding", "").lower() == "chunked":
                    buffer = read_chunked(conn, buffer)
                elif "content-length" in headers:
                    buffer = read_exact(conn, buffer, int(headers["content-length"]))
                connection = headers.get("connection", "").lower()
                keep_alive = (version == "HTTP/1.1" and connection != "close") or (
                    version == "HTTP/1.0" and connection == "keep-alive"
                )
                keep_alive = keep_alive and not closing.is_set()
                status, body = answer(method, target, headers)
                respond(conn, status, body, keep_alive, head=(method == "HEAD"))
            finally:
                with active_lock:
                    active -= 1
            if not keep_alive:
                return
            idle_since = time.monotonic()
    except (ConnectionError, OSError, ValueError):
        return
    finally:
        try:
            conn.close()
        except OSError:
            pass


def on_sigterm(signum, frame):
    if not draining.is_set():
        log("signal %d: serving %.1fs more, then draining" % (signum, DRAIN_DELAY))
        draining.set()


def serve():
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((BIND, PORT))
    listener.listen(256)
    listener.settimeout(0.2)
    signal.signal(signal.SIGTERM, on_sigterm)
    signal.signal(signal.SIGINT, on_sigterm)
    log("listening on :%d as task %s, version %s%s" % (PORT, TASK, VERSION, "" if HEALTHY else " (unhealthy build)"))
    drain_at = None
    while True:
        if draining.is_set() and drain_at is None:
            drain_at = time.monotonic() + DRAIN_DELAY
        if drain_at is not None and time.monotonic() >= drain_at:
            break
        try:
            conn, _ = listener.accept()
        except socket.timeout:
            continue
        except OSError:
            continue
        threading.Thread(target=handle, args=(conn,), daemon=True).start()
    listener.close()
    closing.set()
    deadline = time.monotonic() + DRAIN_TIMEOUT
    while time.monotonic() < deadline:
        with active_lock:
            if active == 0:
                break
        time.sleep(0.05)
    log("stopped (in flight at exit: %d)" % active)


def healthcheck():
    try:
        probe = socket.create_connection(("127.0.0.1" if BIND == "0.0.0.0" else BIND, PORT), timeout=2)
        probe.sendall(b"GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n")
        status = probe.recv(64).split(b"\r\n", 1)[0]
        probe.close()
    except OSError as error:
        sys.stderr.write("healthcheck: %s\n" % error)
        return 1
    return 0 if status.split(b" ")[1:2] == [b"200"] else 1


if __name__ == "__main__":
    if sys.argv[1:] == ["--healthcheck"]:
        sys.exit(healthcheck())
    serve()
