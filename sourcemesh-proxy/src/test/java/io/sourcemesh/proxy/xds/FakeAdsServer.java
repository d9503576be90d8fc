package io.sourcemesh.proxy.xds;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.google.protobuf.Any;
import com.google.protobuf.Message;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A scripted ADS server: the test reads each request the client sends and writes each response. */
final class FakeAdsServer implements AutoCloseable {

    private final BlockingQueue<DiscoveryRequest> requests = new LinkedBlockingQueue<>();
    private final BlockingQueue<StreamObserver<DiscoveryResponse>> streams = new LinkedBlockingQueue<>();
    private final Server server;
    private StreamObserver<DiscoveryResponse> stream;

    FakeAdsServer() throws IOException {
        server = NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .addService(new AggregatedDiscoveryServiceGrpc.AggregatedDiscoveryServiceImplBase() {
                    @Override
                    public StreamObserver<DiscoveryRequest> streamAggregatedResources(StreamObserver<DiscoveryResponse> responses) {
                        streams.add(responses);
                        return new StreamObserver<>() {
                            @Override
                            public void onNext(DiscoveryRequest request) {
                                requests.add(request);
                            }

                            @Override
                            public void onError(Throwable t) {
                            }

                            @Override
                            public void onCompleted() {
                            }
                        };
                    }
                })
                .build()
                .start();
    }

    InetSocketAddress address() {
        return (InetSocketAddress) server.getListenSockets().getFirst();
    }

    /** Waits for the client's next stream and makes it the one responses go to. */
    void acceptStream() throws InterruptedException {
        stream = streams.poll(5, TimeUnit.SECONDS);
        assertNotNull(stream, "no ADS stream opened");
    }

    DiscoveryRequest next() throws InterruptedException {
        DiscoveryRequest request = requests.poll(5, TimeUnit.SECONDS);
        assertNotNull(request, "no request from the client");
        return request;
    }

    void assertQuiet(Duration period) throws InterruptedException {
        DiscoveryRequest request = requests.poll(period.toMillis(), TimeUnit.MILLISECONDS);
        assertNull(request, () -> "unexpected request " + request);
    }

    void respond(String typeUrl, String version, String nonce, Message... resources) {
        var response = DiscoveryResponse.newBuilder().setTypeUrl(typeUrl).setVersionInfo(version).setNonce(nonce);
        for (Message resource : resources) {
            response.addResources(Any.pack(resource));
        }
        respond(response.build());
    }

    void respond(DiscoveryResponse response) {
        stream.onNext(response);
    }

    /** Ends the current stream as a server going away would. */
    void breakStream() {
        stream.onError(Status.UNAVAILABLE.withDescription("going away").asRuntimeException());
    }

    @Override
    public void close() throws InterruptedException {
        server.shutdownNow();
        server.awaitTermination(5, TimeUnit.SECONDS);
    }
}
