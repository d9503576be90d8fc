package io.sourcemesh.trace;

/**
 * The HTTP connection manager settings that decide which client address a proxy believes and passes
 * on, as read from a config dump; {@code where} is the path they were read from.
 */
public record Hcm(boolean useRemoteAddress, int xffNumTrustedHops, boolean skipXffAppend, String where) {

    /** Istio's sidecar defaults, when no dump says otherwise. */
    static Hcm istioSidecarDefault(String why) {
        return new Hcm(false, 0, false, why);
    }

    static Hcm istioGatewayDefault(String why) {
        return new Hcm(true, 0, false, why);
    }

    String describe() {
        return "use_remote_address: " + useRemoteAddress + ", xff_num_trusted_hops: " + xffNumTrustedHops
                + (skipXffAppend ? ", skip_xff_append: true" : "") + " (" + where + ")";
    }
}
