#!/usr/bin/env python3
"""A stand-in for a hosted OpenAI-compatible chat model, for scripts/schemathesis.sh.

It speaks the real `/v1/chat/completions` wire protocol (non-streamed JSON, and SSE chunks
ending in `data: [DONE]` when asked to stream) on a free loopback port, printed on stdout.
A request with a JSON-schema `response_format` gets the smallest JSON value satisfying the
schema subset Brandpilot uses; any other request gets a short sentence. It never decides
anything: it lets the property tests reach the routes that need a model.
"""
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TEXT = "Book a taster class today."


def value_for(schema):
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return value_for(schema[key][0])
    kind = schema.get("type")
    if kind == "object":
        return {name: value_for(schema["properties"][name]) for name in schema.get("required", [])}
    if kind == "array":
        return [value_for(schema.get("items", {})) for _ in range(schema.get("minItems", 0))]
    if kind == "string":
        text = TEXT[: schema.get("maxLength", len(TEXT))]
        return text.ljust(schema.get("minLength", 0), "a")
    if kind in ("number", "integer"):
        return schema.get("minimum", 0)
    if kind == "boolean":
        return False
    return None


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
        schema = (body.get("response_format") or {}).get("json_schema", {}).get("schema")
        text = json.dumps(value_for(schema)) if schema else TEXT
        usage = {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
        if body.get("stream"):
            chunk = {"id": "fake", "object": "chat.completion.chunk", "model": "fake",
                     "choices": [{"index": 0, "delta": {"role": "assistant", "content": text},
                                  "finish_reason": "stop"}], "usage": usage}
            payload = f"data: {json.dumps(chunk)}\n\ndata: [DONE]\n\n".encode()
            content_type = "text/event-stream"
        else:
            answer = {"id": "fake", "object": "chat.completion", "model": "fake",
                      "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                   "finish_reason": "stop"}], "usage": usage}
            payload = json.dumps(answer).encode()
            content_type = "application/json"
        self.send_response(200)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(f"http://127.0.0.1:{server.server_address[1]}/v1", flush=True)
sys.stdout.close()
server.serve_forever()
