package io.sourcemesh.cluster.exec;

/** A finished command's exit code and output, as {@code kubectl exec} shows them. */
public record ExecResult(int exitCode, String stdout, String stderr) {}
