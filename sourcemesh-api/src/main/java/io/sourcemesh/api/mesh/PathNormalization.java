package io.sourcemesh.api.mesh;

/**
 * Istio's {@code meshConfig.pathNormalization.normalization}: how far every proxy's connection manager
 * normalizes a request's path before routes and authorization policies see it. DEFAULT is BASE.
 * MERGE_SLASHES adds merge_slashes; DECODE_AND_MERGE_SLASHES also decodes %2F and %5C
 * (path_with_escaped_slashes_action UNESCAPE_AND_FORWARD). NONE leaves the path as it came — then a
 * DENY policy on {@code /admin} does not see {@code /public/../admin}.
 */
public enum PathNormalization {
    DEFAULT, NONE, BASE, MERGE_SLASHES, DECODE_AND_MERGE_SLASHES;

    /** Istio's enum: its name, or its number as protojson also reads it; null when it is neither. */
    static PathNormalization parse(String text) {
        for (PathNormalization p : values()) {
            if (p.name().equals(text) || String.valueOf(p.ordinal()).equals(text)) {
                return p;
            }
        }
        return null;
    }
}
