/** kubectl's JSONPath templates, for {@code -o jsonpath=...}. */
package io.sourcemesh.api.jsonpath;
