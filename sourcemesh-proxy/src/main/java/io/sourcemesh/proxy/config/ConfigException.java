package io.sourcemesh.proxy.config;

/**
 * A configuration that cannot be loaded, naming the field by its path in the bootstrap, e.g.
 * {@code listeners[0].filter_chains[1].filters[0].typed_config.codec_type: HTTP3 is not supported}.
 */
public final class ConfigException extends RuntimeException {
    private final String fieldPath;

    public ConfigException(String fieldPath, String problem) {
        super(fieldPath.isEmpty() ? problem : fieldPath + ": " + problem);
        this.fieldPath = fieldPath;
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
        this.fieldPath = "";
    }

    public String fieldPath() {
        return fieldPath;
    }
}
