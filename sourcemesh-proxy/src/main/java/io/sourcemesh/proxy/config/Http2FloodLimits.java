package io.sourcemesh.proxy.config;

/**
 * http2_protocol_options' flood limits, with Envoy's defaults (source/common/http/http2/protocol_constraints.cc, the
 * options' validation in http_utility / protocol.proto): frames queued for the client but not yet written
 * ({@code max_outbound_frames}, 10000), of which PING and SETTINGS acknowledgements and RST_STREAMs
 * ({@code max_outbound_control_frames}, 1000); consecutive DATA or HEADERS frames without payload or END_STREAM
 * ({@code max_consecutive_inbound_frames_with_empty_payload}, 1); PRIORITY frames per opened stream
 * ({@code max_inbound_priority_frames_per_stream}, 100); WINDOW_UPDATEs per DATA frame sent
 * ({@code max_inbound_window_update_frames_per_data_frame_sent}, 10). A connection over any of them is terminated.
 */
public record Http2FloodLimits(int maxOutboundFrames, int maxOutboundControlFrames, int maxConsecutiveInboundFramesWithEmptyPayload,
        int maxInboundPriorityFramesPerStream, int maxInboundWindowUpdateFramesPerDataFrameSent) {

    private static final Http2FloodLimits DEFAULTS = new Http2FloodLimits(10_000, 1_000, 1, 100, 10);

    public Http2FloodLimits {
        // protocol.proto: uint32 values, the outbound limits and the WINDOW_UPDATE ratio at least 1
        if (maxOutboundFrames < 1 || maxOutboundControlFrames < 1 || maxInboundWindowUpdateFramesPerDataFrameSent < 1) {
            throw new IllegalArgumentException("max_outbound_frames, max_outbound_control_frames and "
                    + "max_inbound_window_update_frames_per_data_frame_sent must be at least 1");
        }
        if (maxConsecutiveInboundFramesWithEmptyPayload < 0 || maxInboundPriorityFramesPerStream < 0) {
            throw new IllegalArgumentException("flood limits must not be negative");
        }
    }

    public static Http2FloodLimits defaults() {
        return DEFAULTS;
    }
}
