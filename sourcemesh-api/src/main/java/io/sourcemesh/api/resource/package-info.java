/**
 * API objects kept unstructured ({@link io.sourcemesh.api.resource.KubeObject} over a Jackson tree), the
 * kinds we serve and their kubectl names ({@link io.sourcemesh.api.resource.ResourceKind}), label selectors,
 * and strict validation against a compact schema of each kind, in the API server's words.
 */
package io.sourcemesh.api.resource;
