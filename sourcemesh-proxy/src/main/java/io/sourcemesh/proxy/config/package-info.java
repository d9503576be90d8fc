/**
 * The one seam between Envoy's v3 protos and the proxy. {@link io.sourcemesh.proxy.config.BootstrapLoader}
 * reads a bootstrap (YAML or JSON) into the {@code Bootstrap} proto; {@link io.sourcemesh.proxy.config.ConfigTranslator}
 * turns it, or resources pushed over ADS, into the immutable {@link io.sourcemesh.proxy.config.ProxyConfig}
 * the hot path runs on; a bootstrap's {@code dynamic_resources} become its {@link io.sourcemesh.proxy.config.AdsConfig}. Every proto message is checked against an allow-list of the fields we
 * honour, so a field we would otherwise ignore is an error naming its path
 * ({@code listeners[0].filter_chains[1].filters[0].typed_config.codec_type: HTTP3 is not supported}).
 */
package io.sourcemesh.proxy.config;
