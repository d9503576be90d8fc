/**
 * The mesh's certificate authority, as istiod's: the root it signs with (its own self-signed one, or a user's plug-in
 * {@code cacerts}) and the workload certificates it issues each proxy for its SPIFFE identity.
 */
package io.sourcemesh.control.ca;
