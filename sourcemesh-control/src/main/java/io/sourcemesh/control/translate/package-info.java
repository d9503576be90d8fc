/**
 * Istio's translation of the model into Envoy v3 resources for one proxy (sidecar inbound/outbound,
 * gateway), with Istio's names and shapes so config dumps read like {@code istioctl proxy-config}.
 */
package io.sourcemesh.control.translate;
