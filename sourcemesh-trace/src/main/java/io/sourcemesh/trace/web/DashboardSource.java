package io.sourcemesh.trace.web;

import io.sourcemesh.trace.Snapshot;
import io.sourcemesh.trace.Trace;
import java.util.List;

/** What the dashboard shows: a running cluster (traces with probes) or a collected dump directory. */
public interface DashboardSource {
    String describe();

    Snapshot snapshot();

    Trace eastWest(String namespace, String from, String url) throws Exception;

    /** {@code client} null: the source's default internet client. */
    Trace northSouth(String url, String client) throws Exception;

    /** Every proxy's recent access-log lines, each prefixed with its pod ({@code ns/pod: line}). */
    List<String> accessLogs();
}
