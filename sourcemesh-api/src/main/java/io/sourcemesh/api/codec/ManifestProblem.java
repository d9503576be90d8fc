package io.sourcemesh.api.codec;

/** One problem in a manifest, where kubectl users and editors expect it: {@code sleep.yaml:12:7: message}. */
public record ManifestProblem(String source, int line, int column, String message) {

    @Override
    public String toString() {
        return line > 0 ? source + ":" + line + ":" + column + ": " + message : source + ": " + message;
    }
}
