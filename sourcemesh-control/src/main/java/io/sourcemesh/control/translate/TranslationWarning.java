package io.sourcemesh.control.translate;

/**
 * Something of a resource the proxies' config does not carry out, and why; the rest of the config
 * still serves. {@code leftOut}: a part of the resource is left out whole (a Gateway server, a
 * route); otherwise a note about a setting that is not applied while the part itself serves.
 */
public record TranslationWarning(String resource, String message, boolean leftOut) {
    /** A part of {@code resource} left out. */
    public TranslationWarning(String resource, String message) {
        this(resource, message, true);
    }

    /** A setting of {@code resource} not applied; the part it belongs to still serves. */
    public static TranslationWarning note(String resource, String message) {
        return new TranslationWarning(resource, message, false);
    }

    @Override
    public String toString() {
        return resource + ": " + message;
    }
}
