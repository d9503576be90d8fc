/**
 * The CEL subset Istio's Telemetry access-log filters are written in: parsed by the API server at apply, evaluated by the
 * proxies as Envoy's CEL access-log filter. No dependencies.
 */
package io.sourcemesh.cel;
