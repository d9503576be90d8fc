/**
 * Manifests in and out: {@link io.sourcemesh.api.codec.ManifestReader} reads multi-document YAML or JSON
 * all-or-nothing with {@code file:line:col} problems; {@link io.sourcemesh.api.codec.ManifestWriter} prints
 * YAML and JSON exactly as kubectl does.
 */
package io.sourcemesh.api.codec;
