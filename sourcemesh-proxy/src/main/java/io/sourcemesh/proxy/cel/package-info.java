/** The CEL subset the proxy evaluates (Envoy's CEL access-log filter, as Istio's Telemetry writes it); no other dependencies. */
package io.sourcemesh.proxy.cel;
