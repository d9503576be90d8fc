package io.sourcemesh.proxy.xds;

/**
 * Receives each consistent set of xDS resources. Returning normally accepts the set (the client
 * ACKs every new version in it); throwing rejects it (the client NACKs with the exception's message
 * and keeps the last accepted set).
 */
@FunctionalInterface
public interface ResourceHandler {

    void apply(XdsResources resources) throws Exception;
}
