package io.sourcemesh.proxy.config;

/** A cluster and its weight, for weighted_clusters in routes and tcp_proxy. */
public record WeightedCluster(String cluster, int weight) {}
