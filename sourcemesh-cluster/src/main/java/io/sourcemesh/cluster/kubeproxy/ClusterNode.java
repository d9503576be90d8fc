package io.sourcemesh.cluster.kubeproxy;

import java.net.InetAddress;

/** A node of the cluster by name and InternalIP: where kube-proxy listens and what the load balancer targets. */
public record ClusterNode(String name, InetAddress ip) {}
