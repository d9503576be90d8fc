package io.sourcemesh.control.translate;

/** Something left out of a proxy's config, and why; the rest of the config still serves. */
public record TranslationWarning(String resource, String message) {
    @Override
    public String toString() {
        return resource + ": " + message;
    }
}
