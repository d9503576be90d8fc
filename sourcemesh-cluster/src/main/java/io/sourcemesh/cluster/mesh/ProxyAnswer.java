package io.sourcemesh.cluster.mesh;

/**
 * What one proxy said about the push that carried a piece of config: it ACKed the whole push
 * (listeners and clusters), NACKed it ({@code detail} is its error_detail, the proxy keeps its last
 * good config), or has not answered yet.
 */
public record ProxyAnswer(String proxy, State state, String detail) {

    public enum State { ACKED, NACKED, PENDING }

    static ProxyAnswer acked(String proxy) {
        return new ProxyAnswer(proxy, State.ACKED, "");
    }

    static ProxyAnswer pending(String proxy) {
        return new ProxyAnswer(proxy, State.PENDING, "");
    }
}
