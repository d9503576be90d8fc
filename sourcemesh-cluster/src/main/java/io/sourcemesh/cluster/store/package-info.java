/**
 * The cluster's API server store: transactional writes with kubectl's apply outcomes, resourceVersion and
 * generation as Kubernetes keeps them, a snapshot on disk, and ordered watches that controllers and the
 * control plane build on.
 */
package io.sourcemesh.cluster.store;
