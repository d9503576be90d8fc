/**
 * Istio's proxy settings as users write them: the mesh config in the {@code istio} ConfigMap and the
 * {@code proxy.istio.io/config} pod annotation, parsed strictly (what SourceMesh does not honour is refused).
 */
package io.sourcemesh.api.mesh;
