package io.sourcemesh.proxy.admin;

import io.netty.handler.codec.http.HttpResponseStatus;

/** One admin response before it meets the wire. */
record Reply(HttpResponseStatus status, String contentType, String body) {
    static final String TEXT = "text/plain; charset=UTF-8";
    static final String JSON = "application/json";

    static Reply text(String body) {
        return new Reply(HttpResponseStatus.OK, TEXT, body);
    }

    static Reply text(HttpResponseStatus status, String body) {
        return new Reply(status, TEXT, body);
    }

    static Reply json(String body) {
        return new Reply(HttpResponseStatus.OK, JSON, body);
    }
}
