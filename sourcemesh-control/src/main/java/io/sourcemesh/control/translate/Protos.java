package io.sourcemesh.control.translate;

import com.google.protobuf.Any;
import com.google.protobuf.BoolValue;
import com.google.protobuf.Duration;
import com.google.protobuf.Message;
import com.google.protobuf.UInt32Value;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.AggregatedConfigSource;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.ListenerFilter;

/** Shorthands for the proto pieces every builder needs. */
final class Protos {
    private Protos() {}

    static Address address(String ip, int port) {
        return Address.newBuilder()
                .setSocketAddress(SocketAddress.newBuilder().setAddress(ip).setPortValue(port))
                .build();
    }

    static SocketAddress socket(String ip, int port) {
        return SocketAddress.newBuilder().setAddress(ip).setPortValue(port).build();
    }

    static Duration seconds(long s) {
        return Duration.newBuilder().setSeconds(s).build();
    }

    static BoolValue bool(boolean b) {
        return BoolValue.of(b);
    }

    static UInt32Value uint(int v) {
        return UInt32Value.of(v);
    }

    static Filter networkFilter(String name, Message config) {
        return Filter.newBuilder().setName(name).setTypedConfig(Any.pack(config)).build();
    }

    static ListenerFilter listenerFilter(String name, Message config) {
        return ListenerFilter.newBuilder().setName(name).setTypedConfig(Any.pack(config)).build();
    }

    /** RDS over the ADS stream, as Istio configures every dynamic route config. */
    static ConfigSource ads() {
        return ConfigSource.newBuilder()
                .setAds(AggregatedConfigSource.getDefaultInstance())
                .setInitialFetchTimeout(seconds(0))
                .setResourceApiVersion(ApiVersion.V3)
                .build();
    }
}
