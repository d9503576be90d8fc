package io.sourcemesh.proxy.accesslog;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import static io.sourcemesh.proxy.accesslog.Streams.addr;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SubstitutionFormatTest {

    private static String text(String format, StreamInfo s) {
        return SubstitutionFormat.parse(format).format(s);
    }

    /** Every field set: the httpbin hop plus the rarer details. */
    private static StreamInfo full() {
        return Streams.httpbinInbound()
                .connectionTerminationDetails("rbac_access_denied")
                .downstreamLocalCloseReason(LocalCloseReasons.TCP_SESSION_IDLE_TIMEOUT)
                .upstreamTransportFailureReason("TLS_error:_268435581")
                .responseTrailers(new DefaultHttpHeaders().add("grpc-status", "0"))
                .addResponseFlag(ResponseFlag.UPSTREAM_REMOTE_RESET)
                .attemptCount(2);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '#', nullValues = "NULL", textBlock = """
            %START_TIME%                                    # 2024-01-01T12:34:56.789Z                            # 2024-01-01T12:34:56.789Z
            %PROTOCOL%                                      # HTTP/1.1                                            # -
            %REQ(:METHOD)%                                  # GET                                                 # -
            %REQ(:PATH)%                                    # /ip                                                 # -
            %REQ(:AUTHORITY)%                               # httpbin:8000                                        # -
            %REQ(:SCHEME)%                                  # http                                                # -
            %REQ(USER-AGENT)%                               # curl/8.5.0                                          # -
            %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%              # /ip                                                 # -
            %REQUEST_HEADER(X-REQUEST-ID)%                  # 9c1b6a51-3f2e-4d7a-8a5e-0c2b7d1f4e21                # -
            %RESP(CONTENT-TYPE)%                            # application/json                                    # -
            %RESP(:STATUS)%                                 # 200                                                 # -
            %RESPONSE_HEADER(X-ENVOY-UPSTREAM-SERVICE-TIME)% # 1                                                  # -
            %TRAILER(GRPC-STATUS)%                          # 0                                                   # -
            %RESPONSE_TRAILER(GRPC-STATUS)%                 # 0                                                   # -
            %RESPONSE_CODE%                                 # 200                                                 # 0
            %RESPONSE_FLAGS%                                # UR                                                  # -
            %RESPONSE_CODE_DETAILS%                         # via_upstream                                        # -
            %CONNECTION_TERMINATION_DETAILS%                # rbac_access_denied                                  # -
            %DOWNSTREAM_LOCAL_CLOSE_REASON%                 # tcp_session_idle_timeout                            # -
            %UPSTREAM_TRANSPORT_FAILURE_REASON%             # TLS_error:_268435581                                # -
            %BYTES_RECEIVED%                                # 0                                                   # 0
            %BYTES_SENT%                                    # 33                                                  # 0
            %DURATION%                                      # 2                                                   # -
            %REQUEST_DURATION%                              # -                                                   # -
            %RESPONSE_DURATION%                             # -                                                   # -
            %UPSTREAM_HOST%                                 # 172.17.0.9:80                                       # -
            %UPSTREAM_CLUSTER%                              # inbound|8000||                                      # -
            %UPSTREAM_CLUSTER_RAW%                          # inbound|8000||                                      # -
            %UPSTREAM_LOCAL_ADDRESS%                        # 127.0.0.6:42169                                     # -
            %UPSTREAM_LOCAL_ADDRESS_WITHOUT_PORT%           # 127.0.0.6                                           # -
            %UPSTREAM_LOCAL_PORT%                           # 42169                                               # -
            %UPSTREAM_REMOTE_ADDRESS%                       # 172.17.0.9:80                                       # -
            %UPSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%          # 172.17.0.9                                          # -
            %UPSTREAM_REMOTE_PORT%                          # 80                                                  # -
            %DOWNSTREAM_LOCAL_ADDRESS%                      # 172.17.0.9:80                                       # -
            %DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT%         # 172.17.0.9                                          # -
            %DOWNSTREAM_LOCAL_PORT%                         # 80                                                  # -
            %DOWNSTREAM_REMOTE_ADDRESS%                     # 172.17.0.8:56160                                    # -
            %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%        # 172.17.0.8                                          # -
            %DOWNSTREAM_REMOTE_PORT%                        # 56160                                               # -
            %DOWNSTREAM_DIRECT_REMOTE_ADDRESS%              # 172.17.0.8:56160                                    # -
            %DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT% # 172.17.0.8                                          # -
            %DOWNSTREAM_DIRECT_REMOTE_PORT%                 # 56160                                               # -
            %REQUESTED_SERVER_NAME%                         # outbound_.8000_._.httpbin.default.svc.cluster.local # -
            %ROUTE_NAME%                                    # default                                             # -
            %UPSTREAM_REQUEST_ATTEMPT_COUNT%                # 2                                                   # 0
            """)
    void everyCommandSetAndUnset(String format, String whenSet, String whenUnset) {
        assertEquals(whenSet, text(format, full()));
        assertEquals(whenUnset, text(format, Streams.empty()));
    }

    @Test
    void hostnameIsTheSystemHostname() {
        String h = text("%HOSTNAME%", Streams.empty());
        assertTrue(!h.isEmpty() && !h.contains(" "), h);
    }

    @Test
    void emptyParenthesesAreAcceptedAsNoParameters() {
        assertEquals("200", text("%RESPONSE_CODE()%", full()));
    }

    @Test
    void literalsAndPercentEscape() {
        assertEquals("", text("", Streams.empty()));
        assertEquals("plain text", text("plain text", Streams.empty()));
        assertEquals("100% GET %", text("100%% %REQ(:METHOD)% %%", full()));
        assertEquals("%RESPONSE_CODE%", text("%%RESPONSE_CODE%%", full()));
    }

    @Test
    void mixedLine() {
        assertEquals("[2024-01-01T12:34:56.789Z] \"GET /ip HTTP/1.1\" 200 -\n",
                text("[%START_TIME%] \"%REQ(:METHOD)% %REQ(:PATH)% %PROTOCOL%\" %RESPONSE_CODE% %REQ(X-FORWARDED-FOR)%\n",
                        Streams.httpbinInbound()));
    }

    @Test
    void headerNamesAreCaseInsensitiveAndFirstValueWins() {
        StreamInfo s = Streams.empty().requestHeaders(new DefaultHttpHeaders()
                .add("x-forwarded-for", "203.0.113.1").add("X-Forwarded-For", "10.0.0.1"));
        assertEquals("203.0.113.1", text("%REQ(x-forwarded-for)%", s));
        assertEquals("203.0.113.1", text("%REQ(X-Forwarded-For)%", s));
    }

    @Test
    void alternativeHeaderAndEmptyValue() {
        StreamInfo s = Streams.empty().requestPath("/rewritten")
                .requestHeaders(new DefaultHttpHeaders().add("x-envoy-original-path", "/orig").add("x-empty", ""));
        assertEquals("/orig", text("%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%", s));
        assertEquals("/rewritten", text("%REQ(X-MISSING?:PATH)%", s));
        assertEquals("", text("%REQ(X-EMPTY)%", s)); // present but empty is not unset
    }

    @Test
    void pseudoHeadersFallBackToHeaderMap() {
        // An HTTP/2 runtime may keep pseudo headers in the map instead of the StreamInfo fields.
        StreamInfo s = Streams.empty().requestHeaders(DefaultHttpHeadersFactory.headersFactory().withValidation(false).newHeaders()
                .add(":method", "POST").add(":path", "/p").add(":authority", "a.example").add(":scheme", "https")
                .add("host", "ignored"));
        assertEquals("POST /p a.example https", text("%REQ(:METHOD)% %REQ(:PATH)% %REQ(:AUTHORITY)% %REQ(:SCHEME)%", s));
    }

    @Test
    void upstreamServiceTimeFallsBackToRecordedValue() {
        StreamInfo s = Streams.empty().upstreamServiceTimeMillis(7);
        assertEquals("7", text("%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%", s));
        s.responseHeaders(new DefaultHttpHeaders().add("x-envoy-upstream-service-time", "9"));
        assertEquals("9", text("%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%", s));
    }

    @Test
    void truncation() {
        StreamInfo s = full();
        assertEquals("curl", text("%REQ(USER-AGENT):4%", s));
        assertEquals("curl/8.5.0", text("%REQ(USER-AGENT):40%", s));
        assertEquals("", text("%REQ(USER-AGENT):0%", s));
        assertEquals("-", text("%REQ(X-MISSING):1%", s));
        assertEquals("curl", text("%REQ(X-MISSING?USER-AGENT):4%", s));
        assertEquals("20", text("%RESP(:STATUS):2%", s));
    }

    @Test
    void responseFlagsPrintInEnvoyOrderRegardlessOfInsertion() {
        StreamInfo s = Streams.empty()
                .addResponseFlag(ResponseFlag.UPSTREAM_RETRY_LIMIT_EXCEEDED)
                .addResponseFlag(ResponseFlag.NO_HEALTHY_UPSTREAM)
                .addResponseFlag(ResponseFlag.UPSTREAM_CONNECTION_FAILURE);
        assertEquals("UH,UF,URX", text("%RESPONSE_FLAGS%", s));
    }

    @Test
    void ipv6AddressesPrintLikeEnvoy() {
        StreamInfo s = Streams.empty()
                .downstreamRemoteAddress(addr("::1", 80))
                .downstreamLocalAddress(addr("2001:0db8:0000:0000:0000:0000:0000:0001", 15006))
                .upstreamLocalAddress(addr("::6", 0));
        assertEquals("[::1]:80", text("%DOWNSTREAM_REMOTE_ADDRESS%", s));
        assertEquals("::1", text("%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%", s));
        assertEquals("[2001:db8::1]:15006", text("%DOWNSTREAM_LOCAL_ADDRESS%", s));
        assertEquals("15006", text("%DOWNSTREAM_LOCAL_PORT%", s));
        assertEquals("[::6]:0", text("%UPSTREAM_LOCAL_ADDRESS%", s));
    }

    /** An IPv4-mapped IPv6 client prints as inet_ntop does, as Envoy's Ipv6Instance::addressAsString. */
    @Test
    void ipv4MappedAddressesPrintInEnvoysForm() throws Exception {
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xff;
        mapped[11] = (byte) 0xff;
        mapped[12] = 6;
        mapped[13] = 6;
        mapped[14] = 6;
        mapped[15] = 6;
        StreamInfo s = Streams.empty().downstreamRemoteAddress(
                new java.net.InetSocketAddress(java.net.Inet6Address.getByAddress(null, mapped, -1), 0));
        assertEquals("[::ffff:6.6.6.6]:0", text("%DOWNSTREAM_REMOTE_ADDRESS%", s));
        assertEquals("::ffff:6.6.6.6", text("%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%", s));
    }

    /** Envoy's access_log usage doc examples for *_ADDRESS_WITHOUT_PORT(MASK_PREFIX_LEN) (Envoy 1.38). */
    @Test
    void addressMaskArgument() {
        StreamInfo s = Streams.empty()
                .downstreamRemoteAddress(addr("10.1.10.23", 5000))
                .downstreamDirectRemoteAddress(addr("2001:db8:1234:5678:9abc:def0:1234:5678", 5000))
                .downstreamLocalAddress(addr("10.1.10.23", 80))
                .upstreamLocalAddress(addr("127.0.0.6", 1))
                .upstreamHost(addr("172.17.0.9", 80));
        assertEquals("10.1.0.0/16", text("%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT(16)%", s));
        assertEquals("10.1.10.0/24", text("%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT(24)%", s));
        assertEquals("10.1.10.23", text("%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%", s));
        assertEquals("2001:db8:1234:5678::/64", text("%DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT(64)%", s));
        assertEquals("10.1.10.23/32", text("%DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT(32)%", s));
        assertEquals("0.0.0.0/0", text("%UPSTREAM_LOCAL_ADDRESS_WITHOUT_PORT(0)%", s));
        assertEquals("172.17.0.0/16", text("%UPSTREAM_REMOTE_ADDRESS_WITHOUT_PORT(16)%", s));
        assertEquals("-", text("%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT(33)%", s), "longer than an IPv4 address");
        assertEquals("-", text("%UPSTREAM_LOCAL_ADDRESS_WITHOUT_PORT(8)%", Streams.empty()));
        for (String bad : java.util.List.of("%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT(129)%", "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT(-1)%",
                "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT(x)%", "%DOWNSTREAM_REMOTE_PORT(8)%")) {
            assertThrows(IllegalArgumentException.class, () -> SubstitutionFormat.parse(bad), bad);
        }
    }

    @Test
    void durationIsUnsetUntilTheStreamEnds() {
        StreamInfo s = Streams.empty();
        assertEquals("-", text("%DURATION%", s));
        s.endAt(Streams.START_NANOS + 1_234_000_000L);
        assertEquals("1234", text("%DURATION%", s));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '#', textBlock = """
            %START_TIME(%Y/%m/%dT%H:%M:%S%z %s)%  # 2024/01/01T12:34:56+0000 1704112496
            %START_TIME(%s.%3f)%                  # 1704112496.789
            %START_TIME(%s.%6f)%                  # 1704112496.789000
            %START_TIME(%s.%9f)%                  # 1704112496.789000000
            %START_TIME(%f)%                      # 789000000
            %START_TIME(%1f|%2f)%                 # 7|78
            %START_TIME(%Y-%m-%dT%H:%M:%E3SZ)%    # 2024-01-01T12:34:56.789Z
            %START_TIME(%E6S)%                    # 56.789000
            %START_TIME(%a %A %b %B %j %u %w)%    # Mon Monday Jan January 001 1 1
            %START_TIME(%F %T %D %R %y %C %Z)%    # 2024-01-01 12:34:56 01/01/24 12:34 24 20 UTC
            %START_TIME(%I%p %e %Ez %%)%          # 12PM  1 +00:00 %
            %START_TIME()%                        # 2024-01-01T12:34:56.789Z
            """)
    void startTimeFormats(String format, String expected) {
        assertEquals(expected, text(format, Streams.empty()));
    }

    @Test
    void startTimeCalendarAcrossYears() {
        for (String iso : new String[] {"1970-01-01T00:00:00.000Z", "2000-02-29T23:59:59.999Z", "2023-12-31T00:00:00.001Z",
                "2024-12-31T08:09:10.100Z", "2100-03-01T00:00:00.000Z", "1969-12-31T23:59:59.500Z"}) {
            StreamInfo s = StreamInfo.startedAt(Instant.parse(iso).toEpochMilli(), 0);
            assertEquals(iso, text("%START_TIME%", s));
            java.time.ZonedDateTime z = Instant.parse(iso).atZone(java.time.ZoneOffset.UTC);
            assertEquals(String.format("%03d %d", z.getDayOfYear(), z.getDayOfWeek().getValue()),
                    text("%START_TIME(%j %u)%", s), iso);
        }
    }

    @Test
    void unknownCommandIsRejectedByName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SubstitutionFormat.parse("a %FOO% b"));
        assertEquals("unsupported access log command: %FOO%", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> SubstitutionFormat.parse("%UPSTREAM_SERVICE_TIME%"));
        assertEquals("unsupported access log command: %UPSTREAM_SERVICE_TIME%", e.getMessage());
    }

    @Test
    void dynamicMetadataIsReadFromTheStreamsOneStore() {
        String hint = "%DYNAMIC_METADATA(envoy.common:access_log_hint)%";
        StreamInfo s = StreamInfo.startedAt(0, 0);
        assertEquals("-", text(hint, s), "unset until an RBAC LOG filter runs");
        assertEquals("true", text(hint, s.accessLogHint(true)));
        assertEquals("false", text(hint, s.accessLogHint(false)));
        StringBuilder json = new StringBuilder();
        SubstitutionFormat.parse(hint).appendJson(s, json);
        assertEquals("false", json.toString(), "a bool stays a JSON bool");

        ObjectNode payload = JsonNodeFactory.instance.objectNode();
        payload.putObject("payload").put("sub", "alice\"x").put("exp", 17).putArray("scope").add("read").add("write");
        s.dynamicMetadata("envoy.filters.http.jwt_authn", payload);
        assertEquals("alice\"x", text("%DYNAMIC_METADATA(envoy.filters.http.jwt_authn:payload:sub)%", s), "a string as it is");
        assertEquals("ali", text("%DYNAMIC_METADATA(envoy.filters.http.jwt_authn:payload:sub):3%", s));
        assertEquals("[\"read\",\"write\"]", text("%DYNAMIC_METADATA(envoy.filters.http.jwt_authn:payload:scope)%", s));
        assertEquals("-", text("%DYNAMIC_METADATA(envoy.filters.http.jwt_authn:payload:nope)%", s));
        assertEquals("-", text("%DYNAMIC_METADATA(envoy.filters.http.jwt_authn:payload:sub:deeper)%", s));
        assertEquals(payload.toString(), text("%DYNAMIC_METADATA(envoy.filters.http.jwt_authn)%", s), "the whole struct");
        assertEquals("{\"access_log_hint\":false}", text("%DYNAMIC_METADATA(envoy.common)%", s), "one store: both namespaces");
        for (String[] c : new String[][] {{"payload:sub", "\"alice\\\"x\""}, {"payload:exp", "17"},
                {"payload:scope", "[\"read\",\"write\"]"}, {"payload:nope", "null"}}) {
            StringBuilder out = new StringBuilder();
            SubstitutionFormat.parse("%DYNAMIC_METADATA(envoy.filters.http.jwt_authn:" + c[0] + ")%").appendJson(s, out);
            assertEquals(c[1], out.toString(), c[0] + " keeps its JSON type");
        }
        StringBuilder cut = new StringBuilder();
        SubstitutionFormat.parse("%DYNAMIC_METADATA(envoy.filters.http.jwt_authn:payload:scope):4%").appendJson(s, cut);
        assertEquals("\"[\\\"re\"", cut.toString(), "a truncated list is a string, as Envoy's");

        // A later set merges into the namespace's struct; restart() forgets it all.
        s.dynamicMetadata("envoy.filters.http.jwt_authn", JsonNodeFactory.instance.objectNode().put("other", "x"));
        assertEquals("alice\"x", text("%DYNAMIC_METADATA(envoy.filters.http.jwt_authn:payload:sub)%", s));
        assertEquals("x", text("%DYNAMIC_METADATA(envoy.filters.http.jwt_authn:other)%", s));
        s.restart(0);
        assertEquals("-", text("%DYNAMIC_METADATA(envoy.filters.http.jwt_authn)%", s));
        assertEquals("-", text(hint, s));

        for (String other : new String[] {"%DYNAMIC_METADATA(envoy.filters.http.rbac:shadow_engine_result)%",
                "%DYNAMIC_METADATA(istio.mixer:status)%"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SubstitutionFormat.parse(other), other);
            assertTrue(e.getMessage().contains("no filter of this proxy sets dynamic metadata namespace"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> SubstitutionFormat.parse("%DYNAMIC_METADATA%"));
    }

    @Test
    void malformedFormatsAreRejected() {
        for (String bad : new String[] {"%", "50% off", "%protocol%", "%REQ(:METHOD)", "%PROTOCOL(x)%", "%REQ%",
                "%REQ()%", "%REQ(A?B?C)%", "%RESP(?B)%", "%BYTES_SENT:x%",
                // Envoy allows a length only on the header commands, and no newline in START_TIME.
                "%DOWNSTREAM_REMOTE_ADDRESS:6%", "%START_TIME:4%", "%RESPONSE_CODE:1%", "%START_TIME(%Y%n)%",
                "%START_TIME(%En)%"}) {
            assertThrows(IllegalArgumentException.class, () -> SubstitutionFormat.parse(bad), bad);
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SubstitutionFormat.parse("ab %x"));
        assertTrue(e.getMessage().contains("position 3"), e.getMessage());
    }

    @Test
    void textIsNotEscaped() {
        StreamInfo s = Streams.empty().requestHeaders(new DefaultHttpHeaders().add("x-q", "a\"b\\c"));
        assertEquals("a\"b\\c", text("%REQ(X-Q)%", s));
    }
}
