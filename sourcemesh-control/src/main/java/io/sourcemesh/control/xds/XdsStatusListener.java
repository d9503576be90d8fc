package io.sourcemesh.control.xds;

/** Told whenever a proxy's ACK/NACK status for a type changes. Called on a gRPC thread: return quickly. */
@FunctionalInterface
public interface XdsStatusListener {

    void onStatus(String nodeId, String typeUrl, XdsStatus status);
}
