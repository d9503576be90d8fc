package io.sourcemesh.proxy.accesslog;

/** TEMPORARY stand-in until the access-log branch lands. */
public interface AccessLog {
    void log(StreamInfo stream);
}
