package io.sourcemesh.control.envoyfilter;

/** An EnvoyFilter that was not applied: which one, which configPatches entry, and why. */
public record PatchFailure(String envoyFilter, int patchIndex, String reason) {
    @Override
    public String toString() {
        return "EnvoyFilter " + envoyFilter + " configPatches[" + patchIndex + "]: " + reason;
    }
}
