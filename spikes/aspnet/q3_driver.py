#!/usr/bin/env python3
"""Q3 driver (modes: listen, accept, accept-used): a parent process owns sockets and hands them to a Kestrel child by file descriptor inheritance.
listen: a listening socket (bound 127.0.0.1:0 here) -> child's ListenHandle(fd); curl it twice.
accept: a connection accepted here, with one request already answered?  No: a fresh accepted connection, its fd
        passed to the child, which serves it through a transport that adopts accepted sockets; two requests on it."""
import socket, subprocess, sys, time, os
HOST = ["dotnet", os.path.join(os.path.dirname(__file__), "Host/bin/Release/net10.0/Host.dll")]

def start(args, fd):
    p = subprocess.Popen(HOST + args, pass_fds=[fd], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    t = time.time()
    line = p.stdout.readline().strip()
    print(f"child: {line} ({(time.time()-t)*1000:.0f} ms to READY)")
    return p

def stop(p):
    p.stdin.close(); p.wait(10); print("child exit", p.returncode)

mode = sys.argv[1]
ls = socket.socket(); ls.bind(("127.0.0.1", 0)); ls.listen(16)
port = ls.getsockname()[1]
if mode == "listen":
    p = start(["q3listen", str(ls.fileno())], ls.fileno())
    print(subprocess.run(["curl", "-s", f"http://127.0.0.1:{port}/", f"http://127.0.0.1:{port}/"], capture_output=True, text=True).stdout, end="")
    stop(p)
else:
    client = socket.create_connection(("127.0.0.1", port))
    conn, _ = ls.accept()           # accepted by this process
    if mode == "accept-used":
        # This process serves the connection's first request itself (as an old process would), then hands it over
        # at the request boundary: nothing left unread on it.
        client.sendall(b"GET /old HTTP/1.1\r\nHost: x\r\n\r\n")
        req = b""
        while not req.endswith(b"\r\n\r\n"): req += conn.recv(1)
        body = b"served by the parent process\n"
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        f0 = client.makefile("rb"); st = f0.readline().decode().strip()
        while f0.readline().strip(): pass
        print(f"request 0 on the connection (local port {client.getsockname()[1]}): {st} | {f0.read(len(body)).decode().strip()}")
    p = start(["q3accept", str(conn.fileno())], conn.fileno())
    conn.close()                    # the child holds its own copy of the descriptor now
    f = client.makefile("rb")
    for i in range(2):
        client.sendall(f"GET / HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        status = f.readline().decode().strip(); length = 0
        while (h := f.readline().decode().strip()):
            if h.lower().startswith("content-length"): length = int(h.split(":")[1])
        body = f.read(length).decode().strip() if length else "(chunked)"
        if not length:
            # chunked body: read one chunk and the terminator
            n = int(f.readline(), 16); body = f.read(n).decode().strip(); f.readline(); f.readline(); f.readline()
        print(f"request {i+1} on the client's one TCP connection (local port {client.getsockname()[1]}): {status} | {body}")
    client.close()
    stop(p)
