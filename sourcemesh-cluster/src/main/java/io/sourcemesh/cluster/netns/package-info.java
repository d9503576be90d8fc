/**
 * The netns runtime's kernel side (root or CAP_NET_ADMIN + CAP_SYS_ADMIN): {@link io.sourcemesh.cluster.netns.Preflight}
 * says what the machine lacks; {@link io.sourcemesh.cluster.netns.Topology} makes the lan, node, pod, lb and
 * external namespaces (never touching the host's own) and removes them, or a crashed run's leftovers by
 * prefix; {@link io.sourcemesh.cluster.netns.IstioIptables} and {@link io.sourcemesh.cluster.netns.KubeProxyRules}
 * write istio-iptables' REDIRECT/TPROXY capture and kube-proxy's service rules as iptables-restore batches;
 * {@link io.sourcemesh.cluster.netns.ProxyProcess} runs the sidecar inside a pod as uid/gid 1337.
 */
package io.sourcemesh.cluster.netns;
