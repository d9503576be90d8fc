package io.sourcemesh.proxy.accesslog;

import io.sourcemesh.proxy.config.AccessLogConfig;

/** TEMPORARY stand-in until the access-log branch lands. */
public final class AccessLogs {
    private AccessLogs() {}

    public static AccessLog create(AccessLogConfig config) {
        return stream -> System.out.println(stream.responseCode() + " " + stream.downstreamRemoteAddress());
    }
}
