package io.sourcemesh.api.resource;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.sourcemesh.api.support.SupportCheck;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A DestinationRule's consistentHash refused at apply as the API server (the CRD's oneOf groups,
 * manifests/charts/base/files/crd-all.gen.yaml) and istiod's validateLoadBalancer (pkg/config/validation/validation.go,
 * its messages) refuse it, at the top level, per port and per subset; and Istio's warning about minimumRingSize.
 */
class DestinationRuleRulesTest {
    private static final YAMLMapper YAML = new YAMLMapper();

    private static String rule(String trafficPolicy) {
        return """
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: sticky, namespace: default}
                spec:
                  host: app
                  trafficPolicy: %s
                """.formatted(trafficPolicy);
    }

    private static List<String> errors(String trafficPolicy) throws Exception {
        return Validator.validate(YAML.readTree(rule(trafficPolicy))).stream().map(FieldError::message).toList();
    }

    private static final String CH = "spec.trafficPolicy.loadBalancer.consistentHash";

    @Test
    void eachHashKeyAloneWithARingPasses() throws Exception {
        for (String key : List.of("httpHeaderName: x-user", "useSourceIp: true", "httpQueryParameterName: user",
                "httpCookie: {name: user, ttl: 3600s, path: /, attributes: [{name: Secure}, {name: SameSite, value: Lax}]}")) {
            assertEquals(List.of(), errors("{loadBalancer: {consistentHash: {" + key + ", ringHash: {minimumRingSize: 64}}}}"), key);
        }
        assertEquals(List.of(), errors("{loadBalancer: {consistentHash: {useSourceIp: true, maglev: {tableSize: 65537}}}}"));
    }

    @Test
    void twoHashKeysOrTwoAlgorithmsAreRefused() throws Exception {
        assertEquals(List.of(CH + ": Invalid value: \"object\": must validate one and only one schema (oneOf): httpHeaderName, "
                + "httpCookie are set; only one of httpHeaderName, httpCookie, useSourceIp, httpQueryParameterName may be"),
                errors("{loadBalancer: {consistentHash: {httpHeaderName: x-user, httpCookie: {name: user}}}}"));
        assertEquals(List.of("spec.subsets[0].trafficPolicy.portLevelSettings[0].loadBalancer.consistentHash: Invalid value: "
                + "\"object\": must validate one and only one schema (oneOf): ringHash, maglev are set; only one of ringHash, "
                + "maglev may be"), Validator.validate(YAML.readTree("""
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: sticky, namespace: default}
                spec:
                  host: app
                  subsets:
                  - name: v1
                    trafficPolicy:
                      portLevelSettings:
                      - port: {number: 80}
                        loadBalancer: {consistentHash: {useSourceIp: true, ringHash: {}, maglev: {tableSize: 7}}}
                """)).stream().map(FieldError::message).toList());
    }

    @Test
    void istiosLoadBalancerChecks() throws Exception {
        assertEquals(List.of(CH + ".httpCookie.name: Invalid value: name required for HttpCookie"),
                errors("{loadBalancer: {consistentHash: {httpCookie: {name: \"\"}}}}"));
        assertEquals(List.of(CH + ".httpCookie.name: Required value"), errors("{loadBalancer: {consistentHash: {httpCookie: {}}}}"),
                "the CRD requires a name");
        assertEquals(List.of(CH + ".httpCookie.attributes[0].name: Invalid value: cookie attribute name cannot be empty",
                CH + ".httpCookie.attributes[2].name: Invalid value: duplicate cookie attribute name: Secure"),
                errors("{loadBalancer: {consistentHash: {httpCookie: {name: u, attributes: [{name: \"\"}, {name: Secure}, "
                        + "{name: Secure}]}}}}"));
        assertEquals(List.of(CH + ".httpCookie.ttl: Invalid value: \"soon\": not a duration (such as 3600s, 30m or 0s)"),
                errors("{loadBalancer: {consistentHash: {httpCookie: {name: u, ttl: soon}}}}"));
        assertEquals(List.of(CH + ".minimumRingSize: Invalid value: only one of MinimumRingSize or Maglev/Ringhash can be specified"),
                errors("{loadBalancer: {consistentHash: {useSourceIp: true, minimumRingSize: 64, ringHash: {minimumRingSize: 64}}}}"));
        assertEquals(List.of(CH + ".maglev.tableSize: Invalid value: tableSize must be set for maglev",
                CH + ".maglev.tableSize: Invalid value: tableSize must be a prime number for maglev"),
                errors("{loadBalancer: {consistentHash: {useSourceIp: true, maglev: {}}}}"));
        assertEquals(List.of(CH + ".maglev.tableSize: Invalid value: tableSize must be less than 5000011 for maglev"),
                errors("{loadBalancer: {consistentHash: {useSourceIp: true, maglev: {tableSize: 5000077}}}}"));
        assertEquals(List.of(CH + ".maglev.tableSize: Invalid value: tableSize must be a prime number for maglev"),
                errors("{loadBalancer: {consistentHash: {useSourceIp: true, maglev: {tableSize: 65536}}}}"));
        assertEquals(List.of(CH + ".ringHash.minimumRingSize: Invalid value: -1: must be greater than or equal to 0"),
                errors("{loadBalancer: {consistentHash: {useSourceIp: true, ringHash: {minimumRingSize: -1}}}}"));
    }

    @Test
    void theDeprecatedMinimumRingSizeIsIstiosWarning() throws Exception {
        SupportCheck.Findings f = SupportCheck.check(YAML.readTree(rule(
                "{loadBalancer: {consistentHash: {useSourceIp: true, minimumRingSize: 64}}}")));
        assertEquals(List.of(CH + ".minimumRingSize: consistent hash MinimumRingSize is deprecated, use ConsistentHashLB's "
                + "RingHash configuration instead"), f.validationWarnings());
        assertEquals(List.of(), f.notImplemented());
        assertEquals(List.of(), SupportCheck.check(YAML.readTree(rule(
                "{loadBalancer: {consistentHash: {useSourceIp: true, ringHash: {minimumRingSize: 64}}}}"))).validationWarnings());
    }

    /**
     * Istio's validateLoadBalancer on warmup (a duration of at least 1ms, minimumPercent at most 100, aggression above
     * 0) and the CRD's (duration required, minimumPercent at least 0), at every policy's path.
     */
    @Test
    void warmupAsIstioValidatesIt() throws Exception {
        String lb = "spec.trafficPolicy.loadBalancer";
        assertEquals(List.of(), errors("{loadBalancer: {simple: ROUND_ROBIN, warmup: {duration: 30s, minimumPercent: 0, "
                + "aggression: 0.5}}}"));
        assertEquals(List.of(), errors("{loadBalancer: {warmupDurationSecs: 10s}}"));
        assertEquals(List.of(lb + ".warmup.duration: Required value"), errors("{loadBalancer: {warmup: {aggression: 2}}}"));
        assertEquals(List.of(lb + ".warmup.duration: Invalid value: \"soon\": not a duration (such as 2s, 0.5s or 250ms)"),
                errors("{loadBalancer: {warmup: {duration: soon}}}"));
        assertEquals(List.of(lb + ".warmup.minimumPercent: Invalid value: 100.5: minimumPercent value should be less than or "
                + "equal to 100"), errors("{loadBalancer: {warmup: {duration: 1s, minimumPercent: 100.5}}}"));
        assertEquals(List.of(lb + ".warmup.minimumPercent: Invalid value: -1.0: should be greater than or equal to 0"),
                errors("{loadBalancer: {warmup: {duration: 1s, minimumPercent: -1}}}"));
        assertEquals(List.of(lb + ".warmup.aggression: Invalid value: 0.0: aggression should be greater than 0"),
                errors("{loadBalancer: {warmup: {duration: 1s, aggression: 0}}}"));
        assertEquals(List.of("spec.trafficPolicy.portLevelSettings[0].loadBalancer.warmupDurationSecs: Invalid value: "
                + "\"later\": not a duration (such as 2s, 0.5s or 250ms)"),
                errors("{portLevelSettings: [{port: {number: 80}, loadBalancer: {warmupDurationSecs: later}}]}"));
        String subset = """
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: sticky, namespace: default}
                spec:
                  host: app
                  subsets: [{name: v1, trafficPolicy: {loadBalancer: {warmup: {duration: 1s, aggression: -2}}}}]
                """;
        assertEquals(List.of("spec.subsets[0].trafficPolicy.loadBalancer.warmup.aggression: Invalid value: -2.0: aggression "
                + "should be greater than 0"), Validator.validate(YAML.readTree(subset)).stream().map(FieldError::message).toList());
    }

    /** A warmup Istio's translation drops without a word is warned of at apply. */
    @Test
    void aWarmupWithoutEffectIsWarned() throws Exception {
        String lb = "spec.trafficPolicy.loadBalancer";
        assertEquals(List.of(lb + ".warmup: has no effect with RANDOM: only ROUND_ROBIN and LEAST_REQUEST warm endpoints up"),
                SupportCheck.check(YAML.readTree(rule("{loadBalancer: {simple: RANDOM, warmup: {duration: 1s}}}")))
                        .validationWarnings());
        assertEquals(List.of(lb + ".warmupDurationSecs: has no effect with consistentHash: only ROUND_ROBIN and "
                + "LEAST_REQUEST warm endpoints up"), SupportCheck.check(YAML.readTree(rule(
                        "{loadBalancer: {consistentHash: {useSourceIp: true}, warmupDurationSecs: 1s}}"))).validationWarnings());
        assertEquals(List.of(lb + ".warmupDurationSecs: has no effect: warmup is set"), SupportCheck.check(YAML.readTree(rule(
                "{loadBalancer: {simple: LEAST_CONN, warmupDurationSecs: 2s, warmup: {duration: 1s}}}"))).validationWarnings());
        SupportCheck.Findings ok = SupportCheck.check(YAML.readTree(rule("{loadBalancer: {simple: ROUND_ROBIN, warmup: "
                + "{duration: 1s}}}")));
        assertEquals(List.of(), ok.validationWarnings());
        assertEquals(List.of(), ok.notImplemented());
    }

    /**
     * Istio's validatePortTrafficPolicies (pkg/config/validation/validation.go): an entry needs a port and one of its
     * policy fields; a repeated port and a number beyond any port pass (the CRD types it as a uint32); the CRD's
     * maxItems 4096.
     */
    @Test
    void portLevelSettingsAsIstioValidatesThem() throws Exception {
        String p = "spec.trafficPolicy.portLevelSettings";
        assertEquals(List.of(), errors("{portLevelSettings: [{port: {number: 8080}, loadBalancer: {simple: RANDOM}},"
                + " {port: {number: 8080}, tls: {mode: DISABLE}}, {port: {number: 4294967295}, outlierDetection: {}}]}"));
        assertEquals(List.of(p + "[0].port: Required value: portTrafficPolicy must have valid port"),
                errors("{portLevelSettings: [{loadBalancer: {simple: RANDOM}}]}"));
        assertEquals(List.of(p + "[0]: Invalid value: port traffic policy must have at least one field"),
                errors("{portLevelSettings: [{port: {number: 8080}}]}"));
        assertEquals(List.of(p + "[0].port: Required value: portTrafficPolicy must have valid port",
                p + "[0]: Invalid value: port traffic policy must have at least one field"), errors("{portLevelSettings: [{}]}"));
        assertEquals(1, errors("{portLevelSettings: [{port: {number: 4294967296}, loadBalancer: {simple: RANDOM}}]}").size(),
                "above the CRD's uint32");
        assertEquals(List.of(), errors("{portLevelSettings: [{port: {number: 0}, loadBalancer: {simple: RANDOM}}]}"),
                "0 is in the CRD's range");
        StringBuilder many = new StringBuilder("{portLevelSettings: [");
        for (int i = 0; i < 4097; i++) {
            many.append(i == 0 ? "" : ", ").append("{port: {number: ").append(i + 1).append("}, loadBalancer: {simple: RANDOM}}");
        }
        assertEquals(List.of(p + ": Too many: 4097: must have at most 4096 items"), errors(many.append("]}").toString()));
        assertEquals(List.of("spec.subsets[0].trafficPolicy.portLevelSettings[0].port: Required value: portTrafficPolicy must "
                + "have valid port"), Validator.validate(YAML.readTree("""
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: sticky, namespace: default}
                spec:
                  host: app
                  subsets:
                  - name: v1
                    trafficPolicy:
                      portLevelSettings:
                      - connectionPool: {tcp: {maxConnections: 1}}
                """)).stream().map(FieldError::message).toList());
    }

    /** Istio's validateConnectionPool: tcpKeepalive's time and interval through agent.ValidateDuration (at least 1ms, whole ms). */
    @Test
    void tcpKeepaliveDurationsAreValidated() throws Exception {
        assertEquals(List.of(), errors("{connectionPool: {tcp: {tcpKeepalive: {probes: 3, time: 7200s, interval: 75s}}}}"));
        String ka = "spec.trafficPolicy.connectionPool.tcp.tcpKeepalive";
        assertEquals(List.of(ka + ".time: Invalid value: \"0.5ms\": duration must be greater than 1ms",
                ka + ".interval: Invalid value: \"1.5ms\": only durations to ms precision are supported"),
                errors("{connectionPool: {tcp: {tcpKeepalive: {time: 0.5ms, interval: 1.5ms}}}}"));
        assertEquals(List.of("spec.trafficPolicy.portLevelSettings[0].connectionPool.tcp.tcpKeepalive.time: Invalid value: "
                + "\"0s\": duration must be greater than 1ms"),
                errors("{portLevelSettings: [{port: {number: 80}, connectionPool: {tcp: {tcpKeepalive: {time: 0s}}}}]}"));
    }

    /** Istio's validateConnectionPool: http2KeepAlive's interval and timeout both required, each through ValidateDuration. */
    @Test
    void http2KeepAliveNeedsAnIntervalAndATimeoutOfAtLeastAMillisecond() throws Exception {
        assertEquals(List.of(), errors("{connectionPool: {http: {http2KeepAlive: {interval: 30s, timeout: 5s}}}}"));
        String ka = "spec.trafficPolicy.connectionPool.http.http2KeepAlive";
        assertEquals(List.of(ka + ".timeout: Required value: http2 keepalive timeout is required"),
                errors("{connectionPool: {http: {http2KeepAlive: {interval: 30s}}}}"));
        assertEquals(List.of(ka + ".interval: Required value: http2 keepalive interval is required",
                ka + ".timeout: Invalid value: \"0.5ms\": duration must be greater than 1ms"),
                errors("{connectionPool: {http: {http2KeepAlive: {timeout: 0.5ms}}}}"));
    }

    /** Istio's validateOutlierDetection: consecutiveLocalOriginFailures needs splitExternalLocalOriginErrors. */
    @Test
    void localOriginFailuresWithoutTheSplitAreRefused() throws Exception {
        assertEquals(List.of(), errors("{outlierDetection: {splitExternalLocalOriginErrors: true, consecutiveLocalOriginFailures: 3}}"));
        assertEquals(List.of(), errors("{outlierDetection: {consecutiveLocalOriginFailures: 0}}"));
        assertEquals(List.of("spec.trafficPolicy.outlierDetection.consecutiveLocalOriginFailures: Invalid value: outlier detection "
                + "consecutive local origin failures is specified, but split external local origin errors is set to false"),
                errors("{outlierDetection: {consecutiveLocalOriginFailures: 3}}"));
    }

    /** Istio's ValidateTLS (pkg/config/validation/agent/validation.go), its messages, wherever a policy has tls. */
    @Test
    void clientTlsIsRefusedAsIstiosValidateTls() throws Exception {
        assertEquals(List.of(), errors("{tls: {mode: SIMPLE, credentialName: ca, sni: a, subjectAltNames: [a]}}"));
        assertEquals(List.of(), errors("{tls: {mode: MUTUAL, credentialName: pair, sni: a, insecureSkipVerify: true}}"),
                "MUTUAL's credentialName also holds the key pair");
        assertEquals(List.of(), errors("{tls: {mode: DISABLE, insecureSkipVerify: true, subjectAltNames: [a]}}"),
                "only SIMPLE and MUTUAL are checked");
        assertEquals(List.of("spec.trafficPolicy.tls: Invalid value: cannot specify CaCertificates or CredentialName or "
                + "SubjectAltNames when InsecureSkipVerify is set true"),
                errors("{tls: {mode: SIMPLE, credentialName: ca, sni: a, insecureSkipVerify: true}}"));
        assertEquals(List.of("spec.trafficPolicy.portLevelSettings[0].tls: Invalid value: cannot specify CaCertificates or "
                + "SubjectAltNames when InsecureSkipVerify is set true"), errors("{portLevelSettings: [{port: {number: 80}, "
                + "tls: {mode: MUTUAL, credentialName: pair, sni: a, subjectAltNames: [a], insecureSkipVerify: true}}]}"));
        assertEquals(List.of("spec.trafficPolicy.tls: Invalid value: cannot specify client certificates or CA certificate or "
                + "CA CRL If credentialName is set", "spec.trafficPolicy.tls.caCrl: Forbidden: a file path in the proxy's pod, "
                + "and SourceMesh's pods have no volumes to read the CRL from; put it beside the CA in credentialName's Secret "
                + "(crl or ca.crl)"), errors("{tls: {mode: SIMPLE, credentialName: ca, sni: a, caCrl: /crl.pem}}"),
                "Istio's refusal, then SourceMesh's of the file");
        assertEquals(List.of("spec.trafficPolicy.tls: Invalid value: client certificate required for mutual tls",
                "spec.trafficPolicy.tls: Invalid value: private key required for mutual tls"),
                errors("{tls: {mode: MUTUAL, sni: a}}"));
        assertEquals(List.of("spec.subsets[0].trafficPolicy.tls: Invalid value: private key required for mutual tls",
                "spec.subsets[0].trafficPolicy.tls.clientCertificate: Forbidden: a file path in the proxy's pod, and "
                + "SourceMesh's pods have no volumes to read the client certificate from; name a kubernetes.io/tls Secret "
                + "in credentialName"),
                Validator.validate(YAML.readTree("""
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: sticky, namespace: default}
                spec:
                  host: app
                  subsets:
                  - name: v1
                    trafficPolicy: {tls: {mode: MUTUAL, sni: a, clientCertificate: /c.pem}}
                """)).stream().map(FieldError::message).toList());
    }

    private static List<String> scoped(String extra) throws Exception {
        return Validator.validate(YAML.readTree("""
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: scoped, namespace: shop}
                spec:
                  host: app
                %s""".formatted(extra.indent(2)))).stream().map(FieldError::message).toList();
    }

    /** Istio's validateExportTo for a DestinationRule (pkg/config/validation/validation.go), its messages. */
    @Test
    void exportToAsIstioValidatesIt() throws Exception {
        assertEquals(List.of(), scoped("exportTo: [., other]"));
        assertEquals(List.of(), scoped("exportTo: ['*']"));
        assertEquals(List.of("spec.exportTo[1]: Invalid value: duplicate entries in exportTo: . and current namespace shop"),
                scoped("exportTo: [shop, .]"));
        assertEquals(List.of("spec.exportTo[1]: Invalid value: duplicate entries in exportTo for entry shop"),
                scoped("exportTo: [., shop]"), "Istio names the entry as written when it is the second");
        assertEquals(List.of("spec.exportTo[1]: Invalid value: duplicate entries in exportTo for entry a"), scoped("exportTo: [a, a]"));
        assertEquals(List.of("spec.exportTo[0]: Invalid value: exportTo ~ (none) is not allowed for Istio configuration objects"),
                scoped("exportTo: ['~']"));
        assertEquals(List.of("spec.exportTo[0]: Invalid value: only .,*, or a valid DNS 1123 label is allowed as exportTo entry"),
                scoped("exportTo: [Not_A_Namespace]"));
        assertEquals(List.of("spec.exportTo: Invalid value: cannot have both public (*) and non-public exportTo values for a "
                + "resource"), scoped("exportTo: ['*', other]"));
    }

    /** A rule with a workloadSelector stays in its namespace (validateExportTo), its labels as validateWorkloadSelector. */
    @Test
    void aSelectorRuleIsExportedToItsOwnNamespaceOnly() throws Exception {
        assertEquals(List.of(), scoped("workloadSelector: {matchLabels: {app: a}}\nexportTo: [.]"));
        assertEquals(List.of("spec.exportTo: Invalid value: destination rule with workload selector cannot have exportTo beyond "
                + "current namespace"), scoped("workloadSelector: {matchLabels: {app: a}}\nexportTo: ['*']"));
        assertEquals(List.of("spec.exportTo: Invalid value: destination rule with workload selector cannot have multiple entries "
                + "in exportTo"), scoped("workloadSelector: {matchLabels: {app: a}}\nexportTo: [., other]"));
        assertEquals(List.of("spec.workloadSelector.matchLabels[app]: Invalid value: wildcard is not supported in selector: "
                + "\"app=a*\""), scoped("workloadSelector: {matchLabels: {app: a*}}"));
        SupportCheck.Findings f = SupportCheck.check(YAML.readTree("""
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: scoped, namespace: shop}
                spec:
                  host: app
                  workloadSelector: {}
                  exportTo: [.]
                """));
        assertEquals(List.of("spec.workloadSelector: workload selector specified without labels"), f.validationWarnings());
        assertEquals(List.of(), f.notImplemented(), "exportTo and workloadSelector are translated");
    }

    @Test
    void aTunnelNeedsAHostAndAPortAndIsConnectOnly() throws Exception {
        String at = "spec.trafficPolicy.tunnel";
        assertEquals(List.of(), errors("{tunnel: {protocol: CONNECT, targetHost: example.com, targetPort: 443}}"));
        assertEquals(List.of(), errors("{tunnel: {targetHost: \"10.0.0.1\", targetPort: 3128}}"), "unset protocol: CONNECT");
        assertEquals(List.of(), errors("{tunnel: {targetHost: Example.COM., targetPort: 443}}"), "labels of either case");
        assertEquals(List.of(at + ".protocol: Unsupported value: \"POST\": SourceMesh's proxy tunnels over HTTP/1.1 CONNECT only"),
                errors("{tunnel: {protocol: POST, targetHost: example.com, targetPort: 443}}"));
        assertEquals(List.of(at + ".protocol: Invalid value: \"GET\": tunnel protocol must be \"CONNECT\" or \"POST\""),
                errors("{tunnel: {protocol: GET, targetHost: example.com, targetPort: 443}}"));
        assertEquals(List.of(at + ".targetHost: Invalid value: \"\": tunnel target host must be a valid FQDN or IP address",
                at + ".targetPort: Invalid value: 0: tunnel target port is invalid: port number 0 must be in the range 1..65535"),
                errors("{tunnel: {}}"));
        assertEquals(List.of(at + ".targetHost: Invalid value: \"bad_host\": tunnel target host must be a valid FQDN or IP address"),
                errors("{tunnel: {targetHost: bad_host, targetPort: 443}}"));
    }
}
