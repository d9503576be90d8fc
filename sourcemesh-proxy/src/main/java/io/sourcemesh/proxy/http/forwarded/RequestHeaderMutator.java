package io.sourcemesh.proxy.http.forwarded;

import io.netty.handler.codec.http.HttpHeaders;
import java.net.InetSocketAddress;

/** TEMPORARY stand-in until the xff branch lands. */
public final class RequestHeaderMutator {
    private final ForwardedForConfig config;

    private RequestHeaderMutator(ForwardedForConfig config) {
        this.config = config;
    }

    public static RequestHeaderMutator of(ForwardedForConfig config) {
        return new RequestHeaderMutator(config);
    }

    public Outcome mutate(HttpHeaders headers, InetSocketAddress directRemote, boolean downstreamTls) {
        if (config.useRemoteAddress() && !config.skipXffAppend()) {
            String ip = directRemote.getAddress().getHostAddress();
            String xff = headers.get("x-forwarded-for");
            headers.set("x-forwarded-for", xff == null ? ip : xff + "," + ip);
        }
        return new Outcome(directRemote, false, config.useRemoteAddress());
    }
}
