package io.sourcemesh.control.xds;

/** What a proxy last said about one resource type: it applied a version, or it rejected one. */
public sealed interface XdsStatus {

    /** The version the proxy runs: for an ACK the new one, for a NACK the one it kept. */
    String version();

    /** The proxy applied {@code version}. */
    record Ack(String version) implements XdsStatus {
    }

    /**
     * The proxy rejected {@code rejectedVersion} ("" if the response it answers is unknown here) and
     * keeps running {@code version}; {@code message} is its {@code error_detail}.
     */
    record Nack(String version, String rejectedVersion, String message) implements XdsStatus {
    }
}
