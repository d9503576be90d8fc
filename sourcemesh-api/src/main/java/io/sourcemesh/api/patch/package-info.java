/**
 * The patches of {@code kubectl patch} (strategic merge, RFC 7386 merge, RFC 6902 JSON patch) and
 * {@code kubectl apply}'s three-way merge; results are validated like any other write.
 */
package io.sourcemesh.api.patch;
