package io.sourcemesh.cluster.kubeproxy;

import io.sourcemesh.api.resource.KubeObject;
import java.net.InetAddress;

/** A ready pod as the endpoints controller sees it: the pod, its address and the node it runs on. */
public record Endpoint(KubeObject pod, InetAddress ip, String node) {}
