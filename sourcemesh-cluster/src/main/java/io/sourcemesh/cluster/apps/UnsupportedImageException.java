package io.sourcemesh.cluster.apps;

/** A container the embedded runtime has no built-in program for; the pod cannot start. */
public final class UnsupportedImageException extends IllegalArgumentException {
    private final String image;

    UnsupportedImageException(String image) {
        super("image \"" + image + "\" is not supported by the embedded runtime: supported are *httpbin*"
                + " (built-in httpbin) and curlimages/curl or any container whose command is sleep");
        this.image = image;
    }

    public String image() {
        return image;
    }
}
