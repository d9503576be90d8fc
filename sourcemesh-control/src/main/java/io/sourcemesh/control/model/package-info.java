/**
 * The mesh as the control plane sees it: an immutable {@link io.sourcemesh.control.model.MeshModel} built
 * from Kubernetes/Istio objects as JSON trees (exactly what an API server returns), and the
 * {@link io.sourcemesh.control.model.ProxyIdentity} of the proxy asking for config.
 */
package io.sourcemesh.control.model;
