package io.sourcemesh.cluster.apps;

/** The programs the embedded runtime can run in place of a container image. */
public enum BuiltinApp {
    /** {@link HttpbinApp}: any image whose name contains "httpbin". */
    HTTPBIN,
    /** {@link SleepApp}: curlimages/curl, or any container told to sleep. */
    SLEEP
}
