# A tiny app for the netns tests: answers GET with {"origin": <the peer of its socket>}, as
# httpbin's /ip does, and logs that peer, so a test sees what the app's real socket saw.
import http.server
import json
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = (json.dumps({"origin": self.client_address[0]}, indent=2) + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        sys.stdout.write("peer %s:%d %s\n" % (self.client_address[0], self.client_address[1], fmt % args))
        sys.stdout.flush()


http.server.ThreadingHTTPServer(("0.0.0.0", int(sys.argv[1])), Handler).serve_forever()
