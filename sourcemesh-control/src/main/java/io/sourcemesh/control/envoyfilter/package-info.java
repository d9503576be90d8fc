/**
 * EnvoyFilter configPatches applied to translated resources with Istio's matching, ordering and protobuf
 * merge semantics; each EnvoyFilter applies whole or not at all.
 */
package io.sourcemesh.control.envoyfilter;
